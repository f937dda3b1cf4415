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
* the chart is built only when its field, axis or size changes; the slider marker is
  overlaid on cached lines (see `FieldChart`).

At 80×24 (or any screen under 120×36) the layout is deliberate rather than squeezed: the
event list across the top, and below it one pane at full width -- the state with its
blame, the selected event, or the chart -- switched with `p`.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from eventscope.explorer.integrity_marks import app_marks
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.screens import whatif
from eventscope.explorer.screens.time_jump import JumpTarget, TimeJumpScreen
from eventscope.explorer.screens.timeline_data import (
    FieldData,
    Step,
    StreamOverview,
    compute_business_step,
    compute_step,
    event_view,
    load_overview,
    load_series,
    numeric_paths,
    path_label,
    version_at_time,
)
from eventscope.explorer.screens.whatif_compare import WhatIfCompare
from eventscope.explorer.widgets.event_detail import EventDetail, with_integrity_mark
from eventscope.explorer.widgets.event_list import EventList
from eventscope.explorer.widgets.field_chart import FieldChart
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.state_tree import StateTree
from eventscope.explorer.widgets.time_slider import AXES, TimeSlider
from eventscope.explorer.wording import plural, screen_sentence
from eventscope.store.records import format_timestamp
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

STEP_CACHE = 32
"""Prepared steps kept; each holds the lines of one state and one event detail."""
SPEEDS = (1, 2, 5, 10, 20, 50, 100)
"""Playback speeds, events per second (`[` and `]` pick one)."""


STEP = Binding.Group("Step")
PANES = ("state", "event", "chart")
"""The lower pane of the narrow layout, in the order `p` cycles through them."""


