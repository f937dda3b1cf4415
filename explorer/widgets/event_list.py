"""The events of one stream, a page at a time, for the timeline's left pane.

Built on the shell's `VirtualTable`: rows are fetched by version range (offset paging is
exact here, versions are contiguous) in the table's worker thread, so a 100k-event stream
opens at once and only the visible pages are ever decoded. Row index = version - 1.

Payloads are previewed as compact JSON cut to `PREVIEW_CHARS`; all cells are plain
strings, which the table makes visible (`visible_text`) and never parses as markup.
Undecodable events are drawn in the error colour and backdated ones are flagged, because
in an audit those are the rows a reviewer is looking for. On the business-time axis the
timeline tells the list which versions are in the answer (`set_business`): the others
are dimmed -- italic when they had happened by then but were not known yet -- and an
event the aggregate refused in that order is drawn in the error colour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import orjson
from eventscope.explorer.integrity_marks import FLAG, ROW_STYLE
from eventscope.explorer.widgets.state_tree import format_time
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.store.records import RecordedEvent
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

PREVIEW_CHARS = 160
BACKDATED_SECONDS = 3600
"""An event that occurred more than this before it was recorded is flagged ``«``."""

COLUMNS = [
    Column("v", 5, justify="right", min_width=3, priority=9),
    Column("event type", 16, min_width=8, priority=8),
    Column("actor", 14, min_width=8, priority=7),
    Column("recorded (UTC)", 16, min_width=16, priority=3, short="recorded"),
    Column("data", 0, min_width=12, priority=1),
]
"""Sized from content; when the pane is narrow the payload preview goes first, then the
time (the detail pane shows both), never the version, type or actor."""


def preview(data: Any) -> str:
    """A one-line payload preview, cut before it gets expensive to show."""
    try:
        text = orjson.dumps(data, default=str).decode()
    except TypeError:
        text = repr(data)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def event_row(event: RecordedEvent, mark: str | None = None) -> VirtualRow:
    """One table row for `event` (cells are untrusted strings; the table escapes them).
    `mark`: what verify found wrong with it (`explorer.integrity_marks`), flagged first."""
    backdated = (
        not event.times_unknown
        and (event.recorded_at - event.occurred_at).total_seconds() > BACKDATED_SECONDS
    )
    flag = FLAG if mark else "✗" if event.decode_error else ("«" if backdated else "")
    data = f"undecodable: {event.decode_error}" if event.decode_error else preview(event.data)
    return VirtualRow(
        event.version,
        (
            f"{flag} {event.version}" if flag else str(event.version),
            event.event_type,
            event.actor or "—",
            "unknown"
            if "recorded_at" in event.times_unknown
            else format_time(event.recorded_at)[:16],
            data,
        ),
        style=ROW_STYLE if mark else "red" if event.decode_error else None,
        copy=("event id", str(event.event_id)),
    )


def stream_fetch(
    source: Any,
    stream_id: str,
    times: dict[int, tuple[Any, Any]] | None = None,
    marks: Mapping[int, str] | None = None,
) -> Callable[[int, int], list[VirtualRow]]:
    """A `VirtualTable` fetch callback reading versions start+1 .. start+limit; `times`
    collects each loaded version's (occurred_at, recorded_at) for the business-time axis;
    `marks` (position -> mark) flags events verify found altered."""
    marks = marks or {}

    def fetch(start: int, limit: int) -> list[VirtualRow]:
        events = list(source.read_stream(stream_id, start + 1, start + limit))
        if times is not None:
            times.update((e.version, (e.occurred_at, e.recorded_at)) for e in events)
        return [event_row(event, marks.get(event.position)) for event in events]

    return fetch


class EventList(VirtualTable):
    """A `VirtualTable` of one stream's events; see the module docstring.

    The table's own `RowHighlighted` also fires when the timeline moves the cursor to
    follow the slider, and it arrives late; acting on it would drag the slider back to an
    old version during fast stepping. So user moves (keys, clicks) post `Picked` instead.
    """

    class Picked(Message):
        """The user moved the cursor to `version` (keys or mouse)."""

        def __init__(self, version: int) -> None:
            self.version = version
            super().__init__()

    BINDINGS: ClassVar[list[BindingType]] = [
        # The slider follows the cursor, so enter has nothing to open here.
        Binding("enter", "noop", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(COLUMNS, None, row_count=0, page_size=200, id=id, classes=classes)
        self._strip_cache: dict[tuple[Any, ...], Strip] = {}
        self.current = 0
        """The slider's version: rows after it are dimmed (not yet happened then)."""
        self._business: tuple[frozenset[int], Any, Any, frozenset[int]] | None = None
        self._business_generation = 0
        self._times: dict[int, tuple[Any, Any]] = {}

    def set_business(
        self,
        applied: frozenset[int] | None,
        as_of: Any = None,
        known_at: Any = None,
        refused: Any = (),
    ) -> None:
        """On the occurred axis: which versions are in the answer (None: every row as
        usual). Rows out of the answer are dimmed, refused ones drawn as errors."""
        business = (
            None
            if applied is None
            else (applied, as_of, known_at, frozenset(s.version for s in refused))
        )
        if business != self._business:
            self._business = business
            self._business_generation += 1
            self._strip_cache.clear()
            self.refresh()

    def row_style(self, row: VirtualRow) -> str | None:
        base = row.style
        business = self._business
        if business is None or base:
            return base
        applied, as_of, known_at, refused = business
        version = row.key if isinstance(row.key, int) else None
        if version is None or version in applied:
            return base
        if version in refused:
            return "red dim"
        times = self._times.get(version)
        if times is not None and known_at is not None and times[1] > known_at:
            if as_of is None or times[0] <= as_of:
                return "dim italic"  # had happened, not known yet
        return "dim"  # had not happened yet (or not known yet)

    def action_noop(self) -> None:
        """Enter on the timeline's list does nothing (the slider already follows)."""

    def show_stream(
        self,
        source: Any,
        stream_id: str,
        length: int,
        version: int,
        marks: Mapping[int, str] | None = None,
    ) -> None:
        """Start paging `stream_id`, with the cursor on `version`."""
        self._times = {}
        self.reset(
            stream_fetch(source, stream_id, self._times, marks),
            row_count=length,
            cursor=max(0, version - 1),
        )

    # --- painting -----------------------------------------------------------------------
    # Every slider step moves the cursor, which repaints the whole list; building a row
    # (one Rich Text per cell) is the costliest part of a step on the event loop (~3 ms
    # for a 160×48 screen). Rows are immutable once loaded, so their strips are cached,
    # keyed by everything that changes how a row looks.
    _MAX_CACHED_STRIPS = 512

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y - 1
        if y == 0 or self.row_at(index) is None:
            return super().render_line(y)
        key = (
            index,
            self._business_generation,
            index == self.cursor_row,
            index >= self.current,
            self.has_focus,
            self.scrollable_content_region.width,
            round(self.scroll_offset.x),
            self._generation,
            id(self.columns),
        )
        strip = self._strip_cache.get(key)
        if strip is None:
            if len(self._strip_cache) >= self._MAX_CACHED_STRIPS:
                self._strip_cache.clear()
            strip = super().render_line(y)
            if self._business is None and index >= self.current and index != self.cursor_row:
                strip = strip.apply_style(Style(dim=True))
            self._strip_cache[key] = strip
        return strip

    def notify_style_update(self) -> None:
        self._strip_cache.clear()
        super().notify_style_update()

    def _picked(self) -> None:
        self.post_message(self.Picked(self.cursor_row + 1))

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._picked()

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._picked()

    def action_page_up(self) -> None:
        super().action_page_up()
        self._picked()

    def action_page_down(self) -> None:
        super().action_page_down()
        self._picked()

    def action_first(self) -> None:
        super().action_first()
        self._picked()

    def action_last(self) -> None:
        super().action_last()
        self._picked()

    async def _on_click(self, event: events.Click) -> None:
        before = self.cursor_row
        await super()._on_click(event)
        if self.cursor_row != before:
            self._picked()

    def follow(self, version: int) -> None:
        """Put the cursor on `version` without announcing it back as a user move."""
        self.current = version
        index = max(0, version - 1)
        if index != self.cursor_row:
            self.move_cursor(index)
        else:
            self.refresh()
