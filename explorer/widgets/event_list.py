"""The events of one stream, a page at a time, for the timeline's left pane.

Built on the shell's `VirtualTable`: rows are fetched by version range (offset paging is
exact here, versions are contiguous) in the table's worker thread, so a 100k-event stream
opens at once and only the visible pages are ever decoded. Row index = version - 1.

Payloads are previewed as compact JSON cut to `PREVIEW_CHARS`; all cells are plain
strings, which the table makes visible (`visible_text`) and never parses as markup.
Undecodable events are drawn in the error colour and backdated ones are flagged, because
in an audit those are the rows a reviewer is looking for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from textual import events
from textual.message import Message
from textual.strip import Strip

from explorer.widgets.state_tree import format_time
from explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from store.records import RecordedEvent

PREVIEW_CHARS = 160
BACKDATED_SECONDS = 3600
"""An event that occurred more than this before it was recorded is flagged ``«``."""

COLUMNS = [
    Column("v", 8, justify="right"),
    Column("event type", 18),
    Column("actor", 10),
    Column("recorded (UTC)", 16),
    Column("data", 0, min_width=10),
]
"""All columns; rows always carry every cell, narrower panes show a prefix of them."""
MEDIUM_COLUMNS = [COLUMNS[0], COLUMNS[1], Column("actor", 0, min_width=8)]
NARROW_COLUMNS = [Column("v", 7, justify="right"), Column("event type", 0, min_width=10)]


def _needed(columns: list[Column]) -> int:
    """Cells a column set needs: widths (flexible ones at their minimum) and separators."""
    return sum(c.width if c.width > 0 else c.min_width for c in columns) + len(columns) + 1


def columns_for(width: int) -> list[Column]:
    """The widest column set that fits `width` cells without a horizontal scrollbar."""
    for columns in (COLUMNS, MEDIUM_COLUMNS):
        if width >= _needed(columns):
            return columns
    return NARROW_COLUMNS


def preview(data: Any) -> str:
    """A one-line payload preview, cut before it gets expensive to show."""
    try:
        text = orjson.dumps(data, default=str).decode()
    except TypeError:
        text = repr(data)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def event_row(event: RecordedEvent) -> VirtualRow:
    """One table row for `event` (cells are untrusted strings; the table escapes them)."""
    backdated = (event.recorded_at - event.occurred_at).total_seconds() > BACKDATED_SECONDS
    flag = "✗" if event.decode_error else ("«" if backdated else "")
    data = f"undecodable: {event.decode_error}" if event.decode_error else preview(event.data)
    return VirtualRow(
        event.version,
        (
            f"{flag} {event.version}" if flag else str(event.version),
            event.event_type,
            event.actor or "—",
            format_time(event.recorded_at)[:16],
            data,
        ),
        style="red" if event.decode_error else None,
    )


def stream_fetch(source: Any, stream_id: str) -> Callable[[int, int], list[VirtualRow]]:
    """A `VirtualTable` fetch callback reading versions start+1 .. start+limit."""

    def fetch(start: int, limit: int) -> list[VirtualRow]:
        events = source.read_stream(stream_id, start + 1, start + limit)
        return [event_row(event) for event in events]

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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(COLUMNS, None, row_count=0, page_size=200, id=id, classes=classes)
        self.columns = COLUMNS
        self._strip_cache: dict[tuple[Any, ...], Strip] = {}

    def on_resize(self, event: events.Resize) -> None:
        columns = columns_for(self.scrollable_content_region.width)
        if columns is not self.columns:
            self.columns = columns
        super().on_resize(event)

    def show_stream(self, source: Any, stream_id: str, length: int, version: int) -> None:
        """Start paging `stream_id`, with the cursor on `version`."""
        self.reset(stream_fetch(source, stream_id), row_count=length, cursor=max(0, version - 1))

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
            index == self.cursor_row,
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
            strip = self._strip_cache[key] = super().render_line(y)
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
        index = max(0, version - 1)
        if index != self.cursor_row:
            self.move_cursor(index)
