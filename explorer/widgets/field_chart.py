"""A plotext chart of one numeric field over a stream's history, with a marker at the slider.

Why it is built this way: a plotext build costs ≈50 ms at 160×48 (research/tui-testing.md
§4), far over a slider step's budget. So the chart is built *only* when the series or the
size changes, in a thread worker, on a private plotext figure; the marker is not part of
the plotext build at all. The widget keeps the built lines as `Strip`s and overlays the
marker column itself, using the canvas geometry plotext computed (canvas columns and x
limits), so moving the marker is a repaint of cached lines -- no plotext call. Rebuilds
are coalesced: while one is running, only the newest request is remembered.

Long series are reduced to a min/max pair per canvas column before plotting, which keeps
spikes visible and the build time independent of the stream's length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventscope.explorer.safe_text import shorten, visible_text
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.strip import Strip
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot


@dataclass(frozen=True, slots=True)
class Series:
    """Points of one field; `label` names it. x is a version, or (`x_is_time`) a moment as
    seconds since the epoch, so the chart follows the slider's axis. `unit` formats the
    y axis (cents as money); the values stay as stored."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    x_is_time: bool = False
    unit: Any = None
    unit_name: str = ""

    def y_label(self, value: float, span: float) -> str:
        if self.unit is not None:
            return str(self.unit.format(value))
        return _number(value, span)


@dataclass(frozen=True, slots=True)
class _Built:
    lines: list[Text]
    col_start: int
    canvas_width: int
    canvas_lines: range
    xlim: tuple[float, float]
    size: tuple[int, int]
    key: tuple[Any, ...]


def reduce_series(xs: Sequence[float], ys: Sequence[float], buckets: int) -> tuple[list, list]:
    """At most ~2 points per bucket (the min and the max), in x order."""
    count = len(xs)
    if count <= buckets * 2 or buckets <= 0:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    step = count / buckets
    for bucket in range(buckets):
        start, end = int(bucket * step), int((bucket + 1) * step)
        if start >= end:
            continue
        chunk = range(start, end)
        low = min(chunk, key=ys.__getitem__)
        high = max(chunk, key=ys.__getitem__)
        for index in sorted({low, high}):
            out_x.append(xs[index])
            out_y.append(ys[index])
    return out_x, out_y


def build_chart(series: Series, width: int, height: int, theme: str) -> _Built | None:
    """Build the chart text on a private plotext figure (safe in a worker thread)."""
    if width < 10 or height < 4 or not series.xs:
        return None
    plot = Plot()
    plot.plotsize(width, height)
    plot._set_size(width, height)
    plot.theme(theme)
    xs, ys = reduce_series(series.xs, series.ys, max(1, width - 8))
    low_x, high_x = float(series.xs[0]), float(series.xs[-1])
    if high_x <= low_x:
        high_x = low_x + 1
    plot.plot(xs, ys, marker="braille")
    plot.xlim(low_x, high_x)
    count = 5 if width >= 60 else 3
    ticks = sorted({round(low_x + (high_x - low_x) * i / (count - 1)) for i in range(count)})
    if series.x_is_time:
        plot.xticks(ticks, [_moment(tick, high_x - low_x) for tick in ticks])
    else:
        plot.xticks(ticks, [f"v{tick:,}" for tick in ticks])
    low_y, high_y = min(ys), max(ys)
    if high_y > low_y:
        rows = 5 if height >= 8 else 3
        yticks = [low_y + (high_y - low_y) * i / (rows - 1) for i in range(rows)]
        plot.yticks(yticks, [series.y_label(tick, high_y - low_y) for tick in yticks])
    # No plotext title: the pane's border already names the field, and a row is precious.
    text = plot.build()
    monitor = plot.monitor
    cols = monitor.matrix.Cols_canvas
    rows = monitor.matrix.Rows_canvas
    lines = Text.from_ansi(text).split("\n", allow_blank=True)[:height]
    canvas_lines = range(height - rows.stop, height - rows.start)
    return _Built(
        lines=list(lines),
        col_start=cols.start,
        canvas_width=len(cols),
        canvas_lines=canvas_lines,
        xlim=(low_x, high_x),
        size=(width, height),
        key=(),
    )


