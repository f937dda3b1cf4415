"""Diff: compare any two derivations of a stream's state -- or of two streams -- and find
where they part.

Each side is one of: the state replayed at a version, the state at a moment on either
time axis (recorded: what had been recorded by then; occurred: business time), a stored
snapshot, a stored projection row, or that projection replayed from events; and each
side names its stream, so two accounts can be compared field by field. The two sides are
shown as trees in one key order, row for row. Snapshots and projection rows
are *claims*; the replay is what the events prove, so a reviewer typically puts the claim
on the left and the replay on the right ("added" = the events prove a field the claim
lacks). "First divergence" respects the chosen sides (`domain.divergence`): with a
stored projection row it finds the first event after which the row and the replay
disagree; with a snapshot it finds the event that made the snapshot code's answer
differ from the replay when that can be known (else the first wrong snapshot), says
plainly which of the two it found, and opens that event on the timeline. The header
names the code that wrote a snapshot side, and when.

All resolving and diffing runs in thread workers; the screen only shows ready lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Literal

from eventscope.domain.diff import diff
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.diff_view import (
    DiffCounts,
    DiffView,
    build_aligned_lines,
    build_diff_lines,
)
from eventscope.explorer.widgets.form import FormRow
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.lines_view import Line, LinesView
from eventscope.explorer.widgets.state_tree import StateTree
from eventscope.explorer.wording import plural, screen_sentence
from eventscope.store.records import format_timestamp, parse_timestamp
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Select, Static

Kind = Literal["version", "recorded", "occurred", "snapshot", "projection", "projection-replay"]
KINDS: list[tuple[str, Kind]] = [
    ("state at version", "version"),
    ("state at recorded time", "recorded"),
    ("state at occurred time", "occurred"),
    ("stored snapshot", "snapshot"),
    ("projection row (stored)", "projection"),
    ("projection (replayed)", "projection-replay"),
]
TIME_KINDS = ("recorded", "occurred")
PLACEHOLDERS = {
    "version": "a version number",
    "recorded": "a recorded time, e.g. 2026-03-31T17:00:00Z",
    "occurred": "an occurred time, e.g. 2026-03-31T17:00:00Z",
    "snapshot": "a snapshot's version",
    "projection": "projection name [key]",
    "projection-replay": "projection name [key]",
}


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: `version` for versions and snapshots, `moment` for the time
    kinds, `projection`/`key` for projection rows (the key defaults to the stream id);
    `stream` is the side's stream ("" = the screen's stream)."""

    kind: Kind = "version"
    version: int = 0
    projection: str = ""
    key: str = ""
    stream: str = ""
    moment: datetime | None = None

    def label(self, default_stream: str = "") -> str:
        prefix = f"{self.stream} " if self.stream and self.stream != default_stream else ""
        if self.kind == "version":
            return f"{prefix}state at v{self.version:,}"
        if self.kind in TIME_KINDS:
            when = format_timestamp(self.moment) if self.moment else "?"
            return f"{prefix}state at {self.kind} {when}"
        if self.kind == "snapshot":
            return f"{prefix}snapshot at v{self.version:,}"
        what = "stored row" if self.kind == "projection" else "replayed"
        return f"{self.projection}[{self.key}] ({what})"

    def text(self) -> str:
        """What the side's value box shows."""
        if self.kind in ("version", "snapshot"):
            return str(self.version)
        if self.kind in TIME_KINDS:
            return format_timestamp(self.moment) if self.moment else ""
        return f"{self.projection} {self.key}".strip()


def parse_side(kind: Kind, text: str, stream_id: str, stream: str = "") -> Side:
    """Read a side from the picker; raises ValueError with a sentence for the user."""
    text = text.strip()
    stream = stream.strip()
    if kind in ("version", "snapshot"):
        digits = text.lstrip("v").replace(",", "")
        if not digits.isdigit():
            raise ValueError(
                f"{'a version' if kind == 'version' else 'a snapshot version'} "
                f"is a whole number, not {visible_text(shorten(text, 30))!r}"
            )
        return Side(kind, int(digits), stream=stream)
    if kind in TIME_KINDS:
        try:
            moment = parse_timestamp(text)
        except ValueError:
            raise ValueError(
                f"{visible_text(shorten(text, 30))!r} is not a time; use ISO 8601 such as "
                "2026-03-31T17:00:00Z (no zone means UTC)"
            ) from None
        return Side(kind, stream=stream, moment=moment)
    name, _, key = text.partition(" ")
    if not name:
        raise ValueError("type a projection name (and optionally a key; the stream id by default)")
    return Side(kind, projection=name, key=key.strip() or stream or stream_id, stream=stream)


