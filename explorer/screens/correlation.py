"""Correlation trace: every event of one correlation id across streams, in position order,
shown as the causation tree (which event caused which), with the time gap to the previous
event, so a saga or a transfer reads as one story.

The trace is a table, not a widget tree: the tree is drawn in its first column (guides
and the event type), so every other column -- stream, version, time, gap, actor -- lines
up whatever the depth, and each is as wide as its content while there is room.

An event whose `causation_id` names something outside the trace (a command id, or an event
of another correlation) starts its own branch and says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from eventscope.explorer.app import ReportsWorkerErrors
from eventscope.explorer.integrity_marks import FLAG, ROW_STYLE, app_marks
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.explorer.wording import noun_for
from eventscope.store.records import RecordedEvent
from eventscope.store.source import EventFilter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Input, Static

MAX_EVENTS = 5000
LONG_GAP = timedelta(hours=1)
COLUMNS = [
    Column("event (causation tree)", 24, min_width=12, priority=10),
    Column("stream", 14, min_width=10, priority=9),
    Column("v", 3, justify="right", min_width=2, priority=8),
    Column("gap", 8, justify="right", min_width=8, priority=5),
    Column("recorded (UTC)", 23, min_width=19, priority=4, short="recorded"),
    Column("actor", 12, min_width=8, priority=7),
    Column("position", 8, justify="right", min_width=4, priority=2, short="pos"),
    Column("caused by (outside the trace)", 16, min_width=8, priority=3, short="caused by"),
]


def gap_text(gap: timedelta | None) -> str:
    """A short, fixed-width time gap: '+0.250s', '+3m12s', '+2h05m', '+4d03h'."""
    if gap is None:
        return "start".rjust(8)
    seconds = gap.total_seconds()
    if seconds < 60:
        text = f"+{seconds:.3f}s" if seconds < 10 else f"+{seconds:.1f}s"
    elif seconds < 3600:
        text = f"+{int(seconds // 60)}m{int(seconds % 60):02d}s"
    elif seconds < 86400:
        text = f"+{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    else:
        text = f"+{int(seconds // 86400)}d{int(seconds % 86400 // 3600):02d}h"
    return text.rjust(8)


def causation_forest(events: list[RecordedEvent]) -> list[tuple[RecordedEvent, list[Any]]]:
    """[(event, children)] roots in position order; children nested the same way."""
    by_id = {event.event_id: event for event in events}
    children: dict[str, list[RecordedEvent]] = {}
    roots: list[RecordedEvent] = []
    for event in events:
        parent = event.causation_id
        if parent is not None and parent in by_id and parent != event.event_id:
            children.setdefault(parent, []).append(event)
        else:
            roots.append(event)

    def build(event: RecordedEvent, seen: frozenset[str]) -> tuple[RecordedEvent, list[Any]]:
        kids = [k for k in children.get(event.event_id, []) if k.event_id not in seen]
        inner = seen | {event.event_id}
        return event, [build(kid, inner) for kid in kids]

    return [build(root, frozenset()) for root in roots]


def tree_rows(
    forest: list[tuple[RecordedEvent, list[Any]]],
) -> list[tuple[str, RecordedEvent]]:
    """(guides, event) in display order: each event under the one that caused it."""
    out: list[tuple[str, RecordedEvent]] = []

    def walk(item: tuple[RecordedEvent, list[Any]], lead: str, last: bool, root: bool) -> None:
        event, kids = item
        out.append((("" if root else lead + ("└─ " if last else "├─ ")), event))
        inner = "" if root else lead + ("   " if last else "│  ")
        for index, kid in enumerate(kids):
            walk(kid, inner, index == len(kids) - 1, False)

    for root in forest:
        walk(root, "", True, True)
    return out


class CorrelationScreen(ReportsWorkerErrors, Screen[None]):
    """All events sharing a correlation id, as a causation tree; enter opens one."""

    HELP_TITLE = "Correlation trace"
    HELP_TEXT = (
        "Every event of one correlation id, across streams, as a causation tree: each "
        "event sits under the event that caused it. The gap column is the time since the "
        "previous event (over an hour stands out). Enter opens an event in its timeline."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "edit_id", "Correlation id", key_display="/", id="correlation.edit"),
    ]

    def __init__(self, correlation_id: str | None = None) -> None:
        super().__init__()
        self.correlation_id = correlation_id
        self.events: list[RecordedEvent] = []
        self._by_position: dict[int, RecordedEvent] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Input(
            # Shown as visible escapes: an id from the data may hold ESC sequences, and an
            # Input renders its value raw. Submitting the shown text traces the raw id.
            value=visible_text(self.correlation_id or ""),
            placeholder="correlation id (enter to trace)",
            id="correlation-input",
        )
        yield Static(id="correlation-caption")
        yield VirtualTable(COLUMNS, None, row_count=0, empty_text="", id="correlation-tree")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "correlation trace"
        self.watch(self.app, "data_version", self._data_changed, init=False)
        if self.correlation_id:
            self.trace(self.correlation_id)
        else:
            self.query_one("#correlation-input").focus()

    def _data_changed(self, _version: int) -> None:
        if self.correlation_id:
            self._load(self.correlation_id)

    def action_edit_id(self) -> None:
        self.query_one("#correlation-input").focus()

    @on(Input.Submitted, "#correlation-input")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self.correlation_id and value == visible_text(self.correlation_id).strip():
            value = self.correlation_id
        if value:
            self.trace(value)

    def trace(self, correlation_id: str) -> None:
        self.correlation_id = correlation_id
        self._caption(Content.assemble(("tracing…", "$text-muted")))
        self._load(correlation_id)

    def _caption(self, content: Content) -> None:
        self.query_one("#correlation-caption", Static).update(content)

    @work(thread=True, exclusive=True, group="correlation", exit_on_error=False)
    def _load(self, correlation_id: str) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
        found = source.read_all(
            filter=EventFilter(correlation_id=correlation_id), limit=MAX_EVENTS + 1
        )
        events = list(found)
        self.app.call_from_thread(self._show, correlation_id, events)

    def _show(self, correlation_id: str, events: list[RecordedEvent]) -> None:
        if correlation_id != self.correlation_id or not self.is_attached:
            return
        truncated = len(events) > MAX_EVENTS
        events = events[:MAX_EVENTS]
        self.events = events
        table = self.query_one("#correlation-tree", VirtualTable)
        if not events:
            table.reset(None, 0)
            self._caption(
                Content.assemble(
                    ("no events carry correlation id ", "$warning"),
                    (shorten(visible_text(correlation_id), 60), "bold"),
                )
            )
            return
        streams = {event.stream_id for event in events}
        span = events[-1].recorded_at - events[0].recorded_at
        parts: list[str | tuple[str, str]] = [
            (f"{len(events):,}", "bold"),
            f" {noun_for(len(events), 'event')} across ",
            (f"{len(streams):,}", "bold"),
            f" {noun_for(len(streams), 'stream')}, spanning {gap_text(span).strip('+ ')}",
            ("   ·   enter opens an event in its timeline", "$text-muted"),
        ]
        if truncated:
            parts.append((f"   (first {MAX_EVENTS:,} shown)", "$warning"))
        self._caption(Content.assemble(*parts))
        ordered = sorted(events, key=lambda event: event.position)
        gaps: dict[int, timedelta | None] = {}
        last = None
        for event in ordered:
            gaps[event.position] = None if last is None else event.recorded_at - last
            last = event.recorded_at
        known_ids = {event.event_id for event in events}
        rows = [
            self._row(guides, event, gaps[event.position], known_ids)
            for guides, event in tree_rows(causation_forest(ordered))
        ]
        self._by_position = {event.position: event for event in events}
        table.reset(lambda start, limit: rows[start : start + limit], len(rows))
        table.focus()

    def _row(
        self, guides: str, event: RecordedEvent, gap: timedelta | None, known_ids: set[str]
    ) -> VirtualRow:
        colours = self.app.theme_variables
        mark = app_marks(self.app).get(event.position)
        tree = Text(no_wrap=True)
        tree.append(guides, style="dim")
        if mark:  # verify found this event altered (`explorer.integrity_marks`)
            tree.append(f"{FLAG} ", style=ROW_STYLE)
        tree.append(visible_text(event.event_type), style="bold")
        long_gap = gap is not None and gap >= LONG_GAP
        gap_cell = Text(
            gap_text(gap).strip(), style=f"bold {colours['warning']}" if long_gap else "dim"
        )
        cause = event.causation_id
        outside = cause if cause and cause not in known_ids else ""
        return VirtualRow(
            event.position,
            (
                tree,
                Text(visible_text(event.stream_id), style=colours["primary"]),
                str(event.version),
                gap_cell,
                event.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                event.actor or "—",
                f"{event.position:,}",
                f"← {outside}" if outside else "",
            ),
            style=ROW_STYLE if mark else None,
            copy=("event id", str(event.event_id)),
        )

    @on(VirtualTable.RowSelected, "#correlation-tree")
    def _open(self, event: VirtualTable.RowSelected) -> None:
        recorded = self._by_position.get(event.row.key)  # type: ignore[arg-type]
        if recorded is not None:
            self.app.open_stream(recorded.stream_id, recorded.version)  # type: ignore[attr-defined]

    def correlation_id_in_focus(self) -> str | None:
        return self.correlation_id
