"""Teaching mode: a sandbox copy of the demo store, a command panel, read models that lag
and catch up, the command log, and built-in lessons that check what the class saw.

`eventscope teach` opens `TeachApp` on a sandbox (`demo_data.sandbox`: a fresh copy of the
demo store in eventscope's data folder), never on evidence. The screen:

* **command panel** (left): choose an aggregate and a command; the fields are a form made
  from the command method's signature (`domain.teaching.commands`); ``ctrl+s`` submits.
  "saga: transfer money" runs the transfer saga across three streams;
* **what happened**: the command validated, then either the rejection and its reason
  (nothing appended) or the events appended, the changed fields, the stream's new
  version and, when the snapshot policy took one, the snapshot;
* **read models**: each projection's checkpoint against the head and its lag in events
  and seconds. Projections run asynchronously after a visible delay (``ctrl+t`` cycles
  it), so the class watches eventual consistency happen;
* **command log**: the class's commands and the demo generator's own rejected ones;
* ``ctrl+n``: a second user submits the same command against the version it loaded
  before the class's command, and gets the store's concurrency error;
* ``ctrl+g``: upcasting -- an old-schema event and the upcaster chain to today's shape;
* ``ctrl+l``: the next built-in lesson; ``ctrl+r``: reset the sandbox (made fresh).

Keys are ``ctrl`` combinations because the form's inputs take plain letters.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import orjson
from eventscope.explorer.app import EventscopeApp
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.wording import screen_sentence
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Select, Static

SAGA = "saga: transfer money"
DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0)
TICK_SECONDS = 0.25


class TeachApp(EventscopeApp):
    """The explorer on a writable sandbox, opening on the teaching screen."""

    SANDBOX = True

    def __init__(self, sandbox: Any, **kwargs: Any) -> None:
        from eventscope.store import EventStore

        self.sandbox = sandbox
        store = EventStore.open(str(sandbox.path))
        super().__init__(store, owns_source=True, **kwargs)
        self.session = self._new_session()
        self.facts_extra: dict[str, Any] = {}

    def _new_session(self) -> Any:
        from eventscope.domain.demo import DOMAIN
        from eventscope.domain.teaching.command_log import CommandLog
        from eventscope.domain.teaching.session import TeachingSession

        return TeachingSession(
            self.source,
            DOMAIN,
            snapshot_every=self.sandbox.snapshot_every,
            log=CommandLog(self.sandbox.log_path),
        )

    def on_mount(self) -> None:
        # Textual also runs EventscopeApp.on_mount (handlers run along the MRO), which
        # pushes the browser: the teaching screen goes on top of it, afterwards.
        self.call_later(self.push_screen, TeachScreen())

    def changed(self) -> None:
        """After an append: the engine's cached timelines and the figures are stale."""
        if self._engine is not None:
            self._engine.forget()
        self._load_summary()

    def replace_sandbox(self, sandbox: Any) -> None:
        """Swap in a freshly made sandbox (after a reset)."""
        from eventscope.store import EventStore

        self.source.close()
        self.sandbox = sandbox
        self.source = EventStore.open(str(sandbox.path))
        self._engine = None
        self.session = self._new_session()
        self._load_summary()


