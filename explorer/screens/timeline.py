"""The stream timeline: scrub one aggregate's history and see its state at every version.

Layout (fixed heights everywhere, so a slider step never re-lays out the screen): the
event list and the selected event's detail on the left; the state tree with changed
fields and blame, and a chart of one numeric field, on the right; the time slider across
the bottom.

How a slider step stays fast on a 100k-event stream:

* the arrow keys are *priority* bindings of this screen, so they reach the slider
  whatever has focus, and a key only moves the slider's number and the list cursor on the
  event loop -- cheap repaints;
* the state, changes, blame and event detail are computed in one thread worker from the
  engine's checkpoint cache and handed over as ready-made lines. Moves are *coalesced*:
  while a computation runs, further keys only update the wanted version, and when the
  result lands the newest wanted version is computed next (never a queue of stale ones);
* when idle, the worker prepares the version one more move ahead in the direction of the
  last move, so a steady stepper or playback finds each next state ready and it is drawn
  right after the slider's repaint, without waiting for the worker;
* the chart is built only when its field or size changes; the slider marker is overlaid
  on cached lines (see `FieldChart`).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from explorer.safe_text import shorten, visible_text
from explorer.screens.time_jump import JumpTarget, TimeJumpScreen
from explorer.screens.timeline_data import (
    Step,
    StreamOverview,
    compute_step,
    load_overview,
    load_series,
    path_label,
    version_at_time,
)
from explorer.widgets.event_detail import EventDetail
from explorer.widgets.event_list import EventList
from explorer.widgets.field_chart import FieldChart
from explorer.widgets.state_tree import StateTree
from explorer.widgets.time_slider import AXES, TimeSlider
from store.records import format_timestamp

STEP_CACHE = 32
"""Prepared steps kept; each holds the lines of one state and one event detail."""
SPEEDS = (1, 2, 5, 10, 20, 50, 100)
"""Playback speeds, events per second (`[` and `]` pick one)."""


class TimelineScreen(Screen[None]):
    """One stream's history with the time slider (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Step −1", priority=True, id="timeline.back"),
        Binding("right", "step(1)", "Step +1", priority=True, id="timeline.forward"),
        Binding(
            "shift+left", "step(-10)", "Step −10", priority=True, show=False, id="timeline.back10"
        ),
        Binding(
            "shift+right",
            "step(10)",
            "Step +10",
            priority=True,
            show=False,
            id="timeline.forward10",
        ),
        Binding("home", "first", "First event", priority=True, show=False, id="timeline.start"),
        Binding("end", "last", "Latest event", priority=True, show=False, id="timeline.end"),
        Binding("t", "jump_time", "Jump to time", id="timeline.jump"),
        Binding("a", "axis", "Axis", id="timeline.axis"),
        Binding("space", "play", "Play/pause", priority=True, id="timeline.play"),
        Binding(
            "left_square_bracket",
            "speed(-1)",
            "Play slower",
            key_display="[",
            show=False,
            id="timeline.slower",
        ),
        Binding(
            "right_square_bracket",
            "speed(1)",
            "Play faster",
            key_display="]",
            show=False,
            id="timeline.faster",
        ),
        Binding("d", "diff", "Diff", id="timeline.diff"),
        Binding("b", "blame", "Blame", id="timeline.blame"),
        Binding("f", "next_field", "Chart field", id="timeline.field"),
        Binding("e", "export_report", "Export report", id="timeline.export_report"),
    ]

    DEFAULT_CSS = """
    TimelineScreen {
        layout: vertical;
    }
    TimelineScreen #tl-header {
        height: 1;
        padding: 0 1;
        background: $boost;
        color: $text;
    }
    TimelineScreen #tl-body {
        height: 1fr;
    }
    TimelineScreen #tl-left {
        width: 46%;
        min-width: 36;
    }
    TimelineScreen #tl-right {
        width: 1fr;
    }
    TimelineScreen .tl-pane {
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 0 0 1;
    }
    TimelineScreen .tl-pane:focus, TimelineScreen .tl-pane:focus-within {
        border: round $primary;
    }
    TimelineScreen EventList {
        height: 1fr;
        padding: 0;
    }
    TimelineScreen EventDetail {
        height: 45%;
    }
    TimelineScreen StateTree {
        height: 1fr;
    }
    TimelineScreen FieldChart {
        height: 14;
        padding: 0;
    }
    TimelineScreen.-narrow FieldChart {
        height: 7;
    }
    TimelineScreen.-narrow EventDetail {
        height: 40%;
    }
    TimelineScreen.-narrow #tl-left {
        width: 42%;
    }
    """

    def __init__(self, stream_id: str, version: int | None = None) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.start_version = version
        self.version = -1
        """The version the slider is on (what is wanted; the panes follow)."""
        self.shown: Step | None = None
        """The step currently drawn in the panes."""
        self.timeline: Any = None
        self.overview: StreamOverview | None = None
        self._busy = False
        self._steps: OrderedDict[int, Step] = OrderedDict()
        """Prepared steps (the current version and its neighbours), newest last."""
        self._blame_ready = False
        self._direction = 1
        """The last move (+1, -10...): the worker prepares the version one such move on."""
        self._field_index = 0
        self._play_timer: Timer | None = None
        self.error: str | None = None

    # --- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from explorer.widgets.status_bar import StatusBar

        yield StatusBar(id="tl-status")
        yield Static(self._header_text(), id="tl-header")
        with Horizontal(id="tl-body"):
            with Vertical(id="tl-left"):
                events = EventList(id="tl-events", classes="tl-pane")
                events.border_title = "events"
                yield events
                detail = EventDetail(id="tl-detail", classes="tl-pane")
                detail.border_title = "event"
                yield detail
            with Vertical(id="tl-right"):
                state = StateTree(id="tl-state", classes="tl-pane")
                state.border_title = "state"
                yield state
                chart = FieldChart(id="tl-chart", classes="tl-pane")
                chart.border_title = "chart"
                yield chart
        yield TimeSlider(id="tl-slider")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 120 or self.size.height < 36, "-narrow")

    # --- widgets ------------------------------------------------------------------------
    @property
    def slider(self) -> TimeSlider:
        return self.query_one(TimeSlider)

    @property
    def state_tree(self) -> StateTree:
        return self.query_one(StateTree)

    @property
    def detail(self) -> EventDetail:
        return self.query_one(EventDetail)

    @property
    def event_list(self) -> EventList:
        return self.query_one(EventList)

    @property
    def chart(self) -> FieldChart:
        return self.query_one(FieldChart)

    # --- loading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="timeline-load", description="opening the stream")
    def _load(self) -> None:
        app: Any = self.app
        try:
            # The catalog row is instant: list the events and place the slider before the
            # engine's first pass over the stream (≈0.7 s per 100k events) has finished.
            info = app.source.stream_info(self.stream_id)
            if info is None:
                raise LookupError(f"there is no stream {self.stream_id!r} in this source")
            self.app.call_from_thread(self._listed, info.version)
            timeline, overview = load_overview(app.engine, app.source, self.stream_id)
        except Exception as exc:  # shown on the screen; the app keeps working
            self.app.call_from_thread(self._failed, _sentence(exc))
            return
        self.app.call_from_thread(self._loaded, timeline, overview)

    def _target(self, length: int) -> int:
        target = length if self.start_version is None else self.start_version
        return max(0, min(target, length))

    def _listed(self, length: int) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        target = self._target(length)
        self.slider.length = length
        self.slider.version = target
        self.event_list.show_stream(self.app.source, self.stream_id, length, target)
        self.event_list.border_subtitle = f"{length:,} events"
        self.event_list.focus()

    def _failed(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.error = message
        self.query_one("#tl-header", Static).update(Text(f" {message}", style="bold red"))
        self.notify(message, severity="error")

    def _loaded(self, timeline: Any, overview: StreamOverview) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.timeline = timeline
        self.overview = overview
        self.query_one("#tl-header", Static).update(self._header_text())
        slider = self.slider
        slider.length = overview.length
        slider.extent = {
            "recorded": overview.extent_recorded,
            "occurred": overview.extent_occurred,
        }
        target = self._target(overview.length)
        if overview.length != self.event_list.row_count:  # appended to meanwhile
            self._listed(overview.length)
        self.goto(target)  # the chart loads after the first full step (see _step_ready)

    def _header_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        overview = self.overview
        text.append("timeline ", style="dim")
        text.append(visible_text(shorten(self.stream_id, 80)), style="bold")
        if overview is not None:
            if overview.stream_type:
                text.append(f"  ({visible_text(overview.stream_type)})", style="dim")
            text.append(f"  ·  {overview.length:,} events", style="")
            if overview.extent_recorded:
                first, last = overview.extent_recorded
                text.append(
                    f"  ·  recorded {format_timestamp(first)[:19]} → {format_timestamp(last)[:19]}",
                    style="dim",
                )
        else:
            text.append("  ·  loading…", style="dim")
        return text

    # --- moving the slider --------------------------------------------------------------
    def goto(self, version: int) -> None:
        """Move the slider to `version` (clamped); the panes follow.

        A version the worker has already prepared (it prepares one move ahead, see
        `_pump`) is drawn right after the slider; any other is computed in the worker
        first.
        """
        if self.overview is None:
            return
        version = max(0, min(version, self.overview.length))
        if version == self.version:
            return
        move = version - self.version if self.version >= 0 else 1
        self._direction = move if abs(move) <= 10 else (1 if move > 0 else -1)
        self.version = version
        self.slider.version = version
        self.event_list.follow(version)
        self.chart.set_marker(version if version else None)
        ready = self._steps.get(version)
        if ready is not None:
            # Right after the slider's repaint, not in the same frame: under CPU contention
            # a frame holding every pane costs the slider label ~20 ms at the median.
            self.call_after_refresh(self._show_if_wanted, ready)
        else:
            self.slider.note = "computing…"
        # Start the worker after the slider's repaint: started now, it would contend for
        # the GIL with that very repaint (measured: p95 key → label 78-100 ms → 65 ms).
        self.call_after_refresh(self._pump)

    def _pump(self) -> None:
        """Give the worker the most useful job: the wanted version when it is not ready,
        otherwise the version one more move ahead (the likeliest next key)."""
        if self._busy or self.overview is None or not self.is_attached:
            return
        length = self.overview.length
        if self.version not in self._steps:
            wanted = [self.version]
        elif self._blame_ready:
            ahead = self.version + self._direction
            wanted = [ahead] if 0 <= ahead <= length and ahead not in self._steps else []
        else:
            wanted = []
        if wanted:
            self._busy = True
            self._compute(wanted)

    # Not `exclusive`: the busy flag already allows one at a time, and the next computation
    # is started from inside the previous one's result callback, which `exclusive` would
    # report as a cancellation of a worker that in fact completed.
    @work(thread=True, group="timeline-step", description="computing the state")
    def _compute(self, versions: list[int]) -> None:
        for index, version in enumerate(versions):
            if index and self.version not in self._steps and self.version not in versions:
                break  # the user moved on to a version nobody prepares: compute that next
            try:
                if not self._blame_ready:
                    # First paint: the state now, blame (one walk of the stream) right after.
                    partial = compute_step(self.timeline, version, with_blame=False)
                    self.app.call_from_thread(self._show_if_wanted, partial)
                step = compute_step(self.timeline, version)
            except Exception as exc:  # one bad version must not wedge the slider
                self.app.call_from_thread(self._step_failed, version, _sentence(exc))
                continue
            self.app.call_from_thread(self._step_ready, step)
        self.app.call_from_thread(self._compute_done)

    def _step_ready(self, step: Step) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self._steps[step.version] = step
        while len(self._steps) > STEP_CACHE:
            self._steps.popitem(last=False)
        self._show_if_wanted(step)
        if not self._blame_ready:
            self._blame_ready = True
            self._load_chart()  # after the first full step: the series walks the stream too

    def _show_if_wanted(self, step: Step) -> None:
        if self.is_attached and step.version == self.version:
            self._show(step)

    def _compute_done(self) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self._busy = False
        self._pump()

    def _step_failed(self, version: int, message: str) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        if version == self.version:
            self.slider.set_times(None, None, note=f"v{version}: {message}")

    def _show(self, step: Step) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.shown = step
        tree = self.state_tree
        tree.set_lines(step.state_lines, left_width=step.state_left_width)
        tree.reveal_changes()
        title = Text(f"state at v{step.version:,}")
        tree.border_title = title
        if step.version == 0:
            tree.border_subtitle = "before the first event"
        else:
            subtitle = f"{step.changes} field{'s' if step.changes != 1 else ''} changed"
            if not step.blamed:
                subtitle += " · blame: reading the history…"
            if step.skipped:
                subtitle += f" · {step.skipped} undecodable event(s) skipped"
            tree.border_subtitle = subtitle
        self.detail.show(step.detail_lines)
        detail_title = Text(f"event v{step.version:,}")
        if step.event_type:
            detail_title.append(f" · {visible_text(shorten(step.event_type, 40))}")
        self.detail.border_title = detail_title
        note = "" if step.version == self.version else "computing…"
        self.slider.set_times(step.recorded_at, step.occurred_at, note=note)

    # --- chart --------------------------------------------------------------------------
    def _load_chart(self) -> None:
        overview = self.overview
        if overview is None or not overview.numeric_paths:
            self.chart.set_series(None, "no numeric field in this stream's state to chart")
            return
        path = overview.numeric_paths[self._field_index % len(overview.numeric_paths)]
        self.chart.border_title = Text(f"{visible_text(path_label(path))} over versions")
        self.chart.border_subtitle = "f: next field" if len(overview.numeric_paths) > 1 else ""
        self.chart.set_series(None, f"reading {visible_text(path_label(path))}…")
        self._series_worker(path)

    @work(thread=True, exclusive=True, group="timeline-series", description="charting a field")
    def _series_worker(self, path: tuple[Any, ...]) -> None:
        try:
            series = load_series(self.timeline, path)
        except Exception as exc:
            self.app.call_from_thread(self.chart.set_series, None, _sentence(exc))
            return
        self.app.call_from_thread(self._series_ready, series)

    def _series_ready(self, series: Any) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.chart.set_series(series if series.xs else None, "the field has no numeric values")
        self.chart.set_marker(self.version if self.version else None)

    # --- actions ------------------------------------------------------------------------
    def action_step(self, delta: int) -> None:
        self.goto(self.version + delta)

    def action_first(self) -> None:
        self.goto(1 if self.version > 1 else 0)

    def action_last(self) -> None:
        if self.overview is not None:
            self.goto(self.overview.length)

    def action_axis(self) -> None:
        slider = self.slider
        slider.axis = AXES[(AXES.index(slider.axis) + 1) % len(AXES)]

    def action_blame(self) -> None:
        tree = self.state_tree
        tree.show_blame = not tree.show_blame
        self.notify("blame column " + ("shown" if tree.show_blame else "hidden"), timeout=2)

    def action_next_field(self) -> None:
        if self.overview and len(self.overview.numeric_paths) > 1:
            self._field_index += 1
            self._load_chart()

    def action_play(self) -> None:
        slider = self.slider
        if self._play_timer is not None:
            self._stop_playing()
            return
        if self.overview is None or not self.overview.length:
            return
        if self.version >= self.overview.length:
            self.goto(0)
        slider.playing = True
        self._play_timer = self.set_interval(1 / slider.speed, self._tick)

    def _stop_playing(self) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        self.slider.playing = False

    def _tick(self) -> None:
        if self.overview is None or self.version >= self.overview.length:
            self._stop_playing()
            return
        self.goto(self.version + 1)

    def action_speed(self, delta: int) -> None:
        slider = self.slider
        index = SPEEDS.index(slider.speed) if slider.speed in SPEEDS else 3
        slider.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, index + delta))]
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = self.set_interval(1 / slider.speed, self._tick)

    def action_jump_time(self) -> None:
        if self.overview is None:
            return
        axis = self.slider.axis
        shown = self.shown
        initial = ""
        if shown is not None and shown.version:
            moment = shown.occurred_at if axis == "occurred" else shown.recorded_at
            initial = format_timestamp(moment) if moment else ""
            if axis == "version":
                initial = str(shown.version)
        self.app.push_screen(TimeJumpScreen(axis, initial), self._jump_chosen)

    def _jump_chosen(self, target: JumpTarget | None) -> None:
        if target is None:
            return
        if isinstance(target, int):
            self.goto(target)
            return
        axis = self.slider.axis if self.slider.axis != "version" else "recorded"
        self._lookup_time(target, axis)

    @work(thread=True, exclusive=True, group="timeline-jump", description="finding the version")
    def _lookup_time(self, moment: datetime, axis: str) -> None:
        try:
            version = version_at_time(self.timeline, moment, axis)
        except Exception as exc:
            self.app.call_from_thread(self.notify, _sentence(exc), severity="error")
            return
        self.app.call_from_thread(self.goto, version)

    def action_diff(self) -> None:
        from explorer.screens.diff import DiffScreen

        if self.overview is None:
            return
        self.app.push_screen(DiffScreen(self.stream_id, version=max(self.version, 0)))

    def action_export_report(self) -> None:
        """Write an audit report of this stream at the slider's version (asks for a file)."""
        from explorer.screens.export_report import ExportReportScreen, default_report_name

        if self.overview is None:
            return
        version = max(self.version, 0)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._export_report(path, version)

        self.app.push_screen(
            ExportReportScreen(default_report_name(self.stream_id, version)), chosen
        )

    @work(thread=True, exclusive=True, group="timeline-export", description="writing a report")
    def _export_report(self, path: Path, version: int) -> None:
        """Render with the same code as `eventscope report`, write atomically, and note the
        export in the access log (the audit tool is itself auditable)."""
        from domain.evidence import render_report
        from domain.evidence.access_log import record_access
        from explorer.atomic_file import write_bytes_atomically
        from explorer.screens.export_report import report_format

        app: Any = self.app
        fmt = report_format(path)
        try:
            text = render_report(app.engine, self.stream_id, version=version, fmt=fmt)
            written = write_bytes_atomically(path, text.encode("utf-8"))
        except Exception as exc:  # one sentence for the user; nothing half-written
            app.call_from_thread(self.notify, _sentence(exc), severity="error")
            return
        try:
            record_access(None, f"report-{fmt}", app.source.describe().location, self.stream_id)
        except Exception as exc:  # the report is written; say the log could not be
            app.call_from_thread(
                self.notify, f"access log not updated: {_sentence(exc)}", severity="warning"
            )
        app.call_from_thread(
            self.notify, visible_text(f"Report written to {written}"), title="Export report"
        )

    @on(EventList.Picked)
    def _picked(self, event: EventList.Picked) -> None:
        self.goto(event.version)

    @on(TimeSlider.Seek)
    def _seek(self, event: TimeSlider.Seek) -> None:
        overview = self.overview
        if overview is None:
            return
        axis = self.slider.axis
        extent = overview.extent_recorded if axis == "recorded" else overview.extent_occurred
        if axis == "version" or extent is None:
            self.goto(round(event.fraction * overview.length))
            return
        start, end = extent
        self._lookup_time(start + (end - start) * event.fraction, axis)

    def correlation_id_in_focus(self) -> str | None:
        """The selected event's correlation id, for the app's `c` (correlation trace)."""
        return self.shown.correlation_id if self.shown is not None else None

    def on_unmount(self) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None


def _sentence(exc: BaseException) -> str:
    """One line for the user, whatever the exception."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return visible_text(shorten(text, 200))
