"""The time slider: where in a stream's history the timeline is, on one of three axes.

Bitemporal on purpose: the *version* axis orders events as the stream recorded them, the
*recorded* axis places them at transaction time ("what did we know at R"), the *occurred*
axis at business time (backdated events jump backwards there, which is the point of
showing it). Stepping is always event by event; the axis decides the scale of the track,
the labels, and how a typed time is read (`t`).

The widget draws two fixed lines and owns no keys: the timeline screen binds the arrows
with priority so they reach the slider whatever has focus, and repainting it never
re-lays out the screen. A click on the track posts `TimeSlider.Seek` with the fraction.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from eventscope.explorer.widgets.state_tree import format_time
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

Axis = Literal["version", "recorded", "occurred"]
AXES: tuple[Axis, ...] = ("version", "recorded", "occurred")


def version_label(version: int, length: int) -> str:
    """The label the benchmark and tests look for: ``v 1,234 / 100,000``."""
    return f"v {version:,} / {length:,}"


class TimeSlider(Widget):
    """A two-line slider: a track with a thumb, and a label line (see module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "time-slider--track",
        "time-slider--done",
        "time-slider--thumb",
        "time-slider--label",
        "time-slider--muted",
        "time-slider--axis",
    }

    DEFAULT_CSS = """
    TimeSlider {
        height: 2;
        padding: 0 1;
        background: $panel;
    }
    TimeSlider > .time-slider--track { color: $foreground-darken-3; }
    TimeSlider > .time-slider--done { color: $primary; }
    TimeSlider > .time-slider--thumb { color: $accent; text-style: bold; }
    TimeSlider > .time-slider--label { color: $foreground; text-style: bold; }
    TimeSlider > .time-slider--muted { color: $text-muted; }
    TimeSlider > .time-slider--axis { color: $text-accent; text-style: bold; }
    """

    version: reactive[int] = reactive(0)
    """The selected version (0 = before the first event)."""
    length: reactive[int] = reactive(0)
    """The stream's number of events."""
    axis: reactive[Axis] = reactive("version")
    """Which axis the track is scaled on."""
    playing: reactive[bool] = reactive(False)
    """Whether playback is running."""
    speed: reactive[int] = reactive(10)
    """Playback speed in events per second."""

    class Seek(Message):
        """The track was clicked at `fraction` (0..1) of its width."""

        def __init__(self, fraction: float) -> None:
            self.fraction = fraction
            super().__init__()

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.recorded_at: datetime | None = None
        self.occurred_at: datetime | None = None
        self.extent: dict[str, tuple[datetime, datetime] | None] = {
            "recorded": None,
            "occurred": None,
        }
        self.note = ""
        """A short status after the label (e.g. "computing…", "3 events skipped")."""

    def set_times(
        self, recorded_at: datetime | None, occurred_at: datetime | None, note: str = ""
    ) -> None:
        """Times of the event at the current version, once the worker has them."""
        self.recorded_at = recorded_at
        self.occurred_at = occurred_at
        self.note = note
        self.refresh()

    # --- geometry -----------------------------------------------------------------------
    def fraction(self) -> float:
        """Where the thumb sits, 0..1, on the current axis."""
        if self.axis == "version" or self.version == 0:
            return self.version / self.length if self.length else 0.0
        extent = self.extent.get(self.axis)
        moment = self.recorded_at if self.axis == "recorded" else self.occurred_at
        if extent is None or moment is None:
            return self.version / self.length if self.length else 0.0
        start, end = extent
        span = (end - start).total_seconds()
        if span <= 0:
            return 1.0
        return min(1.0, max(0.0, (moment - start).total_seconds() / span))

    def _track_width(self) -> int:
        return max(4, self.content_region.width - 2)

    # --- rendering ----------------------------------------------------------------------
    def render(self) -> Text:
        style = self.get_component_rich_style
        width = self._track_width()
        thumb = round(self.fraction() * (width - 1))
        track = Text(no_wrap=True, overflow="crop")
        track.append("├", style("time-slider--track"))
        track.append("━" * thumb, style("time-slider--done"))
        track.append("●", style("time-slider--thumb"))
        track.append("─" * (width - 1 - thumb), style("time-slider--track"))
        track.append("┤", style("time-slider--track"))

        label = Text(no_wrap=True, overflow="ellipsis")
        narrow = self.content_region.width < 100
        label.append(version_label(self.version, self.length), style("time-slider--label"))
        # Narrow: shorter words and minutes, so both times and the axis fit in 78 cells.
        size = 16 if narrow else 19
        if self.recorded_at is not None and self.version:
            label.append("  rec " if narrow else "   recorded ", style("time-slider--muted"))
            label.append(format_time(self.recorded_at)[:size], self._axis_style("recorded"))
        if self.occurred_at is not None and self.version:
            label.append("  occ " if narrow else "   occurred ", style("time-slider--muted"))
            label.append(format_time(self.occurred_at)[:size], self._axis_style("occurred"))
        label.append("  " if narrow else "   axis ", style("time-slider--muted"))
        label.append(self.axis, style("time-slider--axis"))
        label.append("  " if narrow else "   ", style("time-slider--muted"))
        if self.playing:
            label.append(
                f"▶ {self.speed}/s" if narrow else f"▶ playing {self.speed}/s",
                style("time-slider--axis"),
            )
        else:
            label.append(
                "paused" if narrow else f"paused · {self.speed}/s", style("time-slider--muted")
            )
        if self.note:
            label.append(f"  {self.note}", style("time-slider--muted"))
        return Text("\n").join([track, label])

    def _axis_style(self, axis: str):  # -> a Rich Style
        if self.axis == axis:
            return self.get_component_rich_style("time-slider--axis")
        return self.get_component_rich_style("time-slider--label")

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y != 0:
            return
        width = self._track_width()
        self.post_message(self.Seek(min(1.0, max(0.0, (offset.x - 1) / max(1, width - 1)))))