@dataclass(frozen=True, slots=True)
class DiffInfo:
    """What can be compared for this stream: loaded once in a worker."""

    length: int
    snapshots: tuple[int, ...]
    projections: tuple[str, ...]
    moment: datetime | None = None
    """The recorded time of the screen's version (a starting value for the time kinds)."""


class DiffScreen(Screen[None]):
    """Two pickers, a counts line, the differences and both sides row for row."""

    HELP_TITLE = "Diff"
    HELP_TEXT = (
        "Compare two derivations of a state: a version, a moment on the recorded or the "
        "occurred axis, a stored snapshot, or a projection row (stored or replayed) -- of "
        "this stream or of another one (the stream box). Claims go left, what the events "
        "prove goes right. The sides are trees in one key order: row i on the left is the "
        "same field as row i on the right."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "first_divergence", "First divergence", id="diff.bisect"),
        Binding("s", "swap", "Swap sides", id="diff.swap"),
        Binding("ctrl+r", "compare", "Compare", id="diff.compare"),
        Binding(
            "p",
            "pane",
            "Pane",
            tooltip="Show the differences or the two sides",
            id="diff.pane",
        ),
    ]
    AUTO_FOCUS = "#diff-view"

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
        width: 7;
        padding: 1 0 0 0;
        text-style: bold;
        color: $text-primary;
    }
    DiffScreen .diff-pickers Select {
        width: 28;
    }
    DiffScreen .diff-pickers .diff-stream {
        width: 24;
    }
    DiffScreen .diff-pickers .diff-value {
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
    /* Narrow (80x24): one-line pickers, no buttons (enter compares); the differences or
       the two sides, switched with p. */
    DiffScreen.-narrow .diff-pickers {
        height: 1;
        padding: 0;
    }
    DiffScreen.-narrow .diff-pickers Label {
        width: 7;
        padding: 0 0 0 1;
    }
    DiffScreen.-narrow .diff-pickers Select {
        width: 24;
    }
    DiffScreen.-narrow .diff-pickers .diff-stream {
        width: 18;
    }
    DiffScreen.-narrow .diff-pickers Button, DiffScreen.-narrow #diff-info {
        display: none;
    }
    DiffScreen.-narrow #diff-sides {
        display: none;
    }
    DiffScreen.-narrow DiffView {
        height: 1fr;
    }
    DiffScreen.-narrow.-pane-sides #diff-sides {
        display: block;
        height: 1fr;
    }
    DiffScreen.-narrow.-pane-sides DiffView {
        display: none;
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
        self.finding: Any = None  # the last "first divergence" answer (domain.divergence)

    # --- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from eventscope.explorer.widgets.status_bar import StatusBar

        yield StatusBar()
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append("diff ", style="dim")
        header.append(visible_text(shorten(self.stream_id, 100)), style="bold")
        yield Static(header, id="diff-header")
        for side in ("left", "right"):
            with FormRow(classes="diff-pickers"):
                yield Label(side, id=f"{side}-label")
                yield Select(KINDS, allow_blank=False, value="version", id=f"{side}-kind")
                yield Input(
                    value=self.stream_id,
                    placeholder="stream id",
                    id=f"{side}-stream",
                    classes="diff-stream",
                )
                yield Input(
                    id=f"{side}-value", placeholder="a version number", classes="diff-value"
                )
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
                tree = DiffSide(id=f"{name}-state", classes="diff-side")
                tree.border_title = name
                yield tree
        yield KeyFooter()

    def on_mount(self) -> None:
        self._load_info()
        left, right = (
            self.query_one("#left-state", DiffSide),
            self.query_one("#right-state", DiffSide),
        )
        left.partner, right.partner = right, left

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def on_resize(self) -> None:
        narrow = self.size.width < 120 or self.size.height < 36
        if narrow != self.narrow:
            self.set_class(narrow, "-narrow")
            for widget in self.query(".diff-pickers Select, .diff-pickers Input"):
                widget.compact = narrow  # type: ignore[attr-defined]
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pane":
            return self.narrow
        return True

    def action_pane(self) -> None:
        """Narrow layout: the differences, or the two sides row for row."""
        sides = not self.has_class("-pane-sides")
        self.set_class(sides, "-pane-sides")
        target = self.query_one("#left-state" if sides else "#diff-view")
        target.focus()

    # --- loading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="diff-info", description="reading the stream")
    def _load_info(self) -> None:
        app: Any = self.app
        try:
            projections = tuple(app.source.projection_names())
            info = DiffInfo(0, (), projections)
            if app.source.stream_info(self.stream_id) is not None:
                timeline = app.engine.timeline(self.stream_id)
                length = int(timeline.refresh())
                snapshots = tuple(s.version for s in app.source.snapshots(self.stream_id))
                at = min(length, self.version if self.version is not None else length)
                moment = timeline.time_of(at, "recorded") if at else None
                info = DiffInfo(length, snapshots, projections, moment)
            elif self.left is None or self.right is None:
                raise LookupError(f"there is no stream {self.stream_id!r} in this source")
        except Exception as exc:
            self.app.call_from_thread(self._show_error, screen_sentence(exc))
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
        parts = [plural(info.length, "event")]
        parts.append(
            "snapshots at v"
            + ", v".join(f"{v:,}" for v in info.snapshots[:12])
            + ("…" if len(info.snapshots) > 12 else "")
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
            self.query_one(f"#{name}-stream", Input).value = side.stream or self.stream_id

    def _read_side(self, name: str) -> Side:
        kind = self.query_one(f"#{name}-kind", Select).value
        text = self.query_one(f"#{name}-value", Input).value
        stream = self.query_one(f"#{name}-stream", Input).value.strip()
        side = parse_side(kind, text, self.stream_id, stream)  # type: ignore[arg-type]
        return side if side.stream != self.stream_id else replace(side, stream="")

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
            # Both sides as trees in one key order, row for row, differences marked.
            left_lines, right_lines = build_aligned_lines(left_state, right_state, entries)
            provenance = self._provenance(left, right)
        except Exception as exc:
            self.app.call_from_thread(self._show_error, screen_sentence(exc))
            return
        self.app.call_from_thread(
            self._show_diff, left, right, lines, counts, (left_lines, right_lines), provenance
        )

    def _provenance(self, left: Side, right: Side) -> str:
        """Which code wrote each snapshot side, and when (runs in a worker)."""
        app: Any = self.app
        parts = []
        for side in (left, right):
            if side.kind == "snapshot":
                snapshot = app.engine.snapshot(side.stream or self.stream_id, side.version)
                parts.append(f"snapshot v{side.version:,} {snapshot_provenance(snapshot)}")
        return "   ·   ".join(parts)

    def _resolve(self, side: Side) -> dict[str, Any]:
        """The JSON state a side stands for (runs in a worker)."""
        app: Any = self.app
        engine, source = app.engine, app.source
        stream = side.stream or self.stream_id
        if side.kind == "version":
            timeline = engine.timeline(stream)
            if side.version > timeline.length:
                timeline.refresh()  # appended to since it was opened (follow mode)
            return timeline.state_at(side.version).state
        if side.kind in TIME_KINDS:
            engine.timeline(stream).refresh()
            return engine.state(stream, at=side.moment, axis=side.kind).state
        if side.kind == "snapshot":
            return engine.snapshot(stream, side.version).state
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
        provenance: str = "",
    ) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.error = None
        self.counts = counts
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append("diff ", style="dim")
        header.append(visible_text(shorten(self.stream_id, 100)), style="bold")
        if provenance:
            header.append("   ·   " + visible_text(provenance), style="italic")
        self.query_one("#diff-header", Static).update(header)
        summary = Text(no_wrap=True, overflow="ellipsis")
        default = self.stream_id
        summary.append(
            f"{visible_text(left.label(default))}  →  {visible_text(right.label(default))}:   "
        )
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
        view.border_title = Text(plural(counts.total, "difference"))
        for name, side, side_lines in (("left", left, sides[0]), ("right", right, sides[1])):
            tree = self.query_one(f"#{name}-state", DiffSide)
            tree.set_lines(side_lines, keep_scroll=False)
            tree.border_title = Text(f"{name}: {visible_text(side.label(default))}")

    def _show_error(self, message: str) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.error = message
        self.query_one("#diff-counts", Static).update(Text(message, style="bold red"))
        self.query_one(DiffView).set_lines([])
        for name in ("left", "right"):
            self.query_one(f"#{name}-state", DiffSide).set_lines([])

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
        kind = str(event.value)
        box.placeholder = PLACEHOLDERS.get(kind, "")
        text = box.value.strip()
        if kind in ("projection", "projection-replay"):
            if (not text or text.isdigit()) and self.info and self.info.projections:
                box.value = f"{self.info.projections[0]} {self.stream_id}"
        elif kind in TIME_KINDS:
            if not _looks_like_time(text):
                box.value = self._time_of_version()
        elif not text.isdigit():
            box.value = str(self.version or (self.info.length if self.info else 0))

    def _time_of_version(self) -> str:
        """The recorded time of the screen's version, as a starting value to edit."""
        moment = self.info.moment if self.info else None
        return format_timestamp(moment) if moment else ""

    @on(Button.Pressed, "#compare")
    def _compare_pressed(self) -> None:
        self.action_compare()

    @on(Button.Pressed, "#bisect")
    def _bisect_pressed(self) -> None:
        self.action_first_divergence()

    def action_first_divergence(self) -> None:
        try:
            left, right = self._read_side("left"), self._read_side("right")
        except ValueError as exc:
            self._show_error(str(exc))
            return
        kinds = {left.kind, right.kind}
        what = (
            "the projection row's events"
            if "projection" in kinds
            else "the versions against the snapshot"
        )
        self.query_one("#diff-counts", Static).update(
            Text(f"searching {what} for the cause…", style="dim")
        )
        self._bisect(left, right)

    @work(thread=True, exclusive=True, group="diff-bisect", description="finding the divergence")
    def _bisect(self, left: Side, right: Side) -> None:
        app: Any = self.app
        try:
            finding = find_divergence(app.engine, self.stream_id, left, right)
        except Exception as exc:
            self.app.call_from_thread(self._show_error, screen_sentence(exc))
            return
        self.app.call_from_thread(self._bisected, finding)

    def _bisected(self, finding: Any) -> None:
        if not self.is_attached:  # the screen was closed while a worker ran
            return
        self.finding = finding
        sentence = visible_text(finding.sentence)
        if finding.found == "agree" or finding.version is None:
            self.app.notify(sentence)
            self.action_compare()
            return
        self.app.notify(f"{sentence}; the timeline is there now", timeout=12)
        self.jump_timeline(finding.version, finding.stream_id or self.stream_id)

    def jump_timeline(self, version: int, stream_id: str | None = None) -> None:
        """Show `version` of a stream (this one by default) on its timeline (the one
        below, or a new one)."""
        from eventscope.explorer.screens.timeline import TimelineScreen

        stream_id = stream_id or self.stream_id
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) >= 2 else None
        self.app.pop_screen()
        if isinstance(below, TimelineScreen) and below.stream_id == stream_id:
            below.goto(version)
        else:
            self.app.push_screen(TimelineScreen(stream_id, version))


