"""World as of T: the read models (projections) as they were at one global position, with
the event-rate chart and a marker at that moment.

The position moves with the arrow keys (priority bindings, so they work whatever has
focus); the projection is recomputed only after the keys stop for `SETTLE` seconds and
results for a position the user has already left are dropped, so holding an arrow key
never queues a rebuild per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import orjson
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from explorer.app import ReportsWorkerErrors
from explorer.safe_text import shorten, visible_text
from explorer.widgets.rate_chart import RateChart
from explorer.widgets.status_bar import StatusBar
from explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from store.records import format_timestamp, parse_timestamp
from store.source import EventFilter

SETTLE = 0.15
ROW_COLUMNS = [Column("key", 34), Column("document (as of the position)", 0, min_width=30)]


def document_rows(result: Any) -> list[tuple[str, Any]]:
    """Normalise what `engine.projection_as_of` returns: a mapping key -> document, or a
    sequence of rows with `.key`/`.document`, or of (key, document) pairs."""
    if result is None:
        return []
    if isinstance(result, Mapping):
        rows = getattr(result, "rows", None)
        if rows is None:
            return sorted(((str(k), v) for k, v in result.items()), key=lambda kv: kv[0])
        result = rows
    if hasattr(result, "rows") and not isinstance(result, list | tuple):
        result = result.rows
    if isinstance(result, Mapping):
        return sorted(((str(k), v) for k, v in result.items()), key=lambda kv: kv[0])
    out: list[tuple[str, Any]] = []
    for item in result:
        if hasattr(item, "key") and hasattr(item, "document"):
            out.append((str(item.key), item.document))
        else:
            key, document = item
            out.append((str(key), document))
    return out


def compact_json(value: Any, width: int = 400) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    except TypeError:
        text = repr(value)
    return shorten(text, width)


def document_text(key: str, document: Any, limit: int = 4000) -> Content:
    """The highlighted row's document, indented; literal text (payloads are data)."""
    if document is None:
        return Content("")
    try:
        body = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        body = repr(document)
    if len(body) > limit:
        body = body[:limit] + "\n… (truncated)"
    lines = "\n".join(visible_text(line) for line in body.split("\n"))
    return Content.assemble((visible_text(key), "bold $accent"), "\n", lines)


