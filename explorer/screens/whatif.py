"""What-if on the stream timeline: skip, insert or edit events and see the changed
history's state, chart and diff -- labelled everywhere as hypothetical.

The timeline screen owns the keys (``x`` skip/unskip, ``i`` insert after, ``r`` edit the
focused event, ``D`` diff against the actual state, ``u`` back to the evidence); the work
is here. A what-if is `domain.whatif.WhatIf`: the real source is only read, the changed
history lives in memory. While one is active the screen swaps its timeline for the
what-if's, lists the changed history (tombstones where events were skipped or refused),
and marks every pane in magenta with the words "WHAT-IF" -- a colour the explorer uses
for nothing else, so a hypothetical state cannot be mistaken for evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import orjson
from eventscope.domain.wording import validation_sentence
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.screens import whatif_compare
from eventscope.explorer.widgets.diff_view import DiffView, build_diff_lines
from eventscope.explorer.widgets.event_list import event_row, preview
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.virtual_table import VirtualRow
from eventscope.explorer.wording import plural, screen_sentence
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static, TextArea

WHAT_IF_COLOUR = "#d33fd3"
"""Magenta: used only for hypothetical views (evidence is blue/amber, broken is red)."""
WHAT_IF_STYLE = f"bold #ffffff on {WHAT_IF_COLOUR}"

BINDINGS: list[BindingType] = [
    Binding("x", "what_if_skip", "What-if: skip", show=False, id="timeline.what_if_skip"),
    Binding("i", "what_if_insert", "What-if: insert", show=False, id="timeline.what_if_insert"),
    Binding("r", "what_if_edit", "What-if: edit", show=False, id="timeline.what_if_edit"),
    Binding("D", "what_if_diff", "What-if diff", show=False, id="timeline.what_if_diff"),
    Binding("u", "what_if_clear", "Back to evidence", show=False, id="timeline.what_if_clear"),
    Binding("W", "what_if_world", "What-if world", show=False, id="timeline.what_if_world"),
]
"""The timeline's what-if keys (added to `TimelineScreen.BINDINGS`)."""

CSS = f"""
TimelineScreen #tl-whatif {{
    display: none;
    height: 1;
    padding: 0 1;
    background: {WHAT_IF_COLOUR};
    color: #ffffff;
    text-style: bold;
}}
TimelineScreen #tl-whatif-compare {{
    display: none;
    height: 1;
    padding: 0 1;
    background: {WHAT_IF_COLOUR} 20%;
}}
TimelineScreen.-what-if #tl-whatif, TimelineScreen.-what-if #tl-whatif-compare {{
    display: block;
}}
TimelineScreen.-what-if .tl-pane {{
    border: heavy {WHAT_IF_COLOUR};
    border-title-color: {WHAT_IF_COLOUR};
}}
"""


class WhatIfBanner(Static):
    """The one-line label across the timeline while a what-if is active."""


def banner_text(what_if: Any) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" WHAT-IF · HYPOTHETICAL, NOT EVIDENCE ", style=WHAT_IF_STYLE)
    changes = ", ".join(what_if.edits.describe())
    text.append(f"  {visible_text(shorten(changes, 90))}", style="bold")
    if what_if.rejected:
        first = what_if.rejected[0]
        text.append(
            f"  ·  refused: {visible_text(shorten(first.label(), 90))}"
            + (f" (+{len(what_if.rejected) - 1} more)" if len(what_if.rejected) > 1 else ""),
        )
    text.append("  ·  x skip  i insert  r edit  D diff  W read models  u back", style="")
    return text