class TeachScreen(Screen[None]):
    """The teaching screen (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", priority=True, id="teach.submit"),
        Binding("ctrl+n", "second_user", "2nd user", priority=True, id="teach.second_user"),
        Binding("ctrl+t", "delay", "Delay", priority=True, id="teach.delay"),
        Binding("ctrl+l", "lesson", "Lesson", priority=True, id="teach.lesson"),
        Binding("ctrl+g", "upcasting", "Upcasting", priority=True, id="teach.upcasting"),
        Binding("ctrl+o", "trace", "Trace", priority=True, id="teach.trace"),
        Binding("ctrl+k", "consistency", "Consistency", priority=True, id="teach.consistency"),
        Binding("ctrl+b", "backdated", "Backdated", priority=True, id="teach.backdated"),
        Binding("ctrl+r", "reset", "Reset sandbox", priority=True, id="teach.reset"),
    ]

    DEFAULT_CSS = """
    TeachScreen { layout: vertical; }
    TeachScreen #teach-header {
        height: 1; padding: 0 1; background: $secondary; color: $background;
        text-style: bold;
    }
    TeachScreen #teach-body { height: 1fr; }
    TeachScreen #teach-command {
        width: 48; border: round $primary; border-title-style: bold; padding: 0 1;
    }
    TeachScreen #teach-command Select { margin-bottom: 0; }
    TeachScreen #teach-fields { height: 1fr; }
    TeachScreen #teach-fields Label, TeachScreen .teach-label { color: $text-muted; }
    TeachScreen #teach-command Input {
        height: 1; border: none; padding: 0 1; background: $boost;
    }
    TeachScreen #teach-command Input:focus { background: $primary 30%; }
    TeachScreen #teach-doc { color: $text-muted; height: auto; max-height: 3; }
    TeachScreen #teach-submit { width: 100%; }
    TeachScreen #teach-right { width: 1fr; }
    TeachScreen .teach-pane {
        border: round $primary 50%; border-title-style: bold; padding: 0 1;
        border-title-color: $text-primary;
    }
    TeachScreen #teach-lesson {
        height: auto; max-height: 7; border: round $accent; display: none;
    }
    TeachScreen.-lesson #teach-lesson { display: block; }
    TeachScreen #teach-outcome { height: 1fr; }
    TeachScreen #teach-models { height: 8; }
    TeachScreen #teach-log { height: 9; }
    TeachScreen.-narrow #teach-command { width: 36; }
    TeachScreen.-narrow #teach-models { height: 7; }
    TeachScreen.-narrow #teach-log { display: none; }
    TeachScreen.-narrow #teach-doc { display: none; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.delay = 2.0
        """Seconds a projection waits after an append before it catches up."""
        self.lesson: Any = None
        self._lesson_index = -1
        self._catching_up = False
        self._fields: list[str] = []
        self._text_fields: set[str] = set()
        self._inputs: dict[str, Input] = {}
        self.upcast_shown = False
        self.resetting = False
        """True while the sandbox is being made fresh: nothing may touch the store."""

    @property
    def session(self) -> Any:
        return self.app.session  # type: ignore[attr-defined]

    # --- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from eventscope.explorer.widgets.status_bar import StatusBar

        yield StatusBar(id="teach-status")
        yield Static(self._header(), id="teach-header")
        with Horizontal(id="teach-body"):
            with Vertical(id="teach-command") as panel:
                panel.border_title = "command"
                yield Select(
                    [(name, name) for name in self._aggregate_names()],
                    value="account",
                    allow_blank=False,
                    id="teach-aggregate",
                )
                yield Select([("open", "open")], value="open", allow_blank=False, id="teach-name")
                yield Label("stream id", classes="teach-label")
                yield Input(placeholder="stream id", id="teach-stream")
                yield VerticalScroll(id="teach-fields")
                yield Static("", id="teach-doc")
                yield Button("Submit  (ctrl+s)", id="teach-submit", variant="primary")
            with Vertical(id="teach-right"):
                lesson = Static("", id="teach-lesson", classes="teach-pane")
                lesson.border_title = "lesson"
                yield lesson
                outcome = Static(self._welcome(), id="teach-outcome", classes="teach-pane")
                outcome.border_title = "what happened"
                yield outcome
                models = Static("", id="teach-models", classes="teach-pane")
                models.border_title = "read models (projections)"
                yield models
                log = Static("", id="teach-log", classes="teach-pane")
                log.border_title = "command log"
                yield log
        yield KeyFooter()

    def on_mount(self) -> None:
        self._choose_aggregate("account")
        self.set_interval(TICK_SECONDS, self._tick)
        self._tick()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 120 or self.size.height < 36, "-narrow")

    def _header(self) -> Text:
        app: Any = self.app
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" TEACHING SANDBOX ")
        text.append(" a scratch copy of the demo store, not evidence · ", style="")
        text.append(visible_text(str(app.sandbox.path)), style="")
        text.append(" · ctrl+r: make it fresh", style="")
        return text

    def _welcome(self) -> Text:
        return Text(
            "Choose an aggregate and a command, fill the form, press ctrl+s.\n"
            "ctrl+l starts a lesson · ctrl+n a second user races you · ctrl+g upcasting\n"
            "ctrl+t changes how long the read models wait before they catch up."
        )

    def _aggregate_names(self) -> list[str]:
        return [*sorted(self.session.aggregates()), SAGA]

    # --- the form -----------------------------------------------------------------------
    @on(Select.Changed, "#teach-aggregate")
    def _aggregate_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._choose_aggregate(event.value)

    @on(Select.Changed, "#teach-name")
    def _command_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._build_form(str(self.query_one("#teach-aggregate", Select).value), event.value)

    def _choose_aggregate(self, name: str) -> None:
        names = self.query_one("#teach-name", Select)
        stream = self.query_one("#teach-stream", Input)
        if name == SAGA:
            names.set_options([("transfer", "transfer")])
            names.value = "transfer"
            stream.value = ""
            stream.disabled = True
            self._build_form(name, "transfer")
            return
        stream.disabled = False
        commands = sorted(self.session.commands(name))
        names.set_options([(c, c) for c in commands])
        first = "open" if "open" in commands else commands[0]
        names.value = first
        stream.value = _default_stream(self.session, name)
        self._build_form(name, first)

    def _build_form(self, aggregate: str, command: str) -> None:
        box = self.query_one("#teach-fields", VerticalScroll)
        box.remove_children()
        doc = self.query_one("#teach-doc", Static)
        if aggregate == SAGA:
            fields: list[tuple[str, str]] = [
                (name, value) for name, value in _saga_defaults(self.session).items()
            ]
            doc.update("The saga: request, debit the source, credit the target, complete.")
        else:
            spec = self.session.commands(aggregate)[command]
            defaults = _form_defaults(self.session, aggregate, command)
            fields = []
            for name, _annotation, default in spec.fields:
                value = defaults.get(name, "" if default is ... else _text(default))
                fields.append((name, value))
            doc.update(Text(visible_text(spec.doc or f"{spec.aggregate.__name__}.{command}")))
        self._fields = [name for name, _ in fields]
        self._text_fields = (
            set(self._fields)
            if aggregate == SAGA
            else {name for name, annotation, _ in spec.fields if annotation is str}
        )
        widgets: list[Any] = []
        self._inputs = {}
        for name, value in fields:
            field = Input(value, classes="teach-field")
            self._inputs[name] = field
            widgets += [Label(name), field]
        box.mount(*widgets)

    def form_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self._fields:
            text = self._inputs[name].value
            values[name] = text if name in self._text_fields else _parse(text)
        return values

    def set_field(self, name: str, value: str) -> None:
        """Fill one field of the form (lessons and tests use it)."""
        self._inputs[name].value = value

    def choose(self, aggregate: str, command: str | None = None) -> None:
        """Select an aggregate and a command, rebuilding the form."""
        self.query_one("#teach-aggregate", Select).value = aggregate
        self._choose_aggregate(aggregate)
        if command is not None and aggregate != SAGA:
            self.query_one("#teach-name", Select).value = command
            self._build_form(aggregate, command)

    # --- submitting ---------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "teach-submit":
            self.action_submit()

    def _request(self) -> tuple[str, str, str, dict[str, Any]]:
        aggregate = str(self.query_one("#teach-aggregate", Select).value)
        command = str(self.query_one("#teach-name", Select).value)
        stream = self.query_one("#teach-stream", Input).value.strip()
        return aggregate, command, stream, self.form_values()

    def action_submit(self) -> None:
        aggregate, command, stream, values = self._request()
        self._outcome_text(Text("validating…", style="italic"))

        def run() -> Any:
            if aggregate == SAGA:
                return [self.session.transfer(**{k: str(v) for k, v in values.items()})]
            if not stream:
                return [_no_stream(command)]
            return [self.session.submit(aggregate, stream, command, values)]

        self._run(run)

    def action_second_user(self) -> None:
        aggregate, command, stream, values = self._request()
        if aggregate == SAGA or not stream:
            self.notify("choose an aggregate's command and a stream first", severity="warning")
            return
        self._run(lambda: list(self.session.race(aggregate, stream, command, values)))

    def _run(self, job: Any) -> None:
        app: Any = self.app
        if self.resetting:
            self.notify("the sandbox is being made fresh; a moment", severity="warning")
            return

        def work() -> None:
            try:
                outcomes = job()
            except Exception as exc:  # one sentence on the screen; nothing half-done
                app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
                return
            app.call_from_thread(self._shown, outcomes)

        self.run_worker(work, thread=True, exclusive=True, group="teach-command")

    def _shown(self, outcomes: list[Any]) -> None:
        if not self.is_attached:
            return
        app: Any = self.app
        app.changed()
        text = Text()
        for index, outcome in enumerate(outcomes):
            if index:
                text.append("\n")
            text.append_text(outcome_text(outcome, narrow=self.has_class("-narrow")))
        self._outcome_text(text)
        self._tick()

    def _outcome_text(self, text: Text) -> None:
        self.query_one("#teach-outcome", Static).update(text)

    # --- the clock: read models, command log, lessons -----------------------------------
    def _tick(self) -> None:
        if not self.is_attached or self.resetting:
            return
        try:
            lags = self.session.read_models()
        except Exception:  # the sandbox is being reset
            return
        models = self.query_one("#teach-models", Static)
        models.update(models_text(lags, models.size.width or 100))
        self.query_one("#teach-models", Static).border_subtitle = f"delay {self.delay:g} s · ctrl+t"
        self.query_one("#teach-log", Static).update(self._log_text())
        due = any(lag.events and lag.seconds >= self.delay for lag in lags)
        if due and not self._catching_up:
            self._catching_up = True
            self._catch_up()
        self._check_lesson(lags)

    def _catch_up(self) -> None:
        app: Any = self.app
        delay = self.delay

        def work() -> None:
            try:
                self.session.catch_up_due(delay)
            finally:
                app.call_from_thread(self._caught_up)

        self.run_worker(work, thread=True, exclusive=True, group="teach-projections")

    def _caught_up(self) -> None:
        self._catching_up = False

    def _log_text(self) -> Text:
        log = self.session.log
        entries = log.entries(last=7) if log is not None else []
        width = self.query_one("#teach-log", Static).size.width or 100
        text = Text(no_wrap=True, overflow="ellipsis")
        for entry in reversed(entries):
            outcome = str(entry.get("outcome", ""))
            style = "bold red" if outcome in ("rejected", "conflict", "invalid") else "green"
            text.append(f"{str(entry.get('at', ''))[:16]} ", style="dim")
            text.append(f"{outcome:<8} ", style=style)
            who = "demo" if entry.get("source") == "demo" else str(entry.get("actor", ""))
            line = f"{entry.get('command')} {entry.get('stream_id') or ''} ({who})"
            if entry.get("reason"):
                line += f": {entry.get('reason')}"
            text.append(visible_text(shorten(line, max(20, width - 28))))
            text.append("\n")
        return text

    # --- lessons ------------------------------------------------------------------------
    def action_lesson(self) -> None:
        from eventscope.domain.teaching.lessons import LESSONS, LessonRun

        self._lesson_index = (self._lesson_index + 1) % len(LESSONS)
        lesson = LESSONS[self._lesson_index]
        self.start_lesson(LessonRun(lesson))

    def start_lesson(self, run: Any) -> None:
        self.lesson = run
        self.add_class("-lesson")
        key = run.lesson.key
        if key == "transfer-saga":
            self.choose(SAGA)
        elif key in ("open-and-deposit", "rejected-command"):
            self.choose("account", "open" if key == "open-and-deposit" else "withdraw")
            if key == "open-and-deposit":
                self.query_one("#teach-stream", Input).value = _new_account_id(self.session)
            else:
                self.set_field("amount", "999999.00")
        self._draw_lesson()

    def facts(self, lags: list[Any] | None = None) -> Any:
        from eventscope.domain.teaching.lessons import Facts

        app: Any = self.app
        screen = app.screen
        name = type(screen).__name__
        facts = Facts(
            last=self.session.last,
            history=list(self.session.history),
            read_models=lags if lags is not None else self.session.read_models(),
            screen=name,
            upcast_shown=self.upcast_shown,
            backdated_stream=app.sandbox.backdated_stream(),
        )
        log = self.session.log
        facts.command_log_rejections = log.count("rejected") if log is not None else 0
        if name == "TimelineScreen":
            facts.timeline_stream = screen.stream_id
            facts.timeline_axis = str(screen.slider.axis)
        elif name == "CorrelationScreen":
            facts.correlation = screen.correlation_id
        elif name == "ConsistencyScreen":
            facts.consistency_findings = len(getattr(screen, "problems", []) or [])
        facts.diff_open = name == "DiffScreen"
        return facts

    def _check_lesson(self, lags: list[Any]) -> None:
        run = self.lesson
        if run is None or run.done:
            return
        completed = run.advance(self.facts(lags))
        for step in completed:
            self.app.notify(f"✓ {step.look}", title=run.lesson.title, timeout=4)
        if completed:
            self._draw_lesson()

    def _draw_lesson(self) -> None:
        run = self.lesson
        pane = self.query_one("#teach-lesson", Static)
        if run is None:
            return
        total = len(run.lesson.steps)
        pane.border_title = f"lesson: {run.lesson.title}"
        text = Text()
        # Narrow: what to do now, not what was seen (that was said as a toast), so the
        # result pane below keeps its rows.
        if run.index and not self.has_class("-narrow"):
            seen = run.lesson.steps[run.index - 1]
            text.append(f"✓ {seen.look}\n", style="green")
        step = run.step
        if step is not None:
            text.append(f"▶ {step.do}\n", style="bold")
            text.append(f"  look for: {step.look}", style="italic")
        else:
            text.append("Lesson complete. ctrl+l: the next lesson.", style="bold green")
        pane.border_subtitle = f"step {min(run.index + 1, total)} of {total}"
        pane.update(text)

    # --- the other keys -----------------------------------------------------------------
    def action_delay(self) -> None:
        index = DELAYS.index(self.delay) if self.delay in DELAYS else 0
        self.delay = DELAYS[(index + 1) % len(DELAYS)]
        self.notify(f"read models catch up {self.delay:g} s after an append", timeout=2)
        self._tick()

    def action_upcasting(self) -> None:
        record = self.session.old_schema_event()
        if record is None:
            self.notify("the sandbox has no event in an old schema", severity="warning")
            return
        steps, decoded = self.session.upcast_steps(record)
        self.upcast_shown = True
        self._outcome_text(upcast_text(record, steps, decoded))
        self.query_one("#teach-outcome", Static).border_title = "upcasting"

    def action_trace(self) -> None:
        last = self.session.last
        correlation = getattr(last, "correlation_id", None) if last is not None else None
        app: Any = self.app
        app.open_correlation(correlation)

    def action_consistency(self) -> None:
        app: Any = self.app
        app.action_consistency()

    def action_backdated(self) -> None:
        app: Any = self.app
        stream = app.sandbox.backdated_stream()
        if stream is None:
            self.notify("the sandbox has no backdated correction", severity="warning")
            return
        app.open_stream(stream)

    def action_reset(self) -> None:
        from eventscope.demo_data.sandbox import reset_sandbox

        app: Any = self.app
        sandbox = app.sandbox
        events, seed = sandbox.manifest.get("events"), sandbox.manifest.get("seed")
        folder = Path(sandbox.path).parent
        if self.resetting:
            return
        self.resetting = True  # the clock and the commands leave the store alone now
        self._outcome_text(Text("making a fresh sandbox…", style="italic"))

        def work() -> None:
            # Let a running catch-up finish before the store goes away.
            for _ in range(1000):
                if not self._catching_up:
                    break
                time.sleep(0.01)
            app.call_from_thread(app.source.close)
            try:
                fresh = reset_sandbox(folder, events=events, seed=seed)
            except Exception as exc:
                app.call_from_thread(self.notify, screen_sentence(exc), severity="error")
                return
            app.call_from_thread(self._reset_done, fresh)

        self.run_worker(work, thread=True, exclusive=True, group="teach-reset")

    def _reset_done(self, sandbox: Any) -> None:
        app: Any = self.app
        app.replace_sandbox(sandbox)
        self.resetting = False
        self._catching_up = False
        self.lesson = None
        self.remove_class("-lesson")
        self._outcome_text(Text("A fresh sandbox: the demo store as built, nothing submitted."))
        self.query_one("#teach-outcome", Static).border_title = "what happened"
        self._choose_aggregate(str(self.query_one("#teach-aggregate", Select).value))
        self._tick()


