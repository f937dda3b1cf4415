"""A table that renders only the rows on screen and pulls them from a callback, a page at a time.

Why not Textual's `DataTable`: it measures every cell on the event loop before the first
paint (156 s and +686 MB for 1M rows on this machine, see research/tui-testing.md §8). This
Line-API `ScrollView` keeps a bounded cache of pages, so a million-row list opens at once
and memory stays flat however far the user scrolls.

Rows come from a *fetch* callback ``fetch(start, limit) -> Sequence[VirtualRow]`` that the
caller supplies. It runs in a thread worker (never on the event loop), so it may query the
store. Offset paging is the natural fit for version-numbered lists; for keyset-paged
catalogs wrap the source's ``after=`` method in `KeysetPager`, which remembers the key at
each page boundary so scrolling back and forth never re-reads from the start.

Usage::

    from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable

    def fetch(start: int, limit: int) -> list[VirtualRow]:  # runs in a thread
        events = source.read_stream(stream_id, start + 1, start + limit)
        return [VirtualRow(e.version, (str(e.version), e.event_type, actor(e))) for e in events]

    table = VirtualTable(
        [Column("v", 6, justify="right"), Column("event type", 24), Column("actor", 0)],
        fetch,
        row_count=info.version,  # or None when unknown: the table grows until a short page
        id="events",
    )

    @on(VirtualTable.RowHighlighted, "#events")
    def _moved(self, event: VirtualTable.RowHighlighted) -> None:
        self.show_version(event.row.key)

    # later, for a new filter or a different stream:
    table.reset(other_fetch, row_count=42)
    table.move_cursor(41)

Cells given as ``str`` are untrusted: they pass through `visible_text` and become
`rich.text.Text`, never markup, so ``[@click=app.quit]`` in data stays literal. Pass a
`Text` to style a cell yourself (you are then responsible for its content).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from eventscope.explorer.safe_text import visible_text
from eventscope.explorer.widgets.columns import ColumnFit, fit_columns
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True, slots=True)
class Column:
    """A column, sized from its content (see `widgets.columns`).

    `width` is the width to assume before any row has loaded; 0 makes the column the one
    that *grows* into space left over (a payload preview). `min_width` is the narrowest
    it is shown (cut with an ellipsis) before it is hidden; `priority` says what gives
    way first when a row does not fit (lower first); `short` is the header used when the
    label is wider than the column; `max_width` caps how wide content may make it."""

    label: str
    width: int = 0
    justify: Literal["left", "right"] = "left"
    min_width: int = 6
    priority: int = 1
    short: str = ""
    max_width: int = 0

    @property
    def grows(self) -> bool:
        return self.width <= 0

    def header(self, width: int) -> str:
        """The header text for a column `width` cells wide."""
        if len(self.label) <= width or not self.short or len(self.short) > width:
            return self.label
        return self.short

    def fit(self, content: int) -> ColumnFit:
        """What `fit_columns` needs, given the widest cell seen so far (0: none yet)."""
        header = min(len(self.label), max(len(self.short), 1)) if self.short else len(self.label)
        natural = max(content if content else self.width, header, 1)
        if self.max_width:
            natural = min(natural, max(self.max_width, header))
        minimum = min(natural, max(self.min_width, 1))
        return ColumnFit(natural, minimum, self.priority, self.grows)


@dataclass(frozen=True, slots=True)
class VirtualRow:
    """One row: a `key` the caller recognises (stream id, version, position) and its cells."""

    key: Hashable
    cells: tuple[Cell, ...]
    style: str | None = None  # an optional Rich style for the whole row (e.g. "red")
    copy: tuple[str, str] | None = None  # (what, text) the explorer's copy key copies


Fetch = Callable[[int, int], Sequence[VirtualRow]]

K = TypeVar("K")
T = TypeVar("T")


class KeysetPager(Generic[T, K]):
    """Turn a keyset-paged method (``items_after(after_key, limit)``) into a ``fetch(start,
    limit)`` callback for `VirtualTable`.

    The key of the last item before every page boundary is remembered, so any page already
    passed is one query away; a jump far ahead (``ctrl+end``) walks forward from the nearest
    known boundary, page by page, without keeping the rows it skips. Thread-safe, because the
    table fetches from a worker thread.
    """

    def __init__(
        self,
        items_after: Callable[[K | None, int], Sequence[T]],
        key: Callable[[T], K],
        to_row: Callable[[T], VirtualRow],
        walk_page: int = 1000,
    ) -> None:
        self._items_after = items_after
        self._key = key
        self._to_row = to_row
        self._walk_page = walk_page
        self._after: dict[int, K | None] = {0: None}  # row index -> key before it
        self._lock = threading.Lock()

    def _nearest(self, start: int) -> tuple[int, K | None]:
        index = max(i for i in self._after if i <= start)
        return index, self._after[index]

    def __call__(self, start: int, limit: int) -> list[VirtualRow]:
        with self._lock:
            index, after = self._nearest(start)
            while index < start:  # walk forward to `start`, remembering boundaries
                step = min(self._walk_page, start - index)
                items = self._items_after(after, step)
                if not items:
                    return []
                index += len(items)
                after = self._key(items[-1])
                self._after[index] = after
                if len(items) < step:
                    return []
            items = self._items_after(after, limit)
            if items:
                self._after[start + len(items)] = self._key(items[-1])
            return [self._to_row(item) for item in items]


class VirtualTable(ScrollView, can_focus=True):
    """A virtualised, keyboard-first table fed page by page from a thread worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
        Binding("enter", "select_cursor", "Open", id="table.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--placeholder",
    }

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        background: $surface;
        scrollbar-gutter: stable;
    }
    VirtualTable > .virtual-table--header {
        background: $panel;
        color: $text;
        text-style: bold;
    }
    VirtualTable > .virtual-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    VirtualTable > .virtual-table--placeholder {
        color: $text-muted;
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class RowHighlighted(Message):
        """The cursor moved onto a loaded row (sent again once a pending row arrives)."""

        def __init__(self, table: VirtualTable, index: int, row: VirtualRow) -> None:
            self.table = table
            self.index = index
            self.row = row
            super().__init__()

        @property
        def control(self) -> VirtualTable:
            return self.table

    class RowSelected(Message):
        """`enter` or a click on the cursor row."""

        def __init__(self, table: VirtualTable, index: int, row: VirtualRow) -> None:
            self.table = table
            self.index = index
            self.row = row
            super().__init__()

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Loaded(Message):
        """A page arrived; `row_count` is the (possibly newly known) number of rows."""

        def __init__(self, table: VirtualTable, row_count: int | None) -> None:
            self.table = table
            self.row_count = row_count
            super().__init__()

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Fetch | None = None,
        *,
        row_count: int | None = 0,
        page_size: int = 200,
        max_pages: int = 40,
        empty_text: str = "nothing to show",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns: list[Column] = list(columns)
        self._content: list[int] = [0] * len(self._columns)
        self._layout: tuple[tuple[Any, ...], list[int]] | None = None
        self.page_size = page_size
        self.max_pages = max_pages
        self.empty_text = empty_text
        self._fetch: Fetch | None = fetch
        self._row_count: int | None = row_count if fetch is not None else 0
        self._pages: OrderedDict[int, Sequence[VirtualRow]] = OrderedDict()
        self._errors: dict[int, str] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._wanted: list[int] = []  # pages to load, most urgent last
        self._in_flight: set[int] = set()  # pages being fetched right now
        self._loader_running = False
        self._announced: tuple[int, int] | None = None  # (generation, index) last highlighted
        self._known_end = 0  # high-water mark of rows seen, while the count is unknown
        self._select_pending: tuple[int, int] | None = None  # enter pressed before the row came
        self._update_virtual_size()

    # --- public API ---------------------------------------------------------------------
    @property
    def columns(self) -> list[Column]:
        """The columns; setting new ones forgets the content widths measured so far."""
        return self._columns

    @columns.setter
    def columns(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        self._content = [0] * len(self._columns)
        self._layout = None
        self.refresh()

    def column_widths(self) -> list[int]:
        """The widths the columns are drawn with now (0 = hidden for lack of space)."""
        return self._column_widths(self.scrollable_content_region.width)

    @property
    def row_count(self) -> int | None:
        """Number of rows, or None while unknown (the table grows as pages arrive)."""
        return self._row_count

    @property
    def known_rows(self) -> int:
        """Rows known to exist: the count, or the end of the furthest page loaded so far."""
        if self._row_count is not None:
            return self._row_count
        return self._known_end

    @property
    def is_loading(self) -> bool:
        return self._loader_running

    def reset(
        self,
        fetch: Fetch | None = None,
        row_count: int | None = 0,
        *,
        cursor: int = 0,
    ) -> None:
        """Show other rows (a new filter, another stream): drop every cached page."""
        with self._lock:
            self._generation += 1
            self._wanted.clear()
            self._in_flight.clear()
        self._fetch = fetch
        self._row_count = row_count if fetch is not None else 0
        self._pages.clear()
        self._errors.clear()
        self._content = [0] * len(self._columns)
        self._layout = None
        self._announced = None
        self._known_end = 0
        self._select_pending = None
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.cursor_row = max(0, cursor)
        self.refresh()

    def grow(self, row_count: int) -> None:
        """The list got longer (new events appended): keep the pages already loaded except
        the last one, which may have been short, and take the new count."""
        if self._row_count is not None and row_count > self._row_count and self._pages:
            last = max(self._pages)
            if (last + 1) * self.page_size > self._row_count:
                self._pages.pop(last, None)
        self.set_row_count(row_count)

    def set_row_count(self, row_count: int) -> None:
        """Tell a growing table its final size once the caller has counted (keeps the cache)."""
        self._row_count = row_count
        self._update_virtual_size()
        self.cursor_row = self.cursor_row  # re-clamp
        self.refresh()

    def row_at(self, index: int) -> VirtualRow | None:
        """The row at `index` if its page is loaded (None otherwise; nothing is fetched)."""
        rows = self._pages.get(index // self.page_size)
        offset = index % self.page_size
        if rows is None or offset >= len(rows):
            return None
        return rows[offset]

    @property
    def cursor_value(self) -> VirtualRow | None:
        """The row under the cursor, if loaded."""
        return self.row_at(self.cursor_row)

    def copy_target(self) -> tuple[str, str] | None:
        """``(what, text)`` of the row under the cursor, for the explorer's copy key."""
        row = self.cursor_value
        return row.copy if row is not None else None

    def move_cursor(self, index: int) -> None:
        """Put the cursor on `index` (clamped) and scroll it into view."""
        self.cursor_row = index

    def visible_rows(self) -> list[VirtualRow]:
        """The loaded rows currently on screen, top to bottom (handy in tests)."""
        top = round(self.scroll_offset.y)
        rows = (self.row_at(i) for i in range(top, top + self._body_height()))
        return [row for row in rows if row is not None]

    # --- geometry -----------------------------------------------------------------------
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _column_widths(self, width: int) -> list[int]:
        """Widths for a table `width` cells wide (one leading space, one after each column),
        recomputed only when the width or the widest content seen changes."""
        key = (width, tuple(self._content), id(self._columns))
        if self._layout is not None and self._layout[0] == key:
            return self._layout[1]
        fits = [c.fit(n) for c, n in zip(self._columns, self._content, strict=True)]
        widths = fit_columns(fits, max(1, width - 1)) if width > 0 else [f.natural for f in fits]
        self._layout = (key, widths)
        return widths

    def _measure(self, rows: Sequence[VirtualRow]) -> None:
        """Widen the content high-water marks with `rows` (they never shrink while the
        same rows are shown, so columns do not jump while scrolling)."""
        content = self._content
        for row in rows:
            for index, cell in enumerate(row.cells[: len(content)]):
                size = cell.cell_len if isinstance(cell, Text) else cell_len(visible_text(cell))
                if size > content[index]:
                    content[index] = size

    def _update_virtual_size(self) -> None:
        rows = self.known_rows
        if self._row_count is None and self._fetch is not None:
            rows += 1  # a "loading…" line that pulls the next page when it is drawn
        # No horizontal scrolling: the columns are fitted to the width (see widgets.columns).
        width = self.scrollable_content_region.width if self.is_mounted else 0
        self.virtual_size = Size(width, rows + 1)  # +1: the header line

    # --- cursor & scrolling -------------------------------------------------------------
    def validate_cursor_row(self, value: int) -> int:
        last = self.known_rows - 1
        if self._row_count is None and self._fetch is not None:
            last += 1  # allow stepping onto the "loading…" line to pull the next page
        return max(0, min(value, max(0, last)))

    def watch_cursor_row(self, old: int, new: int) -> None:
        if self._select_pending is not None and self._select_pending[1] != new:
            self._select_pending = None  # the user moved on
        top = round(self.scroll_offset.y)
        height = self._body_height()
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        row = self.cursor_value
        if row is None:
            self._request_page(self.cursor_row // self.page_size)
            return
        marker = (self._generation, self.cursor_row)
        if marker != self._announced:
            self._announced = marker
            self.post_message(self.RowHighlighted(self, self.cursor_row, row))
        if self._select_pending == marker:
            self._select_pending = None
            self.post_message(self.RowSelected(self, self.cursor_row, row))

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self._body_height()

    def action_page_down(self) -> None:
        self.cursor_row += self._body_height()

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        if self._row_count is None and self._fetch is not None:
            self.cursor_row = self.known_rows  # pulls the next page; press again to go on
        else:
            self.cursor_row = self.known_rows - 1

    def action_select_cursor(self) -> None:
        row = self.cursor_value
        if row is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, row))
        elif self._fetch is not None:
            # Typed ahead of the data: open the row as soon as its page arrives.
            self._select_pending = (self._generation, self.cursor_row)
            self._request_page(self.cursor_row // self.page_size)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if index >= self.known_rows:
            return
        if index == self.cursor_row:  # a click on the highlighted row opens it
            self.action_select_cursor()
        else:
            self.cursor_row = index

    # --- loading ------------------------------------------------------------------------
    def _request_page(self, page: int) -> None:
        if self._fetch is None or page in self._pages or page in self._errors:
            return
        if self._row_count is not None and page * self.page_size >= self._row_count:
            return
        with self._lock:
            if page in self._in_flight:
                return
            if page in self._wanted:
                self._wanted.remove(page)
            self._wanted.append(page)
            if self._loader_running:
                return
            self._loader_running = True
        self.run_worker(self._load_pages, thread=True, group=f"virtual-table-{id(self)}")

    def _load_pages(self) -> None:
        """Worker: fetch wanted pages, most recently wanted first, until none are left."""
        while True:
            with self._lock:
                if not self._wanted:
                    self._loader_running = False
                    return
                page = self._wanted.pop()
                generation = self._generation
                fetch = self._fetch
                self._in_flight.add(page)
            if fetch is None:
                with self._lock:
                    self._in_flight.discard(page)
                continue
            try:
                rows: Sequence[VirtualRow] = list(fetch(page * self.page_size, self.page_size))
                error = None
            except Exception as exc:  # shown in the table; the app must not die on a bad page
                rows, error = [], f"could not load rows: {exc}"
            try:
                self.app.call_from_thread(self._page_loaded, generation, page, rows, error)
            except RuntimeError:  # the app is shutting down
                with self._lock:
                    self._loader_running = False
                return

    def _page_loaded(
        self, generation: int, page: int, rows: Sequence[VirtualRow], error: str | None
    ) -> None:
        if generation != self._generation:
            return
        with self._lock:
            self._in_flight.discard(page)
        if error is not None:
            self._errors[page] = error
        else:
            self._pages[page] = rows
            self._pages.move_to_end(page)
            self._measure(rows)
            end = page * self.page_size + len(rows)
            if self._row_count is None:
                self._known_end = max(self._known_end, end)
                # Pages of an unknown-length list are pulled in order, so a short page ends it.
                if len(rows) < self.page_size and end >= self._known_end:
                    self._row_count = end
            self._evict()
        self._update_virtual_size()
        if self.cursor_row != self.validate_cursor_row(self.cursor_row):
            self.cursor_row = self.cursor_row  # re-clamp once the end is known
        self.refresh()
        self._announce()
        self.post_message(self.Loaded(self, self._row_count))

    def _evict(self) -> None:
        """Keep at most `max_pages` pages, never the ones on screen or under the cursor."""
        top = round(self.scroll_offset.y)
        keep = {
            top // self.page_size,
            (top + self._body_height()) // self.page_size,
            self.cursor_row // self.page_size,
        }
        while len(self._pages) > self.max_pages:
            oldest = next((p for p in self._pages if p not in keep), None)
            if oldest is None:
                break
            del self._pages[oldest]

    # --- rendering ----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        widths = self._column_widths(width)
        total = max(width, sum(w + 1 for w in widths if w > 0) + 1)
        if y == 0:
            style = self.get_component_rich_style("virtual-table--header")
            cells: list[Cell] = [
                Text(column.header(w), justify=column.justify)
                for column, w in zip(self._columns, widths, strict=True)
            ]
            return self._strip(cells, widths, style, total).crop(scroll_x, scroll_x + width)
        index = scroll_y + y - 1
        base = self.rich_style
        growing = self._row_count is None and self._fetch is not None
        if index > self.known_rows or (index == self.known_rows and not growing):
            if index == 0 and y == 1:
                text = Text(f" {self.empty_text}", style=self._placeholder_style())
                strip = Strip(list(text.render(self.app.console)))
                return strip.extend_cell_length(width, base).crop(0, width)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            page = index // self.page_size
            message = self._errors.get(page, "loading…")
            self._request_page(page)
            text = Text(f" {message}", style=self._placeholder_style())
            strip = Strip(text.render(self.app.console))
            return strip.extend_cell_length(width, base).crop(0, width)
        style = base
        row_style = self.row_style(row)
        if row_style:
            style = style + Style.parse(row_style)
        if index == self.cursor_row:
            style = style + self.get_component_rich_style("virtual-table--cursor")
        strip = self._strip(list(row.cells), widths, style, total)
        return strip.crop(scroll_x, scroll_x + width)

    def row_style(self, row: VirtualRow) -> str | None:
        """The Rich style of a whole row (its own by default; subclasses may add)."""
        return row.style

    def _placeholder_style(self) -> Style:
        return self.get_component_rich_style("virtual-table--placeholder")

    def _strip(self, cells: list[Cell], widths: list[int], style: Style, total: int) -> Strip:
        segments: list[Segment] = [Segment(" ", style)]
        used = 1
        for position, width in enumerate(widths):
            if width <= 0:
                continue  # hidden for lack of space (see widgets.columns)
            cell = cells[position] if position < len(cells) else ""
            text = cell.copy() if isinstance(cell, Text) else Text(visible_text(str(cell)))
            text.no_wrap = True
            text.overflow = "ellipsis"
            if text.cell_len > width:
                text.truncate(width, overflow="ellipsis")
            justify = self.columns[position].justify
            pad = width - text.cell_len
            if justify == "right":
                text.pad_left(pad)
            else:
                text.pad_right(pad)
            text.stylize_before(style)
            segments.extend(text.render(self.app.console))
            segments.append(Segment(" ", style))
            used += width + 1
        if used < total:
            segments.append(Segment(" " * (total - used), style))
        return Strip(segments, total)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()

    def on_resize(self, _event: Any) -> None:
        self._layout = None
        self._update_virtual_size()
        self.call_after_refresh(self._keep_cursor_in_view)
        self.refresh()

    def _keep_cursor_in_view(self) -> None:
        """After a resize the cursor row must still be on screen (a narrower layout may
        have shrunk the table below it)."""
        top = round(self.scroll_offset.y)
        height = self._body_height()
        row = self.cursor_row
        if not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 2), animate=False, immediate=True)
