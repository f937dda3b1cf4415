"""Correlation trace: every event of one correlation id across streams, in position order,
shown as the causation tree (which event caused which), with the time gap to the previous
event, so a saga or a transfer reads as one story.

An event whose `causation_id` names something outside the trace (a command id, or an event
of another correlation) starts its own branch and says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static, Tree

from explorer.app import ReportsWorkerErrors
from explorer.safe_text import shorten, visible_text
from explorer.widgets.status_bar import StatusBar
from store.records import RecordedEvent
from store.source import EventFilter

MAX_EVENTS = 5000
LONG_GAP = timedelta(hours=1)


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


class CorrelationScreen(ReportsWorkerErrors, Screen[None]):
    """All events sharing a correlation id, as a causation tree; enter opens one."""

    HELP_TITLE = "Correlation trace"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "edit_id", "Correlation id", key_display="/", id="correlation.edit"),
    ]

    def __init__(self, correlation_id: str | None = None) -> None:
        super().__init__()
        self.correlation_id = correlation_id
        self.events: list[RecordedEvent] = []

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
        tree: Tree[RecordedEvent | None] = Tree(Text("correlation trace"), id="correlation-tree")
        tree.show_root = False
        tree.guide_depth = 3
        yield tree
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "correlation trace"
        if self.correlation_id:
            self.trace(self.correlation_id)
        else:
            self.query_one("#correlation-input").focus()

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
        if correlation_id != self.correlation_id:
            return
        truncated = len(events) > MAX_EVENTS
        events = events[:MAX_EVENTS]
        self.events = events
        tree = self.query_one("#correlation-tree", Tree)
        tree.clear()
        if not events:
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
            f" event{'s' if len(events) != 1 else ''} across ",
            (f"{len(streams):,}", "bold"),
            f" stream{'s' if len(streams) != 1 else ''}, spanning {gap_text(span).strip('+ ')}",
            ("   ·   enter opens an event in its timeline", "$text-muted"),
        ]
        if truncated:
            parts.append((f"   (first {MAX_EVENTS:,} shown)", "$warning"))
        self._caption(Content.assemble(*parts))
        previous = {event.position: None for event in events}
        ordered = sorted(events, key=lambda event: event.position)
        last = None
        for event in ordered:
            previous[event.position] = None if last is None else event.recorded_at - last
            last = event.recorded_at
        known_ids = {event.event_id for event in events}

        def add(node: Any, item: tuple[RecordedEvent, list[Any]]) -> None:
            event, kids = item
            label = self._label(event, previous[event.position], known_ids)
            child = node.add(label, data=event, expand=True, allow_expand=bool(kids))
            for kid in kids:
                add(child, kid)

        for root in causation_forest(ordered):
            add(tree.root, root)
        tree.root.expand_all()
        tree.focus()
        tree.move_cursor(tree.root.children[0] if tree.root.children else None)

    def _label(self, event: RecordedEvent, gap: timedelta | None, known_ids: set[str]) -> Text:
        colours = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis")
        long_gap = gap is not None and gap >= LONG_GAP
        text.append(gap_text(gap), style=f"bold {colours['warning']}" if long_gap else "dim")
        text.append(f"  #{event.position:<9,}", style="dim")
        text.append(event.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "  ")
        text.append(shorten(visible_text(event.event_type), 26).ljust(27), style="bold")
        text.append(shorten(visible_text(event.stream_id), 30), style=colours["primary"])
        text.append(f" v{event.version}", style="dim")
        if event.actor:
            text.append("  by ", style="dim")
            text.append(shorten(visible_text(event.actor), 24))
        cause = event.causation_id
        if cause and cause not in known_ids:
            text.append("  ← caused by ", style="dim")
            text.append(shorten(visible_text(cause), 16), style="dim italic")
        return text

    @on(Tree.NodeSelected, "#correlation-tree")
    def _open(self, event: Tree.NodeSelected[RecordedEvent | None]) -> None:
        recorded = event.node.data
        if recorded is not None:
            self.app.open_stream(recorded.stream_id, recorded.version)  # type: ignore[attr-defined]

    def correlation_id_in_focus(self) -> str | None:
        return self.correlation_id
