"""Field history: every event that changed one field, with before → after, the time and
the actor -- the "why is this balance wrong?" screen (blame only names the last writer).

Opened from the timeline (`h` on a field of the state pane). The history is read in a
worker (`domain.field_history`, with progress on long streams); `enter` on a row puts
the timeline's slider on that event.
"""

from __future__ import annotations

from typing import Any

from eventscope.explorer.app import ReportsWorkerErrors
from eventscope.explorer.integrity_marks import ROW_STYLE, app_marks, flagged
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.screens.timeline_data import display_unit
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.state_tree import copy_value, format_time, format_value, path_text
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.explorer.wording import plural, screen_sentence, signed
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

COLUMNS = [
    Column("v", 5, justify="right", min_width=3, priority=9),
    Column("recorded (UTC)", 19, min_width=16, priority=6, short="recorded"),
    Column("actor", 16, min_width=8, priority=8),
    Column("event type", 16, min_width=8, priority=5),
    Column("before → after", 0, min_width=16, priority=7),
    Column("change", 10, justify="right", min_width=6, priority=4),
]
"""What gives way at 80 columns: the change first (before → after already says it), then
the event type (enter opens the event); who, when and the values stay -- the question
this screen answers."""


def value_text(value: Any, unit: Any) -> str:
    """A value as the history shows it: JSON, or a number in the domain's unit."""
    if unit is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return str(unit.format(value))
    return format_value(value)


def delta_text(before: Any, after: Any, unit: Any) -> str:
    """``+1,000`` / ``−2.50`` for two numbers; empty otherwise."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after))
    if not numbers:
        return ""
    delta = after - before
    if unit is not None:
        return signed(unit.shown(delta), unit.decimals)
    return signed(delta, 0 if isinstance(delta, int) else 2)


def change_row(change: Any, unit: Any, mark: str | None = None) -> VirtualRow:
    """One change; `mark` flags an event verify found altered (`integrity_marks`)."""
    if change.kind == "added":
        values = f"set to {value_text(change.after, unit)}"
    elif change.kind == "removed":
        values = f"{value_text(change.before, unit)} → removed"
    else:
        values = f"{value_text(change.before, unit)} → {value_text(change.after, unit)}"
    return VirtualRow(
        change.version,
        (
            flagged(str(change.version), mark),
            format_time(change.recorded_at),
            change.actor or "—",
            change.event_type,
            values,
            delta_text(change.before, change.after, unit),
        ),
        style=ROW_STYLE if mark else None,
        copy=("value after v" + str(change.version), copy_value(change.after)),
    )


class FieldHistoryScreen(ReportsWorkerErrors, Screen[None]):
    """Every change of one field of one stream (see the module docstring)."""

    HELP_TITLE = "Field history"
    HELP_TEXT = (
        "Every event that changed this field, oldest first: the value before and after, "
        "the change for numbers, who did it and when. Enter puts the timeline on that "
        "event; y copies the value after it."
    )
    DEFAULT_CSS = """
    FieldHistoryScreen #fh-header {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    FieldHistoryScreen ProgressBar {
        height: 1;
        padding: 0 1;
    }
    FieldHistoryScreen #fh-table {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
    }
    """

    def __init__(self, stream_id: str, path: tuple[Any, ...], timeline: Any) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.path = path
        self.timeline = timeline
        self.changes: list[Any] = []

    def compose(self) -> ComposeResult:
        yield StatusBar()
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append("field history ", style="dim")
        header.append(visible_text(path_text(self.path)), style="bold")
        header.append(" of ", style="dim")
        header.append(visible_text(shorten(self.stream_id, 60)), style="bold")
        yield Static(header, id="fh-header")
        yield ProgressBar(id="fh-progress", show_eta=False)
        table = VirtualTable(COLUMNS, None, row_count=0, empty_text="reading…", id="fh-table")
        table.border_title = "every event that changed the field"
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ProgressBar).update(total=None)
        self._load()

    @work(thread=True, exclusive=True, group="field-history", description="reading the field")
    def _load(self) -> None:
        from eventscope.domain.field_history import field_history

        app: Any = self.app

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._progress, done, total)

        try:
            changes = field_history(self.timeline, self.path, progress=progress)
            unit = display_unit(app.engine, self.path)
        except Exception as exc:  # one sentence on screen; the app keeps working
            app.call_from_thread(self._failed, screen_sentence(exc))
            return
        app.call_from_thread(self._ready, changes, unit)

    def _progress(self, done: int, total: int) -> None:
        if self.is_attached:
            self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _failed(self, message: str) -> None:
        if self.is_attached:
            self.query_one(VirtualTable).empty_text = visible_text(shorten(message, 200))
            self.query_one(VirtualTable).refresh()

    def _ready(self, changes: list[Any], unit: Any) -> None:
        if not self.is_attached:  # the screen was closed while the worker ran
            return
        self.changes = changes
        marks = app_marks(self.app)
        rows = [change_row(change, unit, marks.get(change.position)) for change in changes]
        table = self.query_one(VirtualTable)
        table.empty_text = "no event ever set this field"
        table.reset(lambda start, limit: rows[start : start + limit], len(rows))
        table.move_cursor(max(0, len(rows) - 1))
        length = self.timeline.length
        table.border_subtitle = f"{plural(len(rows), 'change')} in {plural(length, 'event')}"
        self.query_one(ProgressBar).display = False
        table.focus()

    @on(VirtualTable.RowSelected, "#fh-table")
    def _selected(self, event: VirtualTable.RowSelected) -> None:
        self._open(int(event.row.key))  # type: ignore[call-overload]

    def _open(self, version: int) -> None:
        """Back to this stream's timeline, with the slider on `version`."""
        from eventscope.explorer.screens.timeline import TimelineScreen

        stack = self.app.screen_stack
        below = stack[-2] if len(stack) >= 2 else None
        self.app.pop_screen()
        if isinstance(below, TimelineScreen) and below.stream_id == self.stream_id:
            below.goto(version)
        else:
            self.app.push_screen(TimelineScreen(self.stream_id, version))
