"""Event-rate chart (events per time slice) with an optional "you are here" marker.

plotext costs ≈50 ms per build at 160×48, so the chart builds only when its data, marker,
size or theme changed (the last build is cached); the world screen moves the marker only
once its debounced recompute lands, so a held-down arrow key never queues a redraw per key.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot


class RateChart(PlotextPlot):
    """Bars of `event_histogram` buckets; `set_marker` draws a vertical line at a moment."""

    DEFAULT_CSS = """
    RateChart {
        height: 12;
    }
    """

    def __init__(self, title: str = "events per slice", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self._buckets: list[tuple[datetime, int]] = []
        self._marker: datetime | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._cache: Text | None = None
        self.message = "loading…"

    @property
    def buckets(self) -> list[tuple[datetime, int]]:
        return self._buckets

    @property
    def marker(self) -> datetime | None:
        return self._marker

    def set_data(self, buckets: list[tuple[datetime, int]], title: str | None = None) -> None:
        self._buckets = list(buckets)
        if title is not None:
            self.title = title
        self.message = "no events match" if not buckets else ""
        self.refresh()

    def set_loading(self) -> None:
        self.message = "loading…"
        self.refresh()

    def set_marker(self, moment: datetime | None) -> None:
        """Move the marker. Callers already coalesce (the world screen redraws only after
        its recompute settles), so this draws at once: what is shown never lags a timer."""
        if moment != self._marker:
            self._marker = moment
            self.refresh()

    def _colour(self, name: str) -> tuple[int, int, int]:
        """A theme colour as RGB, so bars and marker follow the light/dark theme."""
        value = self.app.theme_variables.get(name, "#5fa8d3")
        return Color.parse(value).rgb

    def render(self) -> RenderResult:
        key = (
            self.size,
            self.app.theme,
            id(self._buckets),
            len(self._buckets),
            self._marker,
            self.message,
            self.title,
        )
        if key == self._cache_key and self._cache is not None:
            return self._cache
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self.message or not self._buckets:
            plt.title(f"{self.title} — {self.message or 'no events'}")
        else:
            counts = [count for _, count in self._buckets]
            xs = list(range(len(counts)))
            plt.plot(xs, counts, fillx=True, marker="braille", color=self._colour("primary"))
            plt.xlim(0, max(1, len(xs) - 1))
            top = max(counts) or 1
            plt.ylim(0, top)
            plt.yticks(_int_ticks(top), [f"{v:,}" for v in _int_ticks(top)])
            ticks = _tick_positions(len(xs), max(2, self.size.width // 22))
            plt.xticks(ticks, [_label(self._buckets, i) for i in ticks])
            if self._marker is not None:
                plt.vline(_marker_index(self._buckets, self._marker), self._colour("accent"))
            span = _span_text(self._buckets)
            plt.title(f"{self.title}  ·  {sum(counts):,} events  ·  slice = {span}")
        self._cache = super().render()  # type: ignore[assignment]
        self._cache_key = key
        return self._cache


def _int_ticks(top: int) -> list[int]:
    if top <= 4:
        return list(range(0, top + 1))
    return sorted({0, top // 2, top})


def _tick_positions(count: int, wanted: int) -> list[int]:
    if count <= 1:
        return [0]
    step = max(1, (count - 1) // max(1, wanted - 1))
    return list(range(0, count, step))


def _span_text(buckets: list[tuple[datetime, int]]) -> str:
    if len(buckets) < 2:
        return "all"
    seconds = (buckets[1][0] - buckets[0][0]).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _label(buckets: list[tuple[datetime, int]], index: int) -> str:
    first, last = buckets[0][0], buckets[-1][0]
    fmt = "%Y-%m-%d" if (last - first).days >= 14 else "%m-%d %H:%M"
    return buckets[index][0].strftime(fmt)


def _marker_index(buckets: list[tuple[datetime, int]], moment: datetime) -> float:
    """Fractional bucket index of `moment` (clamped to the chart)."""
    if len(buckets) < 2:
        return 0
    first, second = buckets[0][0], buckets[1][0]
    width = (second - first).total_seconds() or 1
    index = (moment - first).total_seconds() / width
    return max(0.0, min(len(buckets) - 1.0, index))