def whatif_fetch(source: Any, stream_id: str) -> Callable[[int, int], list[VirtualRow]]:
    """Rows of the changed history: tombstones say why they are left out, inserted and
    replaced events say what they are."""

    def fetch(start: int, limit: int) -> list[VirtualRow]:
        rows = []
        for event in source.read_stream(stream_id, start + 1, start + limit):
            row = event_row(event)
            cells = list(row.cells)
            kind = event.metadata.get("what_if") if isinstance(event.metadata, dict) else None
            if event.decode_error:
                cells[0] = f"⊘ {event.version}"
                cells[4] = event.decode_error
                row = replace(row, cells=tuple(cells), style="strike")
            elif kind in ("inserted", "replaced"):
                cells[0] = f"{'+' if kind == 'inserted' else '~'} {event.version}"
                cells[4] = f"{kind}: {preview(event.data)}"
                row = replace(row, cells=tuple(cells), style=f"bold {WHAT_IF_COLOUR}")
            rows.append(row)
        return rows

    return fetch


# --- the timeline's actions (called by TimelineScreen) ---------------------------------
def toggle_skip(screen: Any) -> None:
    """Skip the focused event, or put it back (an inserted one is removed)."""
    if screen.overview is None:  # pressed while the stream opens: say so, not "move"
        screen.notify("the stream is still loading; press x again in a moment")
        return
    if screen.version <= 0:
        screen.notify("move to an event first (→)", severity="warning")
        return
    edits = _edits(screen)
    what_if = screen.what_if
    if what_if is None:
        edits = edits.toggle_skip(screen.version)
    else:
        entry = what_if.entry(screen.version)
        if entry.insert_index is not None:
            edits = edits.without_insert(entry.insert_index)
        elif entry.kind == "replaced":
            edits = edits.without_replacement(entry.version).toggle_skip(entry.version)
        else:
            edits = edits.toggle_skip(entry.version)
    apply_edits(screen, edits)


def ask_insert(screen: Any) -> None:
    """Ask for an event to insert after the focused one (a form from its JSON)."""
    if screen.overview is None:
        return
    after = _original(screen)
    template, event_type = _focused_payload(screen)

    def chosen(result: tuple[str, dict[str, Any]] | None) -> None:
        if result is not None:
            from eventscope.domain.whatif import Insertion

            apply_edits(screen, _edits(screen).with_insert(Insertion(after, *result)))

    screen.app.push_screen(
        WhatIfEventForm(f"Insert an event after v{after}", event_type, template, insert=True),
        chosen,
    )


def ask_edit(screen: Any) -> None:
    """Ask for other data for the focused event."""
    if screen.overview is None or screen.version <= 0:
        screen.notify("move to an event first (→)", severity="warning")
        return
    what_if = screen.what_if
    entry = what_if.entry(screen.version) if what_if is not None else None
    if entry is not None and entry.version is None:
        screen.notify("an inserted event is edited by removing it (x) and inserting again")
        return
    version = entry.version if entry is not None else screen.version
    template, event_type = _focused_payload(screen)

    def chosen(result: tuple[str, dict[str, Any]] | None) -> None:
        if result is not None:
            edits = _edits(screen)
            if version in edits.skips:
                edits = edits.toggle_skip(version)
            apply_edits(screen, edits.with_replacement(version, result[1]))

    screen.app.push_screen(
        WhatIfEventForm(f"Edit v{version} ({event_type})", event_type, template), chosen
    )


def show_diff(screen: Any) -> None:
    if screen.what_if is None:
        screen.notify("no what-if yet: x skips the focused event, i inserts, r edits")
        return
    screen.app.push_screen(WhatIfDiffScreen(screen.what_if, screen.version))


def clear(screen: Any) -> None:
    if screen.what_if is not None:
        from eventscope.domain.whatif import WhatIfEdits

        apply_edits(screen, WhatIfEdits())


def original_row(screen: Any) -> int:
    """The real stream's version at the focused row (the row itself without a what-if)."""
    return _original(screen)


def _edits(screen: Any) -> Any:
    from eventscope.domain.whatif import WhatIfEdits

    return screen.what_if.edits if screen.what_if is not None else WhatIfEdits()


