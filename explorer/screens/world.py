"""World as of T: the read models (projections) as they were at one global position, with
the event-rate chart and a marker at that moment.

The position moves with the arrow keys (priority bindings, so they work whatever has
focus); the projection is recomputed only after the keys stop for `SETTLE` seconds and
results for a position the user has already left are dropped, so holding an arrow key
never queues a rebuild per step. The documents are a table whose columns are their
fields (money in the domain's units), and the first replay of a long history shows a
progress bar. The head is the app's (`app.summary`), so this screen and the status bar
always agree; in follow mode a view at the head moves with it.

Two axes, as on the timeline: by default the world is every event recorded up to the
position. `a` switches to business time -- the projections as of business time O, as
known at the position's recorded time R (the events that had occurred by O and been
recorded by R, fed in occurred order: `Engine.projection_as_of_business`); `t` then takes
``O`` or ``O @ R``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson
from eventscope.explorer.app import ReportsWorkerErrors
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.screens.time_jump import TimeJumpScreen
from eventscope.explorer.screens.timeline_data import display_unit
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.rate_chart import RateChart
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.explorer.wording import plural
from eventscope.store.records import format_timestamp
from eventscope.store.source import EventFilter
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

SETTLE = 0.15
MAX_FIELD_COLUMNS = 12
"""Documents with more fields show the first ones as columns; the panel shows them all."""


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


def document_fields(rows: list[tuple[str, Any]], limit: int = MAX_FIELD_COLUMNS) -> list[str]:
    """The documents' top-level fields in order of first appearance (at most `limit`)."""
    fields: list[str] = []
    seen: set[str] = set()
    for _key, document in rows:
        if not isinstance(document, Mapping):
            continue
        for name in document:
            if name not in seen:
                seen.add(name)
                fields.append(str(name))
                if len(fields) >= limit:
                    return fields
    return fields


def field_cell(value: Any, unit: Any = None) -> str:
    """A document field as a table cell: text bare, numbers in the domain's unit, other
    values as compact JSON; a missing field is an em dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(unit.format(value)) if unit is not None else f"{value:,}"
    return compact_json(value, 200)


def world_columns(fields: list[str], rows: list[tuple[str, Any]], units: list[Any]) -> list[Column]:
    """The key, then one column per field; earlier fields win when space runs out. A
    field shown in the domain's unit says so in its header (``balance_cents (money)``)."""
    columns = [Column("key", 14, min_width=12, priority=100)]
    for index, (name, unit) in enumerate(zip(fields, units, strict=True)):
        numeric = any(
            isinstance(doc.get(name), int | float) and not isinstance(doc.get(name), bool)
            for _key, doc in rows[:50]
            if isinstance(doc, Mapping)
        )
        label = f"{name} ({unit.label})" if unit is not None and unit.label else name
        columns.append(
            Column(
                label,
                len(label),
                justify="right" if numeric else "left",
                min_width=min(len(name), 8),
                priority=90 - index,
                max_width=40,
            )
        )
    return columns


def world_rows(
    rows: list[tuple[str, Any]], fields: list[str], units: list[Any]
) -> list[VirtualRow]:
    out = []
    for key, document in rows:
        doc = document if isinstance(document, Mapping) else {}
        cells = [key] + [
            field_cell(doc.get(name), unit) for name, unit in zip(fields, units, strict=True)
        ]
        out.append(VirtualRow(key, tuple(cells), copy=("key", key)))
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


STEP = Binding.Group("Step 1%")


