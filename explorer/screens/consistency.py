"""Consistency: every stored snapshot and projection row that the events do not support.

Pushed from the browser's "consistency" action. `Engine.consistency` replays what each
claim covers (in a thread worker, with progress); each disagreeing claim becomes a row,
and selecting one opens the diff screen with the claim on the left and the replay on the
right. Claims that need code the explorer does not have (a snapshot written by an
aggregate whose `--domain` plugin is not loaded) are listed as *unchecked* rather than
compared against the generic fold, which would only produce noise.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from explorer.safe_text import shorten, visible_text
from explorer.screens.diff import DiffScreen, Side
from explorer.widgets.state_tree import get_field
from explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable

COLUMNS = [
    Column("claim", 10),
    Column("stream / projection key", 40),
    Column("at", 12, justify="right"),
    Column("diffs", 6, justify="right"),
    Column("first difference", 0),
]


def _path_text(path: Any) -> str:
    return ".".join(str(part) for part in (path or ())) or "(whole document)"


def problem_row(index: int, problem: Any) -> VirtualRow:
    """One table row for an `Inconsistency` (cells are untrusted strings)."""
    kind = str(get_field(problem, "kind", ""))
    differences = list(get_field(problem, "differences", ()) or ())
    first = differences[0] if differences else None
    first_text = ""
    if first is not None:
        first_text = f"{get_field(first, 'op', '')} {_path_text(get_field(first, 'path'))}"
    if kind == "snapshot":
        where = str(get_field(problem, "stream_id", ""))
        at = f"v{get_field(problem, 'version', '?')}"
    else:
        where = f"{get_field(problem, 'projection', '')}[{get_field(problem, 'key', '')}]"
        at = f"pos {get_field(problem, 'position', '?')}"
    return VirtualRow(index, (kind, where, at, str(len(differences)), first_text))


class ConsistencyScreen(Screen[None]):
    """The list of claims that disagree with the replay (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Check again", id="consistency.recheck"),
    ]

    DEFAULT_CSS = """
    ConsistencyScreen {
        layout: vertical;
    }
    ConsistencyScreen #cons-header {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    ConsistencyScreen ProgressBar {
        height: 1;
        padding: 0 1;
    }
    ConsistencyScreen #cons-summary {
        height: auto;
        max-height: 6;
        padding: 0 1;
    }
    ConsistencyScreen VirtualTable {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[Any] = []
        self.report: Any = None

    def compose(self) -> ComposeResult:
        from explorer.widgets.status_bar import StatusBar

        yield StatusBar()
        yield Static(
            Text.assemble(
                ("consistency ", "dim"),
                ("snapshots and projection rows checked against a replay of the events", ""),
            ),
            id="cons-header",
        )
        yield ProgressBar(id="cons-progress", show_eta=False)
        yield Static("", id="cons-summary")
        table = VirtualTable(COLUMNS, None, row_count=0, empty_text="checking…", id="cons-table")
        table.border_title = "claims that disagree with the events (enter: diff)"
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_recheck()

    def action_recheck(self) -> None:
        self.query_one("#cons-summary", Static).update(Text("checking…", style="dim"))
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._check()

    @work(thread=True, exclusive=True, group="consistency", description="checking consistency")
    def _check(self) -> None:
        app: Any = self.app

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, done, total)

        try:
            report = app.engine.consistency(progress)
        except Exception as exc:
            self.app.call_from_thread(self._failed, _sentence(exc))
            return
        self.app.call_from_thread(self._done, report)

    def _progress(self, done: int, total: int) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _failed(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.query_one("#cons-summary", Static).update(Text(message, style="bold red"))

    def _done(self, report: Any) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.report = report
        self.problems = list(get_field(report, "problems", ()) or ())
        unchecked = list(get_field(report, "unchecked", ()) or ())
        snapshots = get_field(report, "checked_snapshots", 0)
        rows = get_field(report, "checked_rows", 0)
        summary = Text()
        if self.problems:
            summary.append(f"{len(self.problems)} claim(s) disagree", style="bold red")
        else:
            summary.append("every checked claim agrees with the events", style="bold green")
        summary.append(f"   ·   checked {snapshots:,} snapshot(s) and {rows:,} projection row(s)")
        if unchecked:
            summary.append(f"   ·   {len(unchecked)} unchecked (their code is not loaded): ")
            summary.append(visible_text(shorten("; ".join(unchecked), 300)), style="dim")
        self.query_one("#cons-summary", Static).update(summary)
        problems = self.problems

        def fetch(start: int, limit: int) -> list[VirtualRow]:
            return [
                problem_row(i, problems[i]) for i in range(start, min(start + limit, len(problems)))
            ]

        table = self.query_one(VirtualTable)
        table.empty_text = "no disagreements"
        table.reset(fetch, row_count=len(problems))
        table.focus()

    @on(VirtualTable.RowSelected, "#cons-table")
    def _selected(self, event: VirtualTable.RowSelected) -> None:
        index = event.row.key
        if isinstance(index, int) and 0 <= index < len(self.problems):
            self.app.push_screen(diff_for(self.problems[index]))


def diff_for(problem: Any) -> DiffScreen:
    """The diff screen for one inconsistency: the stored claim left, the replay right."""
    if get_field(problem, "kind") == "snapshot":
        stream = str(get_field(problem, "stream_id", ""))
        version = int(get_field(problem, "version", 0) or 0)
        return DiffScreen(
            stream, version=version, left=Side("snapshot", version), right=Side("version", version)
        )
    name = str(get_field(problem, "projection", ""))
    key = str(get_field(problem, "key", ""))
    return DiffScreen(
        key,
        left=Side("projection", projection=name, key=key),
        right=Side("projection-replay", projection=name, key=key),
    )


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return visible_text(shorten(text, 200))