def _original(screen: Any) -> int:
    version = max(0, screen.version)
    return screen.what_if.original_version(version) if screen.what_if is not None else version


def _focused_payload(screen: Any) -> tuple[dict[str, Any], str]:
    if screen.timeline is None or screen.version <= 0:
        return {}, ""
    decoded = screen.timeline.event(screen.version)
    data = decoded.data if decoded.data is not None else decoded.raw
    return dict(data or {}), decoded.event_type


def apply_edits(screen: Any, edits: Any) -> None:
    """Build the what-if in a worker (it reads the rest of the stream once)."""
    screen.slider.note = "what-if: replaying…"
    _build(screen, edits, _original(screen))


def _build(screen: Any, edits: Any, original: int) -> None:
    app = screen.app

    def build() -> None:
        from eventscope.domain.whatif import WhatIf

        try:
            what_if = None if edits.is_empty else WhatIf(app.engine, screen.stream_id, edits)
            if what_if is not None:
                what_if.timeline.length  # noqa: B018 - the first pass, off the event loop
        except Exception as exc:  # one sentence; the view stays as it was
            app.call_from_thread(screen.notify, screen_sentence(exc), severity="error")
            app.call_from_thread(setattr, screen.slider, "note", "")
            return
        app.call_from_thread(_ready, screen, what_if, original)

    screen.run_worker(
        build, thread=True, exclusive=True, group="timeline-what-if", description="what-if replay"
    )


def _ready(screen: Any, what_if: Any, original: int) -> None:
    if not screen.is_attached:
        return
    if screen.actual_overview is None:
        screen.actual_overview = screen.overview
        screen.actual_timeline = screen.timeline
    overview = screen.actual_overview
    screen.what_if = what_if
    screen.refresh_bindings()  # the keys that apply follow the overview shown
    if what_if is None:
        screen.timeline = screen.actual_timeline
        screen.overview = overview
        length = overview.length
        target = original
        screen.event_list.show_stream(screen.app.source, screen.stream_id, length, target)
        screen.event_list.border_subtitle = plural(length, "event")
        screen.remove_class("-what-if")
        screen.event_list.border_title = "events"
    else:
        screen.timeline = what_if.timeline
        length = what_if.length
        screen.overview = replace(overview, length=length)
        target = what_if.display_version(original)
        screen.event_list.reset(
            whatif_fetch(what_if.source, screen.stream_id),
            row_count=length,
            cursor=max(0, target - 1),
        )
        screen.event_list.border_subtitle = (
            f"what-if: {what_if.applied_upto(length):,} of {plural(length, 'row')} applied"
        )
        screen.query_one(WhatIfBanner).update(banner_text(what_if))
        screen.add_class("-what-if")
    screen._steps.clear()
    screen._blame_ready = False
    screen.shown = None
    screen.slider.length = length
    screen.slider.note = ""
    screen.version = -1
    screen.goto(target)


def decorate(screen: Any, step: Any) -> None:
    """After a step is drawn: every pane says WHAT-IF while a what-if is active."""
    what_if = screen.what_if
    if what_if is None:
        return
    label = Text("WHAT-IF ", style=WHAT_IF_STYLE)
    screen.event_list.border_title = label + Text(" changed history")
    tree = screen.state_tree
    tree.border_title = label + Text(f" state at row {step.version:,}")
    if step.version:
        entry = what_if.entry(step.version)
        note = {
            "skipped": "this event is left out",
            "refused": "the domain refuses this event",
            "inserted": "an inserted event",
            "replaced": "this event's data is replaced",
        }.get(entry.kind, "")
        counted = f"{plural(what_if.applied_upto(step.version), 'event')} applied"
        tree.border_subtitle = f"{note + ' · ' if note else ''}{counted} · D: diff vs actual"
        screen.detail.border_title = label + Text(
            f" row {step.version:,} · {visible_text(shorten(step.event_type or '', 40))}"
        )
    decorate_chart(screen)
    whatif_compare.refresh(screen, step.version)