# --- pieces of text ---------------------------------------------------------------------
def outcome_text(outcome: Any, *, narrow: bool = False) -> Text:
    """What one command did, for the class to read. Narrow (80×24, a pane of 5 rows): the
    answer first -- the stream's version and the changed fields -- and the step-by-step
    trace after them, so what the pane cuts is the trace, not the result."""
    text = Text()
    status = outcome.status
    style = {
        "accepted": "bold green",
        "rejected": "bold red",
        "invalid": "bold red",
        "conflict": "bold red",
    }[status]
    text.append(f"{status.upper()} ", style=f"reverse {style}")
    text.append(
        visible_text(f" {outcome.command} on {outcome.stream_id} by {outcome.actor}"),
        style="bold",
    )
    text.append("\n")
    if narrow:
        if outcome.status == "accepted":
            text.append(
                f"  stream version {outcome.version_before} → {outcome.version_after}\n",
                style="bold",
            )
        elif outcome.reason:
            text.append(f"  ✗ {visible_text(str(outcome.reason))}\n", style="bold")
        text.append_text(_changes_text(outcome))
    for step in outcome.steps:
        mark = "✗" if ("REJECTED" in step or "expected" in step or "invalid" in step) else "·"
        text.append(f"  {mark} {visible_text(step)}\n")
    if not narrow:
        text.append_text(_changes_text(outcome))
    return text