class TimelineScreen(Screen[None]):
    """One stream's history with the time slider (see the module docstring)."""

    HELP_TITLE = "Stream timeline"
    HELP_TEXT = (
        "One stream's history. The slider picks a moment; the state pane shows the state "
        "then, the fields the selected event changed and, in the blame column, which event "
        "and actor last set each field. Put the state pane's cursor on a field and press h "
        "for every change of that field, or y to copy its value. The axis key switches the "
        "slider between versions, recorded time and occurred (business) time."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Step −1", priority=True, id="timeline.back", group=STEP),
        Binding("right", "step(1)", "Step +1", priority=True, id="timeline.forward", group=STEP),
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
        Binding(
            "p",
            "pane",
            "Pane",
            tooltip="Show the next pane below the list: state, event, chart",
            id="timeline.pane",
        ),
        Binding(
            "t", "jump_time", "Jump", tooltip="Jump to a typed time or version", id="timeline.jump"
        ),
        Binding(
            "a",
            "axis",
            "Axis",
            tooltip="Slider axis: version, recorded time, occurred (business) time",
            id="timeline.axis",
        ),
        Binding("space", "play", "Play", tooltip="Play / pause", priority=True, id="timeline.play"),
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
        Binding(
            "h",
            "field_history",
            "History",
            tooltip="Every change of the field under the state pane's cursor",
            id="timeline.field_history",
        ),
        Binding(
            "d", "diff", "Diff", tooltip="Diff this version (or a snapshot)", id="timeline.diff"
        ),
        Binding("b", "blame", "Blame", tooltip="Show / hide the blame column", id="timeline.blame"),
        Binding(
            "f", "next_field", "Field", tooltip="Chart the next numeric field", id="timeline.field"
        ),
        Binding(
            "e",
            "export_report",
            "Report",
            tooltip="Export an audit report of this stream at this version",
            id="timeline.export_report",
        ),
        *whatif.BINDINGS,
    ]

    DEFAULT_CSS = (
        """
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
    /* Narrow (80x24): the list across the top, one pane at full width below it. */
    TimelineScreen.-narrow #tl-body {
        layout: vertical;
    }
    TimelineScreen.-narrow #tl-left {
        width: 100%;
        min-width: 0;
        height: auto;
    }
    TimelineScreen.-narrow EventList {
        height: 9;
    }
    TimelineScreen.-narrow EventDetail {
        display: none;
    }
    TimelineScreen.-narrow #tl-right {
        width: 100%;
        height: 1fr;
    }
    TimelineScreen.-narrow FieldChart {
        display: none;
    }
    TimelineScreen.-narrow.-pane-event #tl-left {
        height: 1fr;
    }
    TimelineScreen.-narrow.-pane-event EventDetail {
        display: block;
        height: 1fr;
    }
    TimelineScreen.-narrow.-pane-event #tl-right {
        display: none;
    }
    TimelineScreen.-narrow.-pane-chart StateTree {
        display: none;
    }
    TimelineScreen.-narrow.-pane-chart FieldChart {
        display: block;
        height: 1fr;
    }
    """
        + whatif.CSS
    )

    def __init__(self, stream_id: str, version: int | None = None) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.start_version = version
        self.version = -1
        """The version the slider is on (what is wanted; the panes follow)."""
        self.shown: Step | None = None
        """The step currently drawn in the panes."""
        self._marks_shown: dict[int, str] = {}
        """The integrity marks the event list was painted with (see `on_screen_resume`)."""
        self.timeline: Any = None
        self.overview: StreamOverview | None = None
        self._busy = False
        self._steps: OrderedDict[int, Step] = OrderedDict()
        """Prepared steps (the current version and its neighbours), newest last."""
        self._blame_ready = False
        self._direction = 1
        """The last move (+1, -10...): the worker prepares the version one such move on."""
        self._field_index = 0
        self._field: FieldData | None = None
        self._play_timer: Timer | None = None
        self.error: str | None = None
        self.pane = "state"
        """The lower pane in the narrow layout: state, event or chart (`p` cycles)."""
        self.what_if: Any = None
        """The active what-if (`domain.whatif.WhatIf`), or None: the evidence is shown."""
        self.actual_timeline: Any = None
        self.actual_overview: StreamOverview | None = None
        self.known_at: datetime | None = None
        """On the occurred axis: as known at R (None = everything recorded)."""
        self.as_of: datetime | None = None
        """On the occurred axis: a business time typed with `t` (None = the occurred
        time of the selected event)."""
        self._occurred_axis = False  # the slider's axis is "occurred" (kept by action_axis)
        self.history_note: str | None = None
        """What the source says about the stream's stored history (`_load`), or None."""
        self.chart_title = "chart"
        """The chart's title as plain words (a what-if puts its label in front of it)."""

    @property
    def mode(self) -> tuple[Any, ...]:
        """The question the panes answer: a version, or business time (O, R)."""
        if self._occurred_axis:
            return ("occurred", self.as_of, self.known_at)
        return ("version",)

    def _mode_changed(self) -> None:
        """Prepared steps answer another question now: recompute the one in view."""
        self._steps.clear()
        if self.overview is None or self.version < 0:
            return
        self.slider.note = "computing…"
        self.call_after_refresh(self._pump)

    # --- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from eventscope.explorer.widgets.status_bar import StatusBar

        yield StatusBar(id="tl-status")
        yield Static(self._header_text(), id="tl-header")
        yield whatif.WhatIfBanner(id="tl-whatif")
        yield WhatIfCompare(id="tl-whatif-compare")
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
        yield KeyFooter()

    def on_mount(self) -> None:
        self._load()
        self.watch(self.app, "data_version", self._data_changed, init=False)

    def on_screen_resume(self) -> None:
        """Back on this screen, e.g. from the integrity screen: a walk may have found
        altered events since the list was painted, and a reviewer must see their marks
        here too, not only on screens opened after the walk."""
        marks = dict(app_marks(self.app))
        if marks == self._marks_shown or not self.slider.length:
            return
        self._marks_shown = marks
        self.event_list.show_stream(
            self.app.source, self.stream_id, self.slider.length, self.slider.version, marks
        )
        if self.shown is not None:
            self._show(self.shown)

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def on_resize(self) -> None:
        narrow = self.size.width < 120 or self.size.height < 36
        if narrow != self.narrow:
            self.set_class(narrow, "-narrow")
            self.refresh_bindings()
        self.query_one("#tl-header", Static).update(self._header_text())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pane":
            return self.narrow
        if action == "next_field":
            overview = self.overview
            return bool(overview and len(overview.numeric_paths) > 1) or None
        return True

    def action_pane(self) -> None:
        """Narrow layout: show the next pane below the list (state → event → chart)."""
        self.pane = PANES[(PANES.index(self.pane) + 1) % len(PANES)]
        for name in PANES[1:]:
            self.set_class(self.pane == name, f"-pane-{name}")
        pane = {"state": self.state_tree, "event": self.detail, "chart": None}[self.pane]
        if pane is not None:
            pane.focus()
        self.notify(f"showing the {self.pane} pane (p: next)", timeout=2)

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
            # A source may say something about the stream's stored history (Eventuous:
            # "history before position N was truncated"); the header shows it.
            self.history_note = getattr(info, "history_note", None)
            self.app.call_from_thread(self._listed, info.version)
            timeline, overview = load_overview(app.engine, app.source, self.stream_id)
        except Exception as exc:  # shown on the screen; the app keeps working
            self.app.call_from_thread(self._failed, screen_sentence(exc))
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
        self._marks_shown = dict(app_marks(self.app))
        self.event_list.show_stream(
            self.app.source, self.stream_id, length, target, self._marks_shown
        )
        self.event_list.border_subtitle = plural(length, "event")
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
        self.refresh_bindings()  # `f Field` depends on the overview's numeric fields
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
        narrow = self.size.width and self.size.width < 120
        text.append("timeline ", style="dim")
        text.append(visible_text(shorten(self.stream_id, 80)), style="bold")
        if overview is not None:
            if overview.stream_type:
                text.append(f"  ({visible_text(overview.stream_type)})", style="dim")
            text.append(f"  ·  {plural(overview.length, 'event')}", style="")
            if self.history_note:  # before the times: it must not be cut off
                text.append(f"  ·  ⚠ {visible_text(self.history_note)}", style="bold #f0b35a")
            if overview.extent_recorded_text and not narrow:
                first_text, last_text = overview.extent_recorded_text  # "unknown" if not recorded
                text.append(f"  ·  recorded {first_text} → {last_text}", style="dim")
        else:
            text.append("  ·  loading…", style="dim")
        return text

    # --- new events (follow mode, refresh) ---------------------------------------------
    def _data_changed(self, _version: int) -> None:
        if self.timeline is not None:
            self._refresh_stream()

    @work(thread=True, exclusive=True, group="timeline-refresh", description="new events")
    def _refresh_stream(self) -> None:
        """Fold the events appended since the stream was opened (`Timeline.refresh`)."""
        timeline = self.timeline
        try:
            length = int(timeline.refresh())
            last = event_view(timeline.event(length)).record if length else None
            paths = numeric_paths(timeline, length) if length else []
        except Exception as exc:
            self.app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
            return
        self.app.call_from_thread(self._grew, length, last, paths)

    def _grew(self, length: int, last: Any, paths: list[tuple[Any, ...]]) -> None:
        overview = self.overview
        if not self.is_attached or overview is None or length <= overview.length:
            return
        at_end = self.version == overview.length
        overview.length = length
        if last is not None and overview.extent_recorded:
            overview.extent_recorded = (overview.extent_recorded[0], last.recorded_at)
            low, high = overview.extent_occurred or (last.occurred_at, last.occurred_at)
            overview.extent_occurred = (min(low, last.occurred_at), max(high, last.occurred_at))
        overview.numeric_paths = paths or overview.numeric_paths
        slider = self.slider
        slider.length = length
        slider.extent = {
            "recorded": overview.extent_recorded,
            "occurred": overview.extent_occurred,
        }
        self.event_list.grow(length)
        self.event_list.border_subtitle = plural(length, "event")
        self.query_one("#tl-header", Static).update(self._header_text())
        self._load_chart()
        if at_end:  # like `tail -f`: the latest stays in view
            self.goto(length)

    # --- moving the slider --------------------------------------------------------------
    def goto(self, version: int, as_of: datetime | None = None) -> None:
        """Move the slider to `version` (clamped); the panes follow. On the occurred axis
        `as_of` is a typed business time (else the selected event's occurred_at is).

        A version the worker has already prepared (it prepares one move ahead, see
        `_pump`) is drawn right after the slider; any other is computed in the worker
        first.
        """
        if self.overview is None:
            return
        version = max(0, min(version, self.overview.length))
        if as_of != self.as_of:
            self.as_of = as_of
            if self._occurred_axis:
                self._mode_changed()
                if version == self.version:
                    return
        if version == self.version:
            return
        move = version - self.version if self.version >= 0 else 1
        self._direction = move if abs(move) <= 10 else (1 if move > 0 else -1)
        self.version = version
        self.slider.version = version
        self.event_list.follow(version)
        if self.slider.axis == "version":
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
            self._compute(wanted, self.mode)

    # Not `exclusive`: the busy flag already allows one at a time, and the next computation
    # is started from inside the previous one's result callback, which `exclusive` would
    # report as a cancellation of a worker that in fact completed.
    @work(thread=True, group="timeline-step", description="computing the state")
    def _compute(self, versions: list[int], mode: tuple[Any, ...] = ("version",)) -> None:
        for index, version in enumerate(versions):
            if index and self.version not in self._steps and self.version not in versions:
                break  # the user moved on to a version nobody prepares: compute that next
            try:
                if mode[0] == "occurred":
                    # The business-time axis: the state as of (O, R) at this event.
                    step = compute_business_step(
                        self.timeline, version, known_at=mode[2], as_of=mode[1]
                    )
                    self.app.call_from_thread(self._step_ready, step)
                    continue
                if not self._blame_ready:
                    # First paint: the state now, blame (one walk of the stream) right after.
                    partial = compute_step(self.timeline, version, with_blame=False)
                    self.app.call_from_thread(self._show_if_wanted, partial)
                step = compute_step(self.timeline, version)
            except Exception as exc:  # one bad version must not wedge the slider
                self.app.call_from_thread(self._step_failed, version, screen_sentence(exc))
                continue
            self.app.call_from_thread(self._step_ready, step)
        self.app.call_from_thread(self._compute_done)

    def _step_ready(self, step: Step) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        if step.mode != self.mode:  # answered a question no longer asked
            return
        self._steps[step.version] = step
        while len(self._steps) > STEP_CACHE:
            self._steps.popitem(last=False)
        self._show_if_wanted(step)
        if not self._blame_ready:
            self._blame_ready = True
            self._load_chart()  # after the first full step: the series walks the stream too

    def _show_if_wanted(self, step: Step) -> None:
        if self.is_attached and step.version == self.version and step.mode == self.mode:
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
        keep = tree.cursor_path if tree.has_focus else None
        tree.show_state(step.state_lines, step.state_left_width, keep)
        title = Text(f"state at v{step.version:,}")
        tree.border_title = title
        self.event_list.set_business(step.applied, step.as_of, step.known_at, step.refused)
        header = self._header_text()
        if step.applied is not None:
            header = Text(no_wrap=True, overflow="ellipsis")
            if self.narrow:  # both times must fit in 78 columns: O and R, to the minute
                header.append(visible_text(shorten(self.stream_id, 24)), style="bold")
                header.append(f" · {_business_short(step)}", style="bold")
            else:
                header.append("timeline ", style="dim")
                header.append(visible_text(shorten(self.stream_id, 60)), style="bold")
                header.append(f"  ·  {step.business}", style="bold")
            tree.border_title = Text(f"state as of business time · {len(step.applied)} applied")
            subtitle = "in occurred order · dimmed: not happened yet or not known yet"
            if step.refused:
                first = step.refused[0]
                subtitle += (
                    f" · v{first.version} {visible_text(shorten(first.event_type, 24))} "
                    f"could not be applied: {visible_text(shorten(first.reason, 80))}"
                )
                if len(step.refused) > 1:
                    subtitle += f" (+{len(step.refused) - 1} more)"
            tree.border_subtitle = subtitle
        elif step.version == 0:
            tree.border_subtitle = "before the first event"
        else:
            subtitle = f"{plural(step.changes, 'field')} changed"
            if not step.blamed:
                subtitle += " · blame: reading the history…"
            if step.skipped:
                subtitle += f" · {plural(step.skipped, 'undecodable event')} skipped"
            tree.border_subtitle = subtitle
        self.query_one("#tl-header", Static).update(header)
        mark = app_marks(self.app).get(step.position) if step.position is not None else None
        self.detail.show(with_integrity_mark(step.detail_lines, mark))
        detail_title = Text(f"event v{step.version:,}")
        if step.event_type:
            detail_title.append(f" · {visible_text(shorten(step.event_type, 40))}")
        self.detail.border_title = detail_title
        note = "" if step.version == self.version else "computing…"
        self.slider.set_times(step.recorded_at, step.occurred_at, note=note)
        self._place_marker()
        whatif.decorate(self, step)

    # --- chart --------------------------------------------------------------------------
    def _load_chart(self) -> None:
        overview = self.overview
        if overview is None or not overview.numeric_paths:
            self.chart.set_series(None, "no numeric field in this stream's state to chart")
            return
        path = overview.numeric_paths[self._field_index % len(overview.numeric_paths)]
        self._chart_title(path)
        self.chart.border_subtitle = "f: next field" if len(overview.numeric_paths) > 1 else ""
        self.chart.set_series(None, f"reading {visible_text(path_label(path))}…")
        whatif.decorate_chart(self)
        self._series_worker(path)

    def _chart_title(self, path: tuple[Any, ...]) -> None:
        axis = self.slider.axis
        over = "over versions" if axis == "version" else f"over {axis} time"
        field = self._field
        unit = f" ({visible_text(field.unit_name)})" if field and field.unit_name else ""
        self.chart_title = f"{visible_text(path_label(path))}{unit} {over}"
        self.chart.border_title = Text(self.chart_title)
        whatif.decorate_chart(self)  # a what-if chart keeps its label when the title changes

    @work(thread=True, exclusive=True, group="timeline-series", description="charting a field")
    def _series_worker(self, path: tuple[Any, ...]) -> None:
        app: Any = self.app
        try:
            field = load_series(self.timeline, path, app.engine)
        except Exception as exc:
            self.app.call_from_thread(self.chart.set_series, None, screen_sentence(exc))
            return
        self.app.call_from_thread(self._series_ready, field)

    def _series_ready(self, field: FieldData) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self._field = field
        self._chart_title(field.path)
        self._draw_series()

    def _draw_series(self) -> None:
        field = self._field
        if field is None:
            return
        series = field.series(self.slider.axis)
        self.chart.set_series(series if series.xs else None, "the field has no numeric values")
        self._place_marker()

    def _place_marker(self) -> None:
        """The chart's marker at the slider: a version, or the selected event's time."""
        axis = self.slider.axis
        if axis == "version" or not self.version:
            self.chart.set_marker(self.version if self.version else None)
            return
        shown = self.shown
        if shown is None or shown.version != self.version:
            return
        moment = shown.recorded_at if axis == "recorded" else shown.occurred_at
        self.chart.set_marker(moment.timestamp() if moment else None)

    # --- actions ------------------------------------------------------------------------
    def action_step(self, delta: int) -> None:
        self.goto(self.version + delta)  # stepping: as of each event's business time

    def action_first(self) -> None:
        self.goto(1 if self.version > 1 else 0)

    def action_last(self) -> None:
        if self.overview is not None:
            self.goto(self.overview.length)

    def action_axis(self) -> None:
        slider = self.slider
        before = self.mode
        slider.axis = AXES[(AXES.index(slider.axis) + 1) % len(AXES)]
        if self._field is not None:  # the chart follows the axis
            self._chart_title(self._field.path)
            self._draw_series()
        self._occurred_axis = slider.axis == "occurred"
        if self.mode != before:
            self._mode_changed()

    def action_blame(self) -> None:
        tree = self.state_tree
        tree.show_blame = not tree.show_blame
        self.notify("blame column " + ("shown" if tree.show_blame else "hidden"), timeout=2)

    def action_next_field(self) -> None:
        if self.overview and len(self.overview.numeric_paths) > 1:
            self._field_index += 1
            self._field = None
            self._load_chart()

    def action_field_history(self) -> None:
        """Every event that changed the field under the state pane's cursor."""
        from eventscope.explorer.screens.field_history import FieldHistoryScreen

        path = self.state_tree.cursor_path
        if self.timeline is None or path is None:
            self.notify("put the state pane's cursor on a field first (tab, ↑↓)", timeout=4)
            return
        self.app.push_screen(FieldHistoryScreen(self.stream_id, path, self.timeline))

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
            if axis == "occurred" and shown.as_of is not None:
                moment = shown.as_of
            initial = format_timestamp(moment) if moment else ""
            if axis == "occurred" and self.known_at is not None:
                initial += " @ " + format_timestamp(self.known_at)
            if axis == "version":
                initial = str(shown.version)
        self.app.push_screen(TimeJumpScreen(axis, initial), self._jump_chosen)

    def _jump_chosen(self, target: JumpTarget | None) -> None:
        if target is None:
            return
        if isinstance(target, int):
            self.goto(target)
            return
        if isinstance(target, tuple):  # the occurred axis: as of O, as known at R
            as_of, known_at = target
            if known_at != self.known_at:
                self.known_at = known_at
                self._mode_changed()
            self._lookup_business(as_of, known_at)
            return
        axis = self.slider.axis if self.slider.axis != "version" else "recorded"
        self._lookup_time(target, axis)

    @work(thread=True, exclusive=True, group="timeline-jump", description="finding the moment")
    def _lookup_business(self, as_of: datetime, known_at: datetime | None) -> None:
        """Select the last event applied as of business time O (as known at R)."""
        try:
            result = self.timeline.state_as_of(as_of, known_at)
            applied = result.applied_versions or ()
            version = applied[-1] if applied else 0
        except Exception as exc:
            self.app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
            return
        self.app.call_from_thread(self.goto, version, as_of)

    @work(thread=True, exclusive=True, group="timeline-jump", description="finding the version")
    def _lookup_time(self, moment: datetime, axis: str) -> None:
        try:
            version = version_at_time(self.timeline, moment, axis)
        except Exception as exc:
            self.app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
            return
        self.app.call_from_thread(self.goto, version)

    def action_diff(self) -> None:
        from eventscope.explorer.screens.diff import DiffScreen

        if self.overview is None:
            return
        self.app.push_screen(DiffScreen(self.stream_id, version=whatif.original_row(self)))

    def action_export_report(self) -> None:
        """Write an audit report of this stream at the slider's version (asks for a file)."""
        from eventscope.explorer.screens.export_report import (
            ExportReportScreen,
            default_report_name,
        )

        if self.overview is None:
            return
        version = whatif.original_row(self)

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
        from eventscope.domain.evidence import render_report
        from eventscope.domain.evidence.access_log import record_access
        from eventscope.explorer.atomic_file import write_bytes_atomically
        from eventscope.explorer.screens.export_report import report_format

        app: Any = self.app
        fmt = report_format(path)
        try:
            edits = self.what_if.edits if self.what_if is not None else None
            text = render_report(
                app.engine, self.stream_id, version=version, fmt=fmt, what_if=edits
            )
            written = write_bytes_atomically(path, text.encode("utf-8"))
        except Exception as exc:  # one sentence for the user; nothing half-written
            app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
            return
        try:
            record_access(None, f"report-{fmt}", app.source.describe().location, self.stream_id)
        except Exception as exc:  # the report is written; say the log could not be
            app.call_from_thread(
                self.notify, f"access log not updated: {screen_sentence(exc)}", severity="warning"
            )
        app.call_from_thread(
            self.notify, visible_text(f"Report written to {written}"), title="Export report"
        )

    # --- what-if (see `explorer.screens.whatif`) ----------------------------------------
    def action_what_if_skip(self) -> None:
        whatif.toggle_skip(self)

    def action_what_if_insert(self) -> None:
        whatif.ask_insert(self)

    def action_what_if_edit(self) -> None:
        whatif.ask_edit(self)

    def action_what_if_diff(self) -> None:
        whatif.show_diff(self)

    def action_what_if_clear(self) -> None:
        whatif.clear(self)

    def action_what_if_world(self) -> None:
        whatif.open_world(self)

    @on(EventList.Picked)
    def _picked(self, event: EventList.Picked) -> None:
        self.goto(event.version)  # a picked event: as of its own business time

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


def _business_short(step: Step) -> str:
    """ "business 2026-02-19 16:00 · known at 2026-03-01 12:00" (or "· known: all") for
    the narrow header; the wide one spells the question out (`business_time_words`)."""
    as_of = format_timestamp(step.as_of)[:16].replace("T", " ") if step.as_of else "?"
    if step.known_at is None:
        return f"business {as_of} · known: everything recorded"
    return f"business {as_of} · known at {format_timestamp(step.known_at)[:16].replace('T', ' ')}"