class TimePrompt(ModalScreen[datetime | None]):
    """Ask for a moment (ISO 8601, naive = UTC); one sentence under the box if it is bad."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel")
    ]
    DEFAULT_CSS = """
    TimePrompt { align: center middle; }
    TimePrompt > Vertical { width: 64; height: auto; border: round $primary; background: $surface; padding: 0 1; }
    TimePrompt #prompt-error { color: $error; height: auto; }
    """

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.initial = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield Input(value=self.initial, placeholder="2026-03-31T17:00:00Z", id="prompt-input")
            yield Static(id="prompt-error")

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_timestamp(event.value))
        except ValueError:
            self.query_one("#prompt-error", Static).update(
                Content(
                    f"{shorten(visible_text(event.value), 30)!r} is not a time; "
                    "use ISO 8601 such as 2026-03-31T17:00:00Z"
                )
            )

    def action_cancel(self) -> None:
        self.dismiss(None)


class WorldScreen(ReportsWorkerErrors, Screen[None]):
    """Projections as of a global position, scrubbed with the arrow keys."""

    HELP_TITLE = "World as of T"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Back", priority=True, id="world.back"),
        Binding("right", "step(1)", "Forward", priority=True, id="world.forward"),
        Binding(
            "shift+left", "step(-10)", "Back ×10", priority=True, show=False, id="world.back10"
        ),
        Binding(
            "shift+right",
            "step(10)",
            "Forward ×10",
            priority=True,
            show=False,
            id="world.forward10",
        ),
        Binding(
            "left_square_bracket",
            "event(-1)",
            "One event back",
            key_display="[",
            show=False,
            id="world.event_back",
        ),
        Binding(
            "right_square_bracket",
            "event(1)",
            "One event forward",
            key_display="]",
            show=False,
            id="world.event_forward",
        ),
        Binding("home", "jump(0)", "Start", priority=True, id="world.start"),
        Binding("end", "jump(1)", "Now", priority=True, id="world.end"),
        Binding("t", "jump_time", "Jump to time", id="world.time"),
    ]

    position: var[int] = var(0, init=False)
    """The global position shown: the world after the event at this position."""

    def __init__(self, position: int | None = None) -> None:
        super().__init__()
        self.start_position = position
        self.head = 0
        self.projection: str | None = None
        self._timer: Timer | None = None
        self.moment: datetime | None = None
        self.settle_delay = SETTLE  # tests set a huge value and call flush() after each move
        self.computations = 0  # how many projection evaluations were started
        self._documents: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="world-position")
        with Horizontal(id="world-main"):
            with Vertical(id="projections-pane"):
                yield Label("Projections", classes="pane-title")
                yield OptionList(id="projection-list")
            with Vertical(id="world-rows-pane"):
                yield Static(id="world-caption")
                yield VirtualTable(
                    ROW_COLUMNS, id="world-rows", empty_text="no rows at this moment"
                )
                yield Static(id="world-detail")
        yield RateChart(title="events per slice", id="world-rate")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "world as of T"
        self.query_one("#world-position", Static).update("loading…")
        self._load_frame()

    @work(thread=True, group="world-frame", exit_on_error=False)
    def _load_frame(self) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
        head = source.head_position()
        histogram = source.event_histogram(60)
        names: list[str] = []
        error = None
        try:
            engine = self.app.engine  # type: ignore[attr-defined]
            lister = getattr(engine, "projection_names", None)
            names = list(lister()) if callable(lister) else []
        except Exception as exc:  # no engine / plugin failed: say so, keep the frame
            error = str(exc)
        if not names:
            names = list(source.projection_names())
        self.app.call_from_thread(self._frame_ready, head, histogram, names, error)

    def _frame_ready(
        self, head: int, histogram: list[tuple[datetime, int]], names: list[str], error: str | None
    ) -> None:
        self.head = head
        self.query_one(RateChart).set_data(histogram)
        projections = self.query_one("#projection-list", OptionList)
        projections.clear_options()
        projections.add_options([Option(Content(visible_text(n)), id=n) for n in names])
        if error:
            self._caption(Content.assemble(("⚠ ", "$error"), visible_text(error)))
        elif not names:
            self._caption(Content("This source has no projections to show."))
        if names:
            self.projection = names[0]
            projections.highlighted = 0
        start = self.start_position if self.start_position is not None else head
        self.position = max(0, min(head, start))
        self.query_one("#world-rows").focus()

    def _caption(self, content: Content) -> None:
        self.query_one("#world-caption", Static).update(content)

    @on(OptionList.OptionHighlighted, "#projection-list")
    def _projection_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.projection:
            self.projection = event.option.id
            self._schedule()

    # --- moving -------------------------------------------------------------------------
    def _step_size(self) -> int:
        return max(1, self.head // 100)

    def action_step(self, times: int) -> None:
        self.position = max(0, min(self.head, self.position + times * self._step_size()))

    def action_event(self, delta: int) -> None:
        self.position = max(0, min(self.head, self.position + delta))

    def action_jump(self, end: int) -> None:
        self.position = self.head if end else 0

    def action_jump_time(self) -> None:
        current = format_timestamp(self.moment) if self.moment else ""

        def chosen(moment: datetime | None) -> None:
            if moment is not None:
                self._position_for_time(moment)

        self.app.push_screen(
            TimePrompt("World as of which moment? (UTC if no zone)", current), chosen
        )

    @work(thread=True, exclusive=True, group="world-time", exit_on_error=False)
    def _position_for_time(self, moment: datetime) -> None:
        """The last position recorded at or before `moment`."""
        source: Any = self.app.source  # type: ignore[attr-defined]
        after = list(
            source.read_all(filter=EventFilter(since=moment + timedelta(microseconds=1)), limit=1)
        )
        position = after[0].position - 1 if after else source.head_position()
        self.app.call_from_thread(setattr, self, "position", position)

    def watch_position(self, position: int) -> None:
        self._draw_position()
        self._schedule()

    def _draw_position(self) -> None:
        width = max(10, self.size.width - 4)
        share = self.position / self.head if self.head else 0
        filled = round(share * (width - 1))
        bar = Content.assemble(
            ("━" * filled, "$accent"),
            ("●", "bold $accent"),
            ("─" * (width - 1 - filled), "$text-muted"),
        )
        moment = format_timestamp(self.moment) if self.moment else "…"
        header = Content.assemble(
            ("position ", "$text-muted"),
            (f"{self.position:,}", "bold"),
            (f" / {self.head:,}", "$text-muted"),
            ("   as of ", "$text-muted"),
            (moment, "bold $accent"),
            ("   ←/→ step 1%   shift ×10   [ ] one event   home/end   t time", "$text-muted"),
        )
        self.query_one("#world-position", Static).update(Content("\n").join([header, bar]))

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(max(0.001, self.settle_delay), self._compute)

    def flush(self) -> None:
        """Compute the pending position now instead of after the settle delay."""
        if self._timer is not None:
            self._timer.stop()
            self._compute()

    def _compute(self) -> None:
        self._timer = None
        self.computations += 1
        self._caption(
            Content.assemble(
                (f"replaying up to {self.position:,} events for ", "$text-muted"),
                (visible_text(self.projection or "—"), "$accent"),
                (
                    " … (a projection is recomputed from events, never read from its table)",
                    "$text-muted",
                ),
            )
        )
        self._load_world(self.position, self.projection)

    @work(thread=True, exclusive=True, group="world-compute", exit_on_error=False)
    def _load_world(self, position: int, projection: str | None) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
        event = source.event_at(position) if position else None
        moment = event.recorded_at if event is not None else None
        rows: list[tuple[str, Any]] = []
        error = None
        if projection is not None:
            try:
                engine = self.app.engine  # type: ignore[attr-defined]
                rows = document_rows(engine.projection_as_of(projection, position))
            except Exception as exc:
                error = str(exc)
        self.app.call_from_thread(self._world_ready, position, projection, moment, rows, error)

    def _world_ready(
        self,
        position: int,
        projection: str | None,
        moment: datetime | None,
        rows: list[tuple[str, Any]],
        error: str | None,
    ) -> None:
        if position != self.position or projection != self.projection:
            return
        self.moment = moment
        self._draw_position()
        if moment is not None:
            self.query_one(RateChart).set_marker(moment)
        table = self.query_one("#world-rows", VirtualTable)
        items = [VirtualRow(key, (key, compact_json(doc))) for key, doc in rows]
        self._documents = dict(rows)
        self.query_one("#world-detail", Static).update("")
        table.reset(lambda start, limit: items[start : start + limit], len(items))
        if error:
            self._caption(Content.assemble(("⚠ ", "bold $error"), (visible_text(error), "$error")))
        else:
            self._caption(
                Content.assemble(
                    (visible_text(projection or "—"), "bold $accent"),
                    f"  ·  {len(items):,} rows as of position {position:,}",
                )
            )

    @on(VirtualTable.RowHighlighted, "#world-rows")
    def _show_document(self, event: VirtualTable.RowHighlighted) -> None:
        document = self._documents.get(str(event.row.key))
        self.query_one("#world-detail", Static).update(document_text(str(event.row.key), document))

    @on(VirtualTable.RowSelected, "#world-rows")
    def _open_row(self, event: VirtualTable.RowSelected) -> None:
        self._open_key(str(event.row.key), self.position)

    @work(thread=True, group="world-open", exit_on_error=False)
    def _open_key(self, key: str, position: int) -> None:
        """A row keyed by a stream id opens that stream at its version as of the position."""
        source: Any = self.app.source  # type: ignore[attr-defined]
        if source.stream_info(key) is None:
            self.app.call_from_thread(
                self.app.notify, "this row's key is not a stream id; nothing to open"
            )
            return
        version = 0
        for event in source.read_stream(key, backwards=True):
            if event.position <= position:
                version = event.version
                break
        self.app.call_from_thread(self.app.open_stream, key, version)  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        if self.head:
            self._draw_position()
