"""Consistency: every stored snapshot and projection row that the events do not support.

Pushed from the browser's "consistency" action. `Engine.consistency` replays what each
claim covers (in a thread worker, with progress); each disagreeing claim becomes a row,
and selecting one opens the diff screen with the claim on the left and the replay on the
right. Claims that need code the explorer does not have (a snapshot written by an
aggregate whose `--domain` plugin is not loaded) are listed as *unchecked* rather than
compared against the generic fold, which would only produce noise.

Above the claims, each projection checkpoint (or processor token) is listed with its
position and its lag against the head (`domain.checkpoint_lag`): a stored read model is
only as current as its checkpoint, so its lag belongs next to the claims it makes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.screens.diff import DiffScreen, Side
from eventscope.explorer.widgets.diff_view import number_delta
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.state_tree import format_value, get_field, path_text
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.explorer.wording import plural, screen_sentence
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

COLUMNS = [
    Column("claim", 10, min_width=8, priority=6),
    Column("stream / key", 14, min_width=12, priority=9),
    Column("at", 8, justify="right", min_width=4, priority=8),
    Column("written by", 24, min_width=10, priority=4),
    Column("diffs", 5, justify="right", min_width=3, priority=3),
    Column("claimed → proven by the events", 0, min_width=20, priority=7, short="claim → events"),
]


def difference_text(entry: Any) -> str:
    """``balance_cents: 1007 → 7 (−1,000)``: the field, what the claim says, what the
    events prove, and the delta for two numbers."""
    path = path_text(tuple(get_field(entry, "path", ()) or ()))
    op = str(get_field(entry, "op", "changed"))
    before, after = get_field(entry, "before"), get_field(entry, "after")
    if op == "added":
        return f"{path}: missing → {format_value(after)}"
    if op == "removed":
        return f"{path}: {format_value(before)} → absent"
    delta = number_delta(before, after)
    return f"{path}: {format_value(before)} → {format_value(after)}" + (
        f" ({delta})" if delta else ""
    )


def checkpoints_text(lags: list[Any]) -> Text:
    """``checkpoints  NAME at 1,200 · head 1,500 · 300 behind   ·   ...``: one entry per
    checkpoint, its lag in events after it (red when behind, green when caught up)."""
    text = Text("checkpoints  ", style="dim")
    if not lags:
        text.append("this source keeps no projection checkpoints", style="dim")
        return text
    for index, lag in enumerate(lags):
        if index:
            text.append("   ·   ", style="dim")
        text.append(visible_text(shorten(lag.name, 48)), style="bold")
        text.append(f" at {lag.position:,} · head {lag.head:,} · ")
        if lag.lag_events:
            text.append(f"{plural(lag.lag_events, 'event')} behind", style="bold red")
        else:
            text.append("caught up", style="green")
    return text


def problem_row(index: int, problem: Any) -> VirtualRow:
    """One table row for an `Inconsistency` (cells are untrusted strings)."""
    kind = str(get_field(problem, "kind", ""))
    differences = list(get_field(problem, "differences", ()) or ())
    first_text = difference_text(differences[0]) if differences else ""
    if len(differences) > 1:
        first_text += f"  (+{len(differences) - 1} more)"
    written = ""
    if kind == "snapshot":
        where = str(get_field(problem, "stream_id", ""))
        version = get_field(problem, "version")
        at = f"v{version:,}" if isinstance(version, int) else "—"
        code, created = get_field(problem, "code_version"), get_field(problem, "created_at")
        written = f"{code or '?'} at {created:%Y-%m-%d %H:%M}" if created else str(code or "")
    else:  # a projection row: the projection names the claim, its key says which row
        kind = str(get_field(problem, "projection", "")) or kind
        where = str(get_field(problem, "key", ""))
        position = get_field(problem, "position")
        at = f"pos {position:,}" if isinstance(position, int) else "—"
    return VirtualRow(
        index, (kind, where, at, written, str(len(differences)), first_text), copy=("key", where)
    )


class ConsistencyScreen(Screen[None]):
    """The list of claims that disagree with the replay (see the module docstring)."""

    HELP_TITLE = "Consistency"
    HELP_TEXT = (
        "Every stored snapshot and projection row checked against a replay of the events. "
        "Each row is a claim that disagrees: what it says, what the events prove, and the "
        "difference for numbers. Enter opens the diff, the claim on the left."
    )

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
    ConsistencyScreen #cons-checkpoints {
        height: auto;
        max-height: 4;
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
        self.checkpoint_lags: list[Any] = []

    def compose(self) -> ComposeResult:
        from eventscope.explorer.widgets.status_bar import StatusBar

        yield StatusBar()
        yield Static(
            Text.assemble(
                ("consistency ", "dim"),
                ("snapshots and projection rows checked against a replay of the events", ""),
            ),
            id="cons-header",
        )
        yield ProgressBar(id="cons-progress", show_eta=False)
        yield Static("", id="cons-checkpoints")
        yield Static("", id="cons-summary")
        table = VirtualTable(COLUMNS, None, row_count=0, empty_text="checking…", id="cons-table")
        table.border_title = "claims that disagree with the events (enter: diff)"
        yield table
        yield KeyFooter()

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

        from eventscope.domain.checkpoint_lag import checkpoint_lags

        try:
            lags = checkpoint_lags(app.engine.source)
            self.app.call_from_thread(self._show_checkpoints, lags)
            report = app.engine.consistency(progress)
        except Exception as exc:
            self.app.call_from_thread(self._failed, screen_sentence(exc))
            return
        self.app.call_from_thread(self._done, report)

    def _progress(self, done: int, total: int) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _show_checkpoints(self, lags: list[Any]) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.checkpoint_lags = lags
        self.query_one("#cons-checkpoints", Static).update(checkpoints_text(lags))

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
            count = len(self.problems)
            verb = "disagrees" if count == 1 else "disagree"
            summary.append(f"{plural(count, 'claim')} {verb}", style="bold red")
        else:
            summary.append("every checked claim agrees with the events", style="bold green")
        summary.append(
            f"   ·   checked {plural(snapshots, 'snapshot')} and {plural(rows, 'projection row')}"
        )
        if unchecked:
            summary.append(f"   ·   {len(unchecked):,} unchecked (their code is not loaded): ")
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