def _changes_text(outcome: Any) -> Text:
    text = Text()
    if outcome.changes:
        text.append("  changed fields:\n", style="bold")
        for change in outcome.changes[:8]:
            path = ".".join(str(p) for p in change.path)
            text.append(
                f"    ● {visible_text(path)}: {_short(change.before)} → {_short(change.after)}\n",
                style="#f0b35a",
            )
    if outcome.snapshot_at is not None:
        text.append(f"  📷 snapshot taken at v{outcome.snapshot_at}\n", style="bold")
    return text


def models_text(lags: list[Any], width: int = 100) -> Text:
    """Each read model's checkpoint against the head, lag in events and seconds."""
    text = Text(no_wrap=True, overflow="ellipsis")
    narrow = width < 64
    if narrow:
        text.append(f"{'read model':<14} {'checkpt/head':>11}  lag  waited\n", style="bold")
    else:
        text.append(
            f"{'read model':<20} {'checkpoint':>10} {'head':>7} {'lag':>5} {'waited':>7}\n",
            style="bold",
        )
    for lag in lags:
        style = "green" if lag.caught_up else "bold #f0b35a"
        if narrow:
            text.append(
                f"{lag.name[:14]:<14} {lag.checkpoint:>5}/{lag.head:<5} {lag.events:>4} "
                f"{lag.seconds:>5.1f}s\n",
                style=style,
            )
            continue
        state = "up to date" if lag.caught_up else "catching up…"
        text.append(
            f"{lag.name:<20} {lag.checkpoint:>10,} {lag.head:>7,} {lag.events:>5} "
            f"{lag.seconds:>6.1f}s ",
        )
        text.append(state + "\n", style=style)
    return text