def find_divergence(engine: Any, stream_id: str, left: Side, right: Side) -> Any:
    """ "First divergence" for the chosen sides (`domain.divergence`): a stored projection
    row against its replay, else the stream's snapshots against the replay."""
    from eventscope.domain.divergence import Finding, projection_cause, snapshot_cause

    for side in (left, right):
        if side.kind == "projection":
            return projection_cause(engine, side.projection, side.key)
    if "projection-replay" in (left.kind, right.kind) and "snapshot" not in (
        left.kind,
        right.kind,
    ):
        return Finding(
            "agree",
            stream_id,
            None,
            None,
            "a replayed projection is what the events prove: put its stored row on the "
            "other side to find where the row went wrong",
        )
    return snapshot_cause(engine, stream_id)


def snapshot_provenance(snapshot: Any) -> str:
    """``written by Account code bank-2.1 (state schema 1) at 2026-04-27 03:07:00 UTC``."""
    return (
        f"written by {snapshot.aggregate_type or 'generic'} code "
        f"{snapshot.code_version or '?'} (state schema {snapshot.schema_version}) at "
        f"{snapshot.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )


def default_sides(info: DiffInfo, version: int | None) -> tuple[Side, Side]:
    """A snapshot (at or before `version`) against the replay there, when there is one;
    otherwise the previous version against this one."""
    at = info.length if version is None else max(0, min(version, info.length))
    usable = [v for v in info.snapshots if v <= info.length]
    if usable:
        chosen = max((v for v in usable if v <= at), default=usable[0])
        return Side("snapshot", chosen), Side("version", chosen)
    return Side("version", max(0, at - 1)), Side("version", at)


__all__ = ["DiffScreen", "Side", "default_sides", "parse_side"]


class DiffSide(StateTree):
    """One side of the diff; scrolling or moving the cursor moves the other side too,
    so row *i* stays next to row *i*."""

    partner: DiffSide | None = None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        partner = self.partner
        if partner is not None and round(partner.scroll_y) != round(new):
            partner.scroll_to(y=new, animate=False, immediate=True)

    def watch_cursor_line(self, old: int, new: int) -> None:
        super().watch_cursor_line(old, new)
        partner = self.partner
        if partner is not None and partner.cursor_line != new and self.has_focus:
            partner.set_reactive(LinesView.cursor_line, new)
            partner.refresh()


def _looks_like_time(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True
