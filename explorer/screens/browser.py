"""The home screen: stream types, the paged stream list, the filter and the event-rate chart.

The list never holds more than a few pages: catalog filters (id prefix, type) page the
`streams` catalog by keyset; event-level filters (event type, actor, correlation id, time
range) switch the table to the matching *events*, paged by position. Counting and the
histogram run in their own workers, so typing a filter never waits for a count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from eventscope.explorer.app import ReportsWorkerErrors
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.filter_bar import (
    BrowserFilter,
    FilterBar,
    FilterError,
    parse_filter,
)
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.rate_chart import RateChart
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.widgets.virtual_table import Column, KeysetPager, VirtualRow, VirtualTable
from eventscope.explorer.wording import noun_for
from eventscope.store.records import RecordedEvent, StreamInfo
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

# Sized from content (see widgets.columns); when a row does not fit, the lowest priority
# goes first: a reviewer needs the stream and who did what before positions and times.
STREAM_COLUMNS = [
    Column("stream id", 14, min_width=12, priority=9),
    Column("type", 10, min_width=6, priority=6),
    Column("version", 7, justify="right", min_width=3, priority=7, short="ver"),
    Column("first recorded", 19, min_width=19, priority=3, short="first"),
    Column("last recorded", 19, min_width=19, priority=4, short="last"),
]
EVENT_COLUMNS = [
    Column("position", 8, justify="right", min_width=4, priority=2, short="pos"),
    Column("recorded", 19, min_width=19, priority=3),
    Column("stream id", 14, min_width=12, priority=9),
    Column("ver", 4, justify="right", min_width=3, priority=8),
    Column("event type", 16, min_width=8, priority=7),
    Column("actor", 16, min_width=10, priority=8),
]
FILTER_DELAY = 0.3
"""Seconds of no typing before the filter being typed is applied."""
ALL_TYPES = "\x00all"  # option id of "all types" (cannot collide with a real type name)


class EventKey(NamedTuple):
    """Row key of the events view: enough to open the timeline and trace the correlation."""

    stream_id: str
    version: int
    position: int
    correlation_id: str | None


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def stream_row(info: StreamInfo) -> VirtualRow:
    return VirtualRow(
        info.stream_id,
        (
            info.stream_id,
            info.stream_type,
            f"{info.version:,}",
            when(info.first_recorded_at),
            when(info.last_recorded_at),
        ),
        copy=("stream id", info.stream_id),
    )


def event_row(event: RecordedEvent) -> VirtualRow:
    key = EventKey(event.stream_id, event.version, event.position, event.correlation_id)
    return VirtualRow(
        key,
        (
            f"{event.position:,}",
            when(event.recorded_at),
            event.stream_id,
            str(event.version),
            event.event_type,
            event.actor or "—",
        ),
        copy=("event id", str(event.event_id)),
    )


class BrowserScreen(ReportsWorkerErrors, Screen[None]):
    """Stream browser (home)."""

    HELP_TITLE = "Stream browser"
    HELP_TEXT = (
        "Find the streams and events that matter. Type a filter after / (it applies as you "
        "type and counts the matches): an id prefix, a stream type, event types, an actor, a "
        "correlation id or a time range. Enter opens a stream's timeline, at the event's "
        "version when the list shows events."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", id="browser.filter"),
        Binding("k", "app.consistency", "Consistency", id="browser.consistency"),
        Binding("escape", "clear_filter", "Clear filter", id="browser.clear"),
    ]
    AUTO_FOCUS = "#streams"
    filter_delay: float = FILTER_DELAY

    browser_filter: var[BrowserFilter] = var(BrowserFilter, init=False, always_update=True)
    """The filter in force (the bar's text parsed); the table, counts and chart follow it."""

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="browser-main"):
            with Vertical(id="types-pane"):
                yield Label("Stream types", classes="pane-title")
                yield OptionList(id="types")
            with Vertical(id="streams-pane"):
                yield FilterBar(id="filter")
                yield Static(id="filter-summary")
                yield VirtualTable(STREAM_COLUMNS, id="streams", empty_text="no streams match")
        yield RateChart(id="rate")
        yield StatusBar()
        yield KeyFooter()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#streams", VirtualTable)

    def on_mount(self) -> None:
        self._typing: Timer | None = None
        self._keep_cursor: int | None = None
        self.apply_filter(BrowserFilter())
        self._load_types()
        self.watch(self.app, "data_version", self._data_changed, init=False)

    def _data_changed(self, _version: int) -> None:
        """New events (follow mode) or the refresh key: reload what is shown, keeping the
        cursor where it was."""
        self._keep_cursor = self.table.cursor_row
        self.browser_filter = self.browser_filter
        self._load_types()

    # --- filter -------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one(FilterBar).focus()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBar).value = ""
        self._stop_typing()
        self.apply_filter(BrowserFilter())
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.browser_filter != BrowserFilter()
        return True

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        """Apply the filter a moment after typing stops (see `filter_delay`)."""
        self._stop_typing()
        self._typing = self.set_timer(max(0.001, self.filter_delay), self.flush_filter)

    def _stop_typing(self) -> None:
        if self._typing is not None:
            self._typing.stop()
            self._typing = None

    def flush_filter(self) -> bool:
        """Apply what the bar holds now; False (and one sentence) when it does not parse."""
        self._stop_typing()
        try:
            parsed = parse_filter(self.query_one(FilterBar).value)
        except FilterError as exc:
            self._summary(Content.assemble(("⚠ ", "bold $error"), (str(exc), "$error")))
            return False
        if parsed != self.browser_filter:
            self.apply_filter(parsed)
        return True

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self.flush_filter():
            self.table.focus()

    @on(OptionList.OptionSelected, "#types")
    def _type_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id
        chosen = None if option_id == ALL_TYPES else option_id
        new = self.browser_filter.with_type(chosen)
        self.query_one(FilterBar).value = new.to_query()
        self.apply_filter(new)

    def apply_filter(self, value: BrowserFilter) -> None:
        """Show what `value` selects (also callable from tests and the palette)."""
        self._keep_cursor = None
        self.browser_filter = value
        self.refresh_bindings()

    def watch_browser_filter(self, value: BrowserFilter) -> None:
        table = self.table
        columns = EVENT_COLUMNS if value.event_level else STREAM_COLUMNS
        if table.columns != columns:
            table.columns = columns
        reloading = self._keep_cursor is not None
        if not reloading:  # a new filter: placeholders until the answers come
            table.reset(None, 0)
            self._summary(Content.assemble(("counting…", "$text-muted")))
            self.query_one(RateChart).set_loading()
        table.empty_text = "no events match" if value.event_level else "no streams match"
        if value.event_level:
            self._show_events(value)
            self._count_events(value)
        else:
            self._show_streams(value)
        self._load_histogram(value)

    def _summary(self, content: Content) -> None:
        self.query_one("#filter-summary", Static).update(content)

    def _describe(self, value: BrowserFilter, count: int | None, noun: str) -> Content:
        parts: list[str | tuple[str, str]] = []
        if count is None:
            parts.append(("counting…", "$text-muted"))
        else:
            parts.append((f"{count:,}", "bold"))
            parts.append(f" {noun_for(count, noun)}")
        pieces = []
        if value.prefix:
            pieces.append(("id starts with", value.prefix))
        if value.stream_type:
            pieces.append(("type", value.stream_type))
        if value.event_types:
            pieces.append(("event", ",".join(value.event_types)))
        if value.actor:
            pieces.append(("actor", value.actor))
        if value.correlation_id:
            pieces.append(("correlation", value.correlation_id))
        if value.since:
            pieces.append(("since", when(value.since)))
        if value.until:
            pieces.append(("until", when(value.until)))
        for label, text in pieces:
            parts.append(("  ·  ", "$text-muted"))
            parts.append((label + " ", "$text-muted"))
            parts.append((shorten(visible_text(text), 40), "$accent"))
        if not pieces:
            parts.append(("  ·  all  ·  press / to filter", "$text-muted"))
        return Content.assemble(*parts)

    # --- workers ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="browser-list", exit_on_error=False)
    def _show_streams(self, value: BrowserFilter) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        count = source.count_streams(stream_type=value.stream_type, prefix=value.prefix)
        pager: KeysetPager[StreamInfo, str] = KeysetPager(
            lambda after, limit: source.streams(
                stream_type=value.stream_type, prefix=value.prefix, after=after, limit=limit
            ),
            key=lambda info: info.stream_id,
            to_row=stream_row,
        )
        self.app.call_from_thread(self._list_ready, value, pager, count, "stream")

    @work(thread=True, exclusive=True, group="browser-list", exit_on_error=False)
    def _show_events(self, value: BrowserFilter) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        event_filter = value.to_event_filter()
        pager: KeysetPager[RecordedEvent, int] = KeysetPager(
            lambda after, limit: list(
                source.read_all(after or 0, filter=event_filter, limit=limit)
            ),
            key=lambda event: event.position,
            to_row=event_row,
        )
        self.app.call_from_thread(self._list_ready, value, pager, None, "event")

    def _list_ready(
        self, value: BrowserFilter, pager: KeysetPager[Any, Any], count: int | None, noun: str
    ) -> None:
        if value != self.browser_filter:
            return  # the user moved on; a newer worker will fill the table
        self.table.reset(pager, count, cursor=self._keep_cursor or 0)
        self._keep_cursor = None
        if count is not None:
            self._summary(self._describe(value, count, noun))

    @work(thread=True, exclusive=True, group="browser-count", exit_on_error=False)
    def _count_events(self, value: BrowserFilter) -> None:
        count = self.app.source.count_events(value.to_event_filter())  # type: ignore[attr-defined]
        self.app.call_from_thread(self._events_counted, value, count)

    def _events_counted(self, value: BrowserFilter, count: int) -> None:
        if value == self.browser_filter:
            self.table.set_row_count(count)
            self._summary(self._describe(value, count, "event"))

    @work(thread=True, exclusive=True, group="browser-histogram", exit_on_error=False)
    def _load_histogram(self, value: BrowserFilter) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        buckets = source.event_histogram(60, value.to_event_filter())
        self.app.call_from_thread(self._histogram_ready, value, buckets)

    def _histogram_ready(self, value: BrowserFilter, buckets: list[tuple[datetime, int]]) -> None:
        if value == self.browser_filter:
            title = "events per slice" + (" (filtered)" if value != BrowserFilter() else "")
            self.query_one(RateChart).set_data(buckets, title)

    @work(thread=True, group="browser-types", exit_on_error=False)
    def _load_types(self) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        types = source.stream_types()
        total = sum(count for _, count in types)
        self.app.call_from_thread(self._types_ready, types, total)

    def _types_ready(self, types: list[tuple[str, int]], total: int) -> None:
        options = [Option(_type_label("all types", total), id=ALL_TYPES)]
        options += [Option(_type_label(name, count), id=name) for name, count in types]
        type_list = self.query_one("#types", OptionList)
        type_list.clear_options()
        type_list.add_options(options)

    # --- opening ------------------------------------------------------------------------
    @on(VirtualTable.RowSelected, "#streams")
    def _open_row(self, event: VirtualTable.RowSelected) -> None:
        key = event.row.key
        if isinstance(key, EventKey):
            self.app.open_stream(key.stream_id, key.version)  # type: ignore[attr-defined]
        else:
            self.app.open_stream(str(key))  # type: ignore[attr-defined]

    def correlation_id_in_focus(self) -> str | None:
        """For the global `c` key: the filter's correlation id, or the highlighted event's."""
        if self.browser_filter.correlation_id:
            return self.browser_filter.correlation_id
        row = self.table.cursor_value
        if row is not None and isinstance(row.key, EventKey):
            return row.key.correlation_id
        return None


def _type_label(name: str, count: int) -> Content:
    return Content.assemble(
        (shorten(visible_text(name), 16).ljust(17), ""), (f"{count:>9,}", "$text-muted")
    )