def upcast_text(record: Any, steps: list[Any], decoded: Any) -> Text:
    text = Text()
    text.append(
        visible_text(
            f"{record.event_type} v{record.version} of {record.stream_id} (position "
            f"{record.position}) is stored in schema {record.schema_version}:\n"
        ),
        style="bold",
    )
    for step in steps:
        text.append(f"  {visible_text(step.label)}\n", style="bold #b59cf0")
        text.append(f"    {visible_text(orjson.dumps(step.data).decode())}\n")
    problem = decoded.validation_error()
    verdict = "valid today's shape" if problem is None else f"does not fit: {problem}"
    text.append(f"  → {decoded.event_type} schema {decoded.schema_version}: {verdict}\n")
    text.append("The stored bytes never change; the upcast copy is what the fold uses.", "dim")
    return text


def _short(value: Any) -> str:
    return visible_text(shorten(orjson.dumps(value, default=str).decode(), 40))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _parse(text: str) -> Any:
    """A form field: JSON when it reads as a list, object, number or boolean, else text."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{") or stripped in ("true", "false"):
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return text
    if stripped.lstrip("-").isdigit() and not stripped.startswith("0") or stripped == "0":
        return int(stripped)
    return text


def _no_stream(command: str) -> Any:
    from eventscope.domain.teaching.session import Outcome

    return Outcome("invalid", command, "?", "trainer:class", ["give a stream id"], "no stream")


def _new_account_id(session: Any) -> str:
    for number in range(1, 1000):
        candidate = f"account-teach-{number:03d}"
        if session.store.stream_info(candidate) is None:
            return candidate
    return "account-teach-999"


def _default_stream(session: Any, stream_type: str) -> str:
    if stream_type == "account":
        return _new_account_id(session)
    page = session.store.streams(stream_type=stream_type, limit=1)
    return page[0].stream_id if page else f"{stream_type}-teach-001"


def _form_defaults(session: Any, aggregate: str, command: str) -> dict[str, str]:
    """Sensible values so a lesson's first submit works: an existing customer, EUR."""
    out: dict[str, str] = {}
    if aggregate == "account":
        out["currency"] = "EUR"
        if command == "open":
            page = session.store.streams(stream_type="customer", limit=1)
            out["customer_id"] = page[0].stream_id if page else "customer-000001"
            out["kind"] = "checking"
        if command in ("deposit", "withdraw"):
            out["amount"] = "100.00"
    return out


def _saga_defaults(session: Any) -> dict[str, str]:
    accounts = []
    for info in session.store.streams(stream_type="account", limit=50):
        try:
            state = session.repository("account").load(info.stream_id).plain_state
        except Exception:
            continue
        if (
            state["status"] == "open"
            and state["currency"] == "EUR"
            and state["balance_cents"] > 1000
        ):
            accounts.append(info.stream_id)
        if len(accounts) == 2:
            break
    while len(accounts) < 2:
        accounts.append("account-000001")
    return {
        "from_account": accounts[0],
        "to_account": accounts[1],
        "amount": "5.00",
        "currency": "EUR",
        "reference": "lesson transfer",
    }