class WorldScreen(ReportsWorkerErrors, Screen[None]):
    """Projections as of a global position, scrubbed with the arrow keys."""

    HELP_TITLE = "World as of T"
    HELP_TEXT = (
        "The read models (projections) as they were after any global position, computed "
        "from the events in memory -- never read from their tables. The arrows move by 1% "
        "of the history, [ and ] by one event, t jumps to a typed moment. Each document is "
        "a row, its fields are the columns; enter on a row keyed by a stream opens that "
        "stream at its version as of the position."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Back", priority=True, id="world.back", group=STEP),
        Binding("right", "step(1)", "Forward", priority=True, id="world.forward", group=STEP),
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
        Binding("t", "jump_time", "Jump", tooltip="Jump to a typed moment", id="world.time"),
        Binding("a", "axis", "Axis", tooltip="Recorded time or business time", id="world.axis"),
        Binding(
            "p",
            "next_projection",
            "Projection",
            tooltip="Show the next projection",
            id="world.projection",
        ),
    ]

    position: var[int] = var(0, init=False)
    """The global position shown: the world after the event at this position."""

    def __init__(self, position: int | None = None) -> None:
        super().__init__()
        self.start_position = position
        self.projection: str | None = None
        self.projections: list[str] = []
        self._timer: Timer | None = None
        self.moment: datetime | None = None
        self.settle_delay = SETTLE  # tests set a huge value and call flush() after each move
        self.computations = 0  # how many projection evaluations were started
        self._documents: dict[str, Any] = {}
        self.business_as_of: datetime | None = None
        """On the business-time axis: O (the position gives R, as known at)."""

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="world-position")
        with Horizontal(id="world-main"):
            with Vertical(id="projections-pane"):
                yield Label("Projections", classes="pane-title")
                yield OptionList(id="projection-list")
            with Vertical(id="world-rows-pane"):
                yield Static(id="world-caption")
                yield ProgressBar(id="world-progress", show_eta=False)
                yield VirtualTable(
                    [Column("key", 14)], id="world-rows", empty_text="replaying the events…"
                )
                yield Static(id="world-detail")
        yield RateChart(title="events per slice", id="world-rate")
        yield StatusBar()
        yield KeyFooter()

    @property
    def head(self) -> int:
        """The app's head: the one every screen and the status bar show."""
        summary = getattr(self.app, "summary", None)
        return int(summary.head_position or 0) if summary is not None else 0

    def on_mount(self) -> None:
        self.sub_title = "world as of T"
        self.query_one("#world-position", Static).update("loading…")
        self.query_one(ProgressBar).display = False
        self._shown_head = self.head
        self._load_frame()
        self.watch(self.app, "data_version", self._data_changed, init=False)

    def _data_changed(self, _version: int) -> None:
        """New events: a view at the head moves with it; the chart is read again."""
        old_head, self._shown_head = self._shown_head, self.head
        self._load_histogram()
        if self.position == old_head and self.head != old_head:
            self.position = self.head
        else:
            self._draw_position()

    @work(thread=True, exclusive=True, group="world-histogram", exit_on_error=False)
    def _load_histogram(self) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
        histogram = source.event_histogram(60)
        self.app.call_from_thread(self.query_one(RateChart).set_data, histogram)

    @work(thread=True, group="world-frame", exit_on_error=False)
    def _load_frame(self) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
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
        self.app.call_from_thread(self._frame_ready, histogram, names, error)

    def _frame_ready(
        self, histogram: list[tuple[datetime, int]], names: list[str], error: str | None
    ) -> None:
        head = self.head
        self._shown_head = head
        self.projections = names
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

    def action_next_projection(self) -> None:
        """The next projection (the list on the left is hidden at 80 columns)."""
        if not self.projections:
            return
        index = (
            self.projections.index(self.projection) if self.projection in self.projections else -1
        )
        listing = self.query_one("#projection-list", OptionList)
        listing.highlighted = (index + 1) % len(self.projections)

    # --- moving -------------------------------------------------------------------------
    def _step_size(self) -> int:
        return max(1, self.head // 100)

    def action_step(self, times: int) -> None:
        self.position = max(0, min(self.head, self.position + times * self._step_size()))

    def action_event(self, delta: int) -> None:
        self.position = max(0, min(self.head, self.position + delta))

    def action_jump(self, end: int) -> None:
        self.position = self.head if end else 0

    def action_axis(self) -> None:
        """Recorded axis <-> business time (as of O = the position's time, known at R)."""
        if self.business_as_of is None:
            self.business_as_of = self.moment or datetime.now(UTC)
        else:
            self.business_as_of = None
        self._draw_position()
        self._schedule()

    def action_jump_time(self) -> None:
        if self.business_as_of is not None:
            current = format_timestamp(self.business_as_of)
            if self.moment is not None:
                current += " @ " + format_timestamp(self.moment)

            def chosen_business(target: Any) -> None:
                if target is None:
                    return
                as_of, known_at = target
                self.business_as_of = as_of
                if known_at is not None:
                    self._position_for_time(known_at)
                else:
                    self._draw_position()
                    self._schedule()

            self.app.push_screen(
                TimeJumpScreen("occurred", current, title="World as of business time"),
                chosen_business,
            )
            return
        current = format_timestamp(self.moment) if self.moment else ""

        def chosen(moment: Any) -> None:
            if isinstance(moment, datetime):
                self._position_for_time(moment)

        self.app.push_screen(
            TimeJumpScreen("recorded", current, title="World as of which moment?"), chosen
        )

    @work(thread=True, exclusive=True, group="world-time", exit_on_error=False)
    def _position_for_time(self, moment: datetime) -> None:
        """The last position recorded at or before `moment`."""
        source: Any = self.app.source  # type: ignore[attr-defined]
        after = list(
            source.read_all(filter=EventFilter(since=moment + timedelta(microseconds=1)), limit=1)
        )
        position = min(after[0].position - 1, self.head) if after else self.head
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
        narrow = self.size.width < 120
        shown = moment[:19] if narrow else moment
        if self.business_as_of is not None:
            when = Content.assemble(
                ("   as of business time ", "$text-muted"),
                (format_timestamp(self.business_as_of), "bold $accent"),
                (", as known at ", "$text-muted"),
                (shown, "bold $accent"),
            )
        else:
            when = Content.assemble(("   as of ", "$text-muted"), (shown, "bold $accent"))
        header = Content.assemble(
            ("position ", "$text-muted"),
            (f"{self.position:,}", "bold"),
            (f" / {self.head:,}", "$text-muted"),
            when,
            (
                ""
                if narrow
                else "   ←/→ step 1%   shift ×10   [ ] one event   home/end   t time   a axis"
                if self.business_as_of is None
                else "   ←/→ known at   t O @ R   a recorded axis",
                "$text-muted",
            ),
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
        self._load_world(self.position, self.projection, self.business_as_of)

    @work(thread=True, exclusive=True, group="world-compute", exit_on_error=False)
    def _load_world(
        self, position: int, projection: str | None, as_of: datetime | None = None
    ) -> None:
        source: Any = self.app.source  # type: ignore[attr-defined]
        event = source.event_at(position) if position else None
        moment = event.recorded_at if event is not None else None
        rows: list[tuple[str, Any]] = []
        error = None
        units: list[Any] = []
        fields: list[str] = []

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._replay_progress, position, done, total)

        if projection is not None:
            try:
                engine = self.app.engine  # type: ignore[attr-defined]
                if as_of is None:
                    rows = document_rows(engine.projection_as_of(projection, position, progress))
                elif moment is not None:  # as of O, as known at the position's time
                    rows = document_rows(
                        engine.projection_as_of_business(projection, as_of, known_at=moment)
                    )
                fields = document_fields(rows)
                units = [display_unit(engine, (name,)) for name in fields]
            except Exception as exc:
                error = str(exc)
        units = units or [None] * len(fields)
        table = (world_columns(fields, rows, units), world_rows(rows, fields, units))
        self.app.call_from_thread(
            self._world_ready, position, projection, moment, rows, error, table
        )

    def _replay_progress(self, position: int, done: int, total: int) -> None:
        """A long first replay: a progress bar instead of an empty table."""
        if not self.is_attached or position != self.position:
            return
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)

    def _world_ready(
        self,
        position: int,
        projection: str | None,
        moment: datetime | None,
        rows: list[tuple[str, Any]],
        error: str | None,
        table_data: tuple[list[Column], list[VirtualRow]] | None = None,
    ) -> None:
        if not self.is_attached or position != self.position or projection != self.projection:
            return
        self.query_one(ProgressBar).display = False
        self.moment = moment
        self._draw_position()
        if moment is not None:
            self.query_one(RateChart).set_marker(moment)
        table = self.query_one("#world-rows", VirtualTable)
        if table_data is None:  # a caller that only has the rows (the what-if world)
            fields = document_fields(rows)
            units: list[Any] = [None] * len(fields)
            table_data = (world_columns(fields, rows, units), world_rows(rows, fields, units))
        columns, items = table_data
        self._documents = dict(rows)
        self.query_one("#world-detail", Static).update("")
        if table.columns != columns:
            table.columns = columns
        table.empty_text = "no rows at this moment"
        table.reset(lambda start, limit: items[start : start + limit], len(items))
        if error:
            self._caption(Content.assemble(("⚠ ", "bold $error"), (visible_text(error), "$error")))
        else:
            self._caption(
                Content.assemble(
                    (visible_text(projection or "—"), "bold $accent"),
                    f"  ·  {plural(len(items), 'row')} as of position {position:,}"
                    if self.business_as_of is None
                    else f"  ·  {plural(len(items), 'row')} as of business time "
                    f"{format_timestamp(self.business_as_of)}, as known at position "
                    f"{position:,} (events fed in occurred order)",
                    ("   p: next projection" if len(self.projections) > 1 else "", "$text-muted"),
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