def _moment(seconds: float, span: float) -> str:
    """A time axis label: the day, or the hour when the whole span is under two days."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%m-%d %H:%M" if span < 2 * 86400 else "%Y-%m-%d")


def _number(value: float, span: float) -> str:
    """Axis labels people read: thousands separators, decimals only for small spans."""
    if span >= 20:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


class FieldChart(PlotextPlot):
    """One numeric field over the stream's versions; `set_marker` moves the slider marker."""

    DEFAULT_CSS = """
    FieldChart {
        height: 12;
        width: 1fr;
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._series: Series | None = None
        self._message = "no numeric field to chart"
        self._built: _Built | None = None
        self._strips: list[Strip] = []
        self._marker: float | None = None
        self._building = False
        self._wanted: tuple[Series, int, int, str] | None = None
        self.builds = 0
        """How many plotext builds ran (tests check that stepping does not rebuild)."""

    # --- public API ---------------------------------------------------------------------
    def set_series(self, series: Series | None, message: str = "") -> None:
        """Chart `series` (None: show `message` instead)."""
        self._series = series
        self._message = message or "no numeric field to chart"
        if series is None:
            self._built = None
            self._strips = []
            self.refresh()
            return
        self._request_build()

    def set_marker(self, x: float | None) -> None:
        """Move the marker to `x` (a version, or a moment in epoch seconds on a time
        axis); repaints cached lines only."""
        if x != self._marker:
            self._marker = x
            self.refresh()

    @property
    def series(self) -> Series | None:
        return self._series

    def marker_column(self) -> int | None:
        """The screen column of the marker within the widget, if it is drawn."""
        built = self._built
        if built is None or self._marker is None:
            return None
        low, high = built.xlim
        if not low <= self._marker <= high:
            return None
        span = high - low
        offset = 0.5 + (built.canvas_width - 1) * (self._marker - low) / span
        return built.col_start + math.floor(round(offset, 8))

    # --- building -----------------------------------------------------------------------
    def _theme_name(self) -> str:
        return self._get_plotext_theme_name(self.app.theme)

    def _request_build(self) -> None:
        if self._series is None or not self.is_mounted:
            return
        width, height = self.size
        self._wanted = (self._series, width, height, self._theme_name())
        if not self._building:
            self._building = True
            self._build_worker()

    @work(thread=True, group="field-chart", description="drawing the chart")  # one at a time
    def _build_worker(self) -> None:
        wanted = self._wanted
        built = build_chart(*wanted) if wanted is not None else None
        self.app.call_from_thread(self._built_ready, wanted, built)

    def _built_ready(
        self, wanted: tuple[Series, int, int, str] | None, built: _Built | None
    ) -> None:
        if not self.is_attached:  # closed while the worker ran
            return
        self._building = False
        self.builds += 1
        if wanted is not self._wanted:
            self._request_build()  # something newer was asked for meanwhile
            if self._built is not None:
                return
        self._built = built
        console = self.app.console
        self._strips = [Strip(list(text.render(console))) for text in built.lines] if built else []
        self.refresh()

    def on_resize(self) -> None:
        self._request_build()

    def _register_theme(self, app_theme_name: str) -> None:
        super()._register_theme(app_theme_name)
        if self.is_mounted:
            self._request_build()

    # --- rendering ----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if self._built is None or not self._strips:
            if y == self.size.height // 2:
                text = self._message if self._series is None else "drawing chart…"
                message = visible_text(shorten(text, width - 2))
                return Strip([Segment(f" {message}", base)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        if y >= len(self._strips):
            return Strip.blank(width, base)
        strip = self._strips[y]
        column = self.marker_column()
        if column is None or y not in self._built.canvas_lines:
            return strip.adjust_cell_length(width, base)
        return _with_marker(strip, column, self._marker_style()).adjust_cell_length(width, base)

    def _marker_style(self) -> Style:
        variables = self.app.theme_variables
        return Style.parse(f"bold {variables.get('accent', 'red')}")

    def render(self) -> Text:  # pragma: no cover - render_line is used instead
        return Text()


def _with_marker(strip: Strip, column: int, style: Style) -> Strip:
    """`strip` with the cell at `column` drawn as the marker (data glyphs kept, blanks
    become a vertical bar)."""
    if column >= strip.cell_length:
        return strip
    before, cell, after = strip.divide([column, column + 1, strip.cell_length])
    segments = list(cell)
    text = "".join(segment.text for segment in segments) or " "
    glyph = "│" if text.strip() in ("", "│") else text
    cell_style = segments[0].style if segments and segments[0].style else Style()
    return Strip([*before, Segment(glyph, cell_style + style), *after])
