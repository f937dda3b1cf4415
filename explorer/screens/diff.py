"""Diff: compare any two derivations of a stream's state, and find where they part.

Each side is one of: the state replayed at a version, a stored snapshot, a stored
projection row, or that projection replayed from events. Snapshots and projection rows
are *claims*; the replay is what the events prove, so a reviewer typically puts the claim
on the left and the replay on the right ("added" = the events prove a field the claim
lacks). "Find first divergence" asks `Engine.first_divergent_snapshot` (a bisect over the
stream's snapshots, then an exact check of those before its answer) and jumps the
timeline to the first snapshot that is wrong.

All resolving and diffing runs in thread workers; the screen only shows ready lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from domain.diff import diff
from explorer.safe_text import shorten, visible_text
from explorer.widgets.diff_view import DiffCounts, DiffView, build_diff_lines
from explorer.widgets.lines_view import Line
from explorer.widgets.state_tree import StateTree, build_state_lines

Kind = Literal["version", "snapshot", "projection", "projection-replay"]
KINDS: list[tuple[str, Kind]] = [
    ("state at version", "version"),
    ("stored snapshot", "snapshot"),
    ("projection row (stored)", "projection"),
    ("projection (replayed)", "projection-replay"),
]


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff; `version` for versions and snapshots, `projection`/`key` for
    projection rows (the key defaults to the stream id)."""

    kind: Kind = "version"
    version: int = 0
    projection: str = ""
    key: str = ""

    def label(self) -> str:
        if self.kind == "version":
            return f"state at v{self.version:,}"
        if self.kind == "snapshot":
            return f"snapshot at v{self.version:,}"
        what = "stored row" if self.kind == "projection" else "replayed"
        return f"{self.projection}[{self.key}] ({what})"

    def text(self) -> str:
        """What the side's input box shows."""
        if self.kind in ("version", "snapshot"):
            return str(self.version)
        return f"{self.projection} {self.key}".strip()


def parse_side(kind: Kind, text: str, stream_id: str) -> Side:
    """Read a side from the picker; raises ValueError with a sentence for the user."""
    text = text.strip()
    if kind in ("version", "snapshot"):
        digits = text.lstrip("v").replace(",", "")
        if not digits.isdigit():
            raise ValueError(
                f"{'a version' if kind == 'version' else 'a snapshot version'} "
                f"is a whole number, not {visible_text(shorten(text, 30))!r}"
            )
        return Side(kind, int(digits))
    name, _, key = text.partition(" ")
    if not name:
        raise ValueError("type a projection name (and optionally a key; the stream id by default)")
    return Side(kind, projection=name, key=key.strip() or stream_id)


@dataclass(frozen=True, slots=True)
class DiffInfo:
    """What can be compared for this stream: loaded once in a worker."""

    length: int
    snapshots: tuple[int, ...]
    projections: tuple[str, ...]