def decorate_chart(screen: Any) -> None:
    """The chart's title says WHAT-IF too (it is set again whenever the field changes)."""
    if screen.what_if is None:
        return
    # From the plain title the screen keeps: the border title itself comes back as markup.
    title = getattr(screen, "chart_title", "") or "chart"
    screen.chart.border_title = Text("WHAT-IF ", style=WHAT_IF_STYLE) + Text(f" {title}")


# --- the form and the diff --------------------------------------------------------------
class WhatIfEventForm(ModalScreen[tuple[str, dict[str, Any]] | None]):
    """An event's type and JSON data, checked against the domain's event class."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="what_if_form.cancel"),
        Binding("ctrl+s", "submit", "Apply", id="what_if_form.submit"),
    ]

    DEFAULT_CSS = f"""
    WhatIfEventForm {{
        align: center middle;
        background: $background 60%;
    }}
    WhatIfEventForm > Vertical {{
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: heavy {WHAT_IF_COLOUR};
        background: $surface;
    }}
    WhatIfEventForm #wi-title {{ text-style: bold; color: {WHAT_IF_COLOUR}; }}
    WhatIfEventForm #wi-help {{ color: $text-muted; }}
    WhatIfEventForm TextArea {{ height: 10; }}
    WhatIfEventForm #wi-error {{ color: $text-error; height: auto; }}
    WhatIfEventForm Button {{ margin-top: 1; }}
    """

    def __init__(
        self, title: str, event_type: str, data: dict[str, Any], *, insert: bool = False
    ) -> None:
        super().__init__()
        self.title_text = title
        self.event_type = event_type
        self.data = data
        self.insert = insert

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"WHAT-IF (hypothetical) · {visible_text(self.title_text)}", id="wi-title")
            yield Static(
                "The data as JSON; checked against the domain's event class when it knows "
                "the type. Nothing is written: ctrl+s applies, escape cancels.",
                id="wi-help",
            )
            yield Input(
                self.event_type,
                placeholder="event type",
                id="wi-type",
                disabled=not self.insert,
            )
            text = orjson.dumps(self.data, option=orjson.OPT_INDENT_2).decode()
            yield TextArea(text, id="wi-data", language=None)
            yield Static("", id="wi-error")
            yield Button("Apply (ctrl+s)", id="wi-apply", variant="primary")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        event_type = self.query_one("#wi-type", Input).value.strip()
        error = self.query_one("#wi-error", Static)
        try:
            data = orjson.loads(self.query_one(TextArea).text)
        except orjson.JSONDecodeError as exc:
            error.update(Text(f"not JSON: {exc}"))
            return
        if not isinstance(data, dict):
            error.update(Text("the data must be a JSON object { ... }"))
            return
        if not event_type:
            error.update(Text("give the event type"))
            return
        problem = self._problem(event_type, data)
        if problem:
            error.update(Text(visible_text(problem)))
            return
        self.dismiss((event_type, data))

    def _problem(self, event_type: str, data: dict[str, Any]) -> str | None:
        from pydantic import ValidationError

        registry = getattr(getattr(self.app, "engine", None), "registry", None)
        cls = registry.class_for(event_type) if registry is not None else None
        if cls is None:
            return None
        try:
            cls.model_validate(data)
        except ValidationError as exc:
            return f"not a valid {event_type}: {validation_sentence(exc)}"
        return None


class WhatIfDiffScreen(Screen[None]):
    """Actual state (left) against the what-if state (right) at the focused row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="what_if_diff.back"),
    ]

    DEFAULT_CSS = f"""
    WhatIfDiffScreen #wd-banner {{
        height: 1; padding: 0 1; background: {WHAT_IF_COLOUR}; color: #ffffff;
        text-style: bold;
    }}
    WhatIfDiffScreen #wd-summary {{ height: auto; padding: 0 1; }}
    WhatIfDiffScreen DiffView {{ border: heavy {WHAT_IF_COLOUR}; height: 1fr; }}
    """

    def __init__(self, what_if: Any, row: int) -> None:
        super().__init__()
        self.what_if = what_if
        self.row = max(0, row)

    def compose(self) -> ComposeResult:
        what_if = self.what_if
        original = what_if.original_version(self.row)
        result = what_if.result(original)
        self.result = result
        yield Static(
            Text(" WHAT-IF · HYPOTHETICAL, NOT EVIDENCE ", style=WHAT_IF_STYLE)
            + Text(f"  {visible_text(shorten(what_if.stream_id, 60))}"),
            id="wd-banner",
        )
        lines, counts = build_diff_lines(result.differences)
        summary = Text(
            f"actual v{result.actual.version} ({plural(result.actual.version, 'event')}) → "
            f"what-if ({plural(result.applied_version, 'event')}, "
            f"{', '.join(what_if.edits.describe())}): "
            f"{counts.summary()}"
        )
        for rejection in result.rejected[:3]:
            summary.append(f"\nrefused: {visible_text(shorten(rejection.label(), 150))}")
        yield Static(summary, id="wd-summary")
        view = DiffView(id="wd-diff")
        view.border_title = "actual → what-if"
        view.set_lines(lines)
        yield view
        yield KeyFooter()