class DiffScreen(Screen[None]):
    """Two pickers, a counts line and the tree diff (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "first_divergence", "First divergence", id="diff.bisect"),
        Binding("s", "swap", "Swap sides", id="diff.swap"),
        Binding("ctrl+r", "compare", "Compare", id="diff.compare"),
    ]

    DEFAULT_CSS = """
    DiffScreen {
        layout: vertical;
    }
    DiffScreen #diff-header {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    DiffScreen .diff-pickers {
        height: 3;
        padding: 0 1;
    }
    DiffScreen .diff-pickers Label {
        width: 8;
        padding: 1 0 0 0;
        text-style: bold;
        color: $text-primary;
    }
    DiffScreen .diff-pickers Select {
        width: 30;
    }
    DiffScreen .diff-pickers Input {
        width: 1fr;
    }
    DiffScreen .diff-pickers Button {
        margin-left: 1;
        width: 20;
    }
    DiffScreen #diff-info {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    DiffScreen #diff-counts {
        height: 1;
        padding: 0 1;
        text-style: bold;
    }
    DiffScreen #diff-sides {
        height: 3fr;
    }
    DiffScreen .diff-side {
        width: 1fr;
        height: 1fr;
        border: round $primary 30%;
        border-title-color: $text-muted;
        padding: 0 0 0 1;
    }
    DiffScreen DiffView {
        height: 2fr;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        padding: 0 0 0 1;
    }
    """

    def __init__(
        self,
        stream_id: str,
        *,
        version: int | None = None,
        left: Side | None = None,
        right: Side | None = None,
    ) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.version = version
        self.left = left
        self.right = right
        self.info: DiffInfo | None = None
        self.counts: DiffCounts | None = None
        self.error: str | None = None

    # --- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from explorer.widgets.status_bar import StatusBar

        yield StatusBar()
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append("diff ", style="dim")
        header.append(visible_text(shorten(self.stream_id, 100)), style="bold")
        yield Static(header, id="diff-header")
        for side in ("left", "right"):
            with Horizontal(classes="diff-pickers"):
                yield Label(side, id=f"{side}-label")
                yield Select(KINDS, allow_blank=False, value="version", id=f"{side}-kind")
                yield Input(id=f"{side}-value", placeholder="a version number")
                if side == "left":
                    yield Button("Compare", id="compare", variant="primary")
                else:
                    yield Button("First divergence", id="bisect")
        yield Static("", id="diff-info", markup=False)
        yield Static("", id="diff-counts")
        view = DiffView(id="diff-view")
        view.border_title = "differences"
        yield view
        with Horizontal(id="diff-sides"):
            for name in ("left", "right"):
                tree = StateTree(id=f"{name}-state", classes="diff-side")
                tree.border_title = name
                yield tree
        yield Footer()

    def on_mount(self) -> None:
        self._load_info()

    # --- loading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="diff-info", description="reading the stream")
    def _load_info(self) -> None:
        app: Any = self.app
        try:
            projections = tuple(app.source.projection_names())
            info = DiffInfo(0, (), projections)
            if app.source.stream_info(self.stream_id) is not None:
                timeline = app.engine.timeline(self.stream_id)
                snapshots = tuple(s.version for s in app.source.snapshots(self.stream_id))
                info = DiffInfo(int(timeline.length), snapshots, projections)
            elif self.left is None or self.right is None:
                raise LookupError(f"there is no stream {self.stream_id!r} in this source")
        except Exception as exc:
            self.app.call_from_thread(self._show_error, _sentence(exc))
            return
        self.app.call_from_thread(self._info_ready, info)

    def _info_ready(self, info: DiffInfo) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.info = info
        left, right = self.left, self.right
        if left is None or right is None:
            left, right = default_sides(info, self.version)
        self._set_pickers(left, right)
        parts = [f"{info.length:,} events"]
        parts.append(
            "snapshots at v" + ", v".join(f"{v:,}" for v in info.snapshots[:12])
            if info.snapshots
            else "no stored snapshots"
        )
        if info.projections:
            parts.append("projections: " + ", ".join(info.projections[:6]))
        self.query_one("#diff-info", Static).update(visible_text("   ·   ".join(parts)))
        self.action_compare()

    def _set_pickers(self, left: Side, right: Side) -> None:
        self.left, self.right = left, right
        for name, side in (("left", left), ("right", right)):
            self.query_one(f"#{name}-kind", Select).value = side.kind
            self.query_one(f"#{name}-value", Input).value = side.text()

    def _read_side(self, name: str) -> Side:
        kind = self.query_one(f"#{name}-kind", Select).value
        text = self.query_one(f"#{name}-value", Input).value
        return parse_side(kind, text, self.stream_id)  # type: ignore[arg-type]

    # --- comparing ----------------------------------------------------------------------
    def action_compare(self) -> None:
        try:
            left, right = self._read_side("left"), self._read_side("right")
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.left, self.right = left, right
        self.query_one("#diff-counts", Static).update(Text("comparing…", style="dim"))
        self._compare(left, right)

    @work(thread=True, exclusive=True, group="diff-compare", description="comparing")
    def _compare(self, left: Side, right: Side) -> None:
        try:
            left_state, right_state = self._resolve(left), self._resolve(right)
            entries = diff(left_state, right_state)
            lines, counts = build_diff_lines(entries)
            # Each side as a tree, the differing fields marked where they sit.
            left_lines = build_state_lines(
                left_state, [e for e in entries if e.op != "added"], ghosts=False
            )
            right_lines = build_state_lines(
                right_state, [e for e in entries if e.op != "removed"], ghosts=False
            )
        except Exception as exc:
            self.app.call_from_thread(self._show_error, _sentence(exc))
            return
        self.app.call_from_thread(
            self._show_diff, left, right, lines, counts, (left_lines, right_lines)
        )

    def _resolve(self, side: Side) -> dict[str, Any]:
        """The JSON state a side stands for (runs in a worker)."""
        app: Any = self.app
        engine, source = app.engine, app.source
        if side.kind == "version":
            return engine.timeline(self.stream_id).state_at(side.version).state
        if side.kind == "snapshot":
            return engine.snapshot(self.stream_id, side.version).state
        row = source.projection_row(side.projection, side.key)
        if side.kind == "projection":
            if row is None:
                raise LookupError(
                    f"projection {side.projection!r} has no stored row with key {side.key!r}"
                )
            return row.document
        position = source.checkpoints().get(side.projection, row.position if row else None)
        return engine.projection_as_of(side.projection, position).get(side.key, {})

    def _show_diff(
        self,
        left: Side,
        right: Side,
        lines: list[Line],
        counts: DiffCounts,
        sides: tuple[list[Line], list[Line]],
    ) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.error = None
        self.counts = counts
        summary = Text(no_wrap=True)
        summary.append(f"{visible_text(left.label())}  →  {visible_text(right.label())}:   ")
        if counts.total:
            summary.append(f"+{counts.added} added", style="bold green")
            summary.append("   ")
            summary.append(f"−{counts.removed} removed", style="bold red")
            summary.append("   ")
            summary.append(f"~{counts.changed} changed", style="bold yellow")
        else:
            summary.append("no differences: both sides agree", style="bold")
        self.query_one("#diff-counts", Static).update(summary)
        view = self.query_one(DiffView)
        view.set_lines(lines, keep_scroll=False)
        view.border_title = Text(f"{counts.total} difference{'s' if counts.total != 1 else ''}")
        for name, side, side_lines in (("left", left, sides[0]), ("right", right, sides[1])):
            tree = self.query_one(f"#{name}-state", StateTree)
            tree.set_lines(side_lines, keep_scroll=False)
            tree.border_title = Text(f"{name}: {visible_text(side.label())}")

    def _show_error(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.error = message
        self.query_one("#diff-counts", Static).update(Text(message, style="bold red"))
        self.query_one(DiffView).set_lines([])
        for name in ("left", "right"):
            self.query_one(f"#{name}-state", StateTree).set_lines([])

    # --- actions ------------------------------------------------------------------------
    def action_swap(self) -> None:
        if self.left is not None and self.right is not None:
            self._set_pickers(self.right, self.left)
            self.action_compare()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_compare()
        self.query_one(DiffView).focus()  # so the screen's keys (s, f) work straight away

    @on(Select.Changed)
    def _kind_changed(self, event: Select.Changed) -> None:
        name = "left" if event.select.id == "left-kind" else "right"
        box = self.query_one(f"#{name}-value", Input)
        kind = event.value
        if kind in ("projection", "projection-replay"):
            box.placeholder = "projection name [key]"
            if box.value.strip().isdigit() and self.info and self.info.projections:
                box.value = f"{self.info.projections[0]} {self.stream_id}"
        else:
            box.placeholder = "a version number"
            if not box.value.strip().isdigit():
                box.value = str(self.version or (self.info.length if self.info else 0))

    @on(Button.Pressed, "#compare")
    def _compare_pressed(self) -> None:
        self.action_compare()

    @on(Button.Pressed, "#bisect")
    def _bisect_pressed(self) -> None:
        self.action_first_divergence()

    def action_first_divergence(self) -> None:
        self.query_one("#diff-counts", Static).update(
            Text("bisecting the snapshots against the replay…", style="dim")
        )
        self._bisect()

    @work(thread=True, exclusive=True, group="diff-bisect", description="finding the divergence")
    def _bisect(self) -> None:
        app: Any = self.app
        try:
            version = first_wrong_snapshot(app.engine, self.stream_id)
        except Exception as exc:
            self.app.call_from_thread(self._show_error, _sentence(exc))
            return
        self.app.call_from_thread(self._bisected, version)

    def _bisected(self, version: int | None) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        if version is None:
            self.app.notify("every stored snapshot of this stream agrees with the replay")
            self.action_compare()
            return
        self.app.notify(f"first divergent snapshot: v{version:,}; the timeline is there now")
        self.jump_timeline(version)

    def jump_timeline(self, version: int) -> None:
        """Show `version` on this stream's timeline (the one below, or a new one)."""
        from explorer.screens.timeline import TimelineScreen

        stack = self.app.screen_stack
        below = stack[-2] if len(stack) >= 2 else None
        self.app.pop_screen()
        if isinstance(below, TimelineScreen) and below.stream_id == self.stream_id:
            below.goto(version)
        else:
            self.app.push_screen(TimelineScreen(self.stream_id, version))


def first_wrong_snapshot(engine: Any, stream_id: str) -> int | None:
    """The version of the earliest stored snapshot that disagrees with the replay
    (`Engine.first_divergent_snapshot`: a bisect, then an exact check before its answer)."""
    found = engine.first_divergent_snapshot(stream_id)
    return found.version if found is not None else None


def default_sides(info: DiffInfo, version: int | None) -> tuple[Side, Side]:
    """A snapshot (at or before `version`) against the replay there, when there is one;
    otherwise the previous version against this one."""
    at = info.length if version is None else max(0, min(version, info.length))
    usable = [v for v in info.snapshots if v <= info.length]
    if usable:
        chosen = max((v for v in usable if v <= at), default=usable[0])
        return Side("snapshot", chosen), Side("version", chosen)
    return Side("version", max(0, at - 1)), Side("version", at)


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return visible_text(shorten(text, 200))


__all__ = ["DiffScreen", "Side", "default_sides", "parse_side"]