# --- the world as of T over the changed history -----------------------------------------
def open_world(screen: Any) -> None:
    """The read models as of the focused event's position, over the changed history."""
    if screen.what_if is None:
        screen.notify("no what-if yet: x skips the focused event, i inserts, r edits")
        return
    position = 0
    if screen.version > 0:
        position = int(screen.timeline.record(screen.version).position)
    screen.app.push_screen(what_if_world(screen.what_if, position))


def what_if_world(what_if: Any, position: int) -> Any:
    """A `WorldScreen` whose projections are evaluated over the changed history (in
    memory), labelled like every what-if view."""
    from eventscope.explorer.screens.world import WorldScreen, document_rows

    class WhatIfWorldScreen(WorldScreen):
        DEFAULT_CSS = f"""
        WhatIfWorldScreen #wi-world-banner {{
            height: 1; padding: 0 1; background: {WHAT_IF_COLOUR}; color: #ffffff;
            text-style: bold;
        }}
        WhatIfWorldScreen #world-rows-pane, WhatIfWorldScreen #projections-pane {{
            border: heavy {WHAT_IF_COLOUR};
        }}
        """

        def __init__(self) -> None:
            super().__init__(position)
            self.what_if = what_if

        def on_mount(self) -> None:
            banner = Static(
                Text(" WHAT-IF · HYPOTHETICAL, NOT EVIDENCE ", style=WHAT_IF_STYLE)
                + Text(
                    f"  read models over {visible_text(shorten(what_if.stream_id, 40))} with "
                    f"{visible_text(shorten(', '.join(what_if.edits.describe()), 80))}"
                ),
                id="wi-world-banner",
            )
            self.mount(banner, before=self.query_one("#world-position"))

        def _load_world(self, position: int, projection: str | None, as_of: Any = None) -> None:
            app: Any = self.app

            def work() -> None:
                event = app.source.event_at(position) if position else None
                moment = event.recorded_at if event is not None else None
                rows: list[tuple[str, Any]] = []
                error = None
                if as_of is not None:
                    error = "a what-if's read models are shown by position (recorded time)"
                elif projection is not None:
                    try:
                        state = self.what_if.projection_state(projection, position)
                        rows = document_rows(state.documents)
                    except Exception as exc:
                        error = str(exc)
                app.call_from_thread(self._world_ready, position, projection, moment, rows, error)

            self.run_worker(work, thread=True, exclusive=True, group="world-compute")

    return WhatIfWorldScreen()
