"""The eventscope Textual app: global keys, shared state, and the way screens reach data.

Screens never open stores or build engines themselves. They read `app.source` (an
`EventSource`, opened read-only) and `app.engine` (the domain facade) from thread workers,
and they report the chain's state through `app.integrity`, which every status bar shows.
Tests and the CLI build the app through `make_app`, so both exercise the same wiring.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from eventscope.explorer.engine_factory import build_engine
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.wording import plural
from eventscope.store import EventSource, open_source
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

HERE = Path(__file__).parent

# Two quiet themes with the same roles, so a light or a dark terminal both read well:
# blue for navigation, amber for "look here" (changed fields, markers), red only for
# broken evidence. Chosen from COLORFGBG (or EVENTSCOPE_THEME=light|dark).
DARK_THEME = Theme(
    name="eventscope-dark",
    primary="#5fa8d3",
    secondary="#b59cf0",
    accent="#f0b35a",
    warning="#e5a84b",
    error="#e06c75",
    success="#7ec07a",
    foreground="#d9dde4",
    background="#1a1c22",
    surface="#1f222a",
    panel="#2a2e38",
    dark=True,
)
LIGHT_THEME = Theme(
    name="eventscope-light",
    primary="#1f5f8b",
    secondary="#6a4fb3",
    accent="#a35a00",
    warning="#8f5b00",
    error="#b3261e",
    success="#2f7a3b",
    foreground="#1e2329",
    background="#f7f6f2",
    surface="#fdfdfb",
    panel="#e6e3da",
    dark=False,
)


@dataclass(frozen=True, slots=True)
class Integrity:
    """What is known about the hash chain: shown in every status bar."""

    state: Literal["unknown", "checking", "verified", "broken", "no-chain"] = "unknown"
    checked: int = 0
    total: int = 0
    first_bad_position: int | None = None
    reason: str | None = None
    # Every bad position counted, and position -> mark for the named ones
    # (`explorer.integrity_marks`): lists and the event detail flag those events.
    bad_count: int = 0
    marks: Mapping[int, str] = field(default_factory=dict)

    def label(self) -> str:
        if self.state == "verified":
            return f"verified ({plural(self.checked, 'event')})"
        if self.state == "broken":
            if self.first_bad_position is None:
                return "BROKEN (see the integrity screen)"
            more = f" (+{self.bad_count - 1:,} more)" if self.bad_count > 1 else ""
            return f"BROKEN at position {self.first_bad_position:,}{more}"
        if self.state == "checking":
            share = f" {self.checked * 100 // self.total}%" if self.total else ""
            return f"checking…{share}"
        if self.state == "no-chain":
            return "no hash chain"
        return "unknown (press v)"


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """Figures for the status bar, read once when the app starts."""

    kind: str
    location: str
    read_only: bool
    has_hash_chain: bool
    event_count: int | None = None
    head_position: int | None = None
    followable: bool = False
    """Whether the source can be polled cheaply for new events (native stores)."""
    sandbox: bool = False
    """A scratch store eventscope made (teaching): writable on purpose, never evidence."""
    skipped: str | None = None
    """"N malformed lines skipped" when the source skipped records (`store.skipped`)."""


def _commands_provider() -> Any:
    """Imported when the palette first opens, not at start-up."""
    from eventscope.explorer.commands import EventscopeCommands

    return EventscopeCommands


class EventscopeApp(App[None]):
    """Terminal audit explorer for event-sourced histories."""

    TITLE = "eventscope"
    CSS_PATH: ClassVar[Any] = [HERE / "eventscope.tcss"]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("escape", "back", "Back", id="app.back"),
        Binding("v", "verify", "Verify", id="app.verify"),
        Binding("c", "correlation", "Correlation", id="app.correlation"),
        Binding("w", "world", "World as of T", id="app.world"),
        Binding("y", "copy", "Copy", id="app.copy"),
        Binding("l", "follow", "Follow/pause", id="app.follow"),
        Binding("ctrl+r", "refresh", "Refresh", id="app.refresh"),
    ]

    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {_commands_provider}
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (30, "-tall")]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (120, "-wide"),
    ]

    integrity: var[Integrity] = var(Integrity)
    """The chain's state as last established by the integrity screen (or a test)."""

    summary: var[SourceSummary | None] = var(None)
    """Kind, location, event count and head position of the open source: the one place
    every screen reads the head from, so no two screens can show different heads."""

    following: var[bool] = var(False)
    """Whether new events are picked up as another process appends them (follow mode)."""

    data_version: var[int] = var(0)
    """Bumped when the head moved or the user asked for a refresh; screens watch it and
    reload what they show."""

    SANDBOX: ClassVar[bool] = False
    """Whether the open source is a sandbox eventscope made (the teaching app): the status
    bar then says WRITABLE (sandbox) in red, so it cannot be taken for evidence."""

    FOLLOW_INTERVAL: ClassVar[float] = 1.0
    """Seconds between two head polls in follow mode."""

    def __init__(
        self,
        source: EventSource,
        *,
        domain: str | None = None,
        stream: str | None = None,
        version: int | None = None,
        owns_source: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.domain_module = domain
        self.start_stream = stream
        self.start_version = version
        self._owns_source = owns_source
        self._engine: Any = None
        self._engine_lock = threading.Lock()
        self.register_theme(DARK_THEME)
        self.register_theme(LIGHT_THEME)
        self.theme = LIGHT_THEME.name if _terminal_is_light() else DARK_THEME.name

    # --- shared data --------------------------------------------------------------------
    @property
    def engine(self) -> Any:
        """The domain facade (`domain.Engine(source, plugin)`), built on first use.

        Built lazily and under a lock because the first caller is usually a worker thread
        and loading a `--domain` plugin imports user code.
        """
        with self._engine_lock:
            if self._engine is None:
                self._engine = build_engine(self.source, self.domain_module)
            return self._engine

    def on_mount(self) -> None:
        from eventscope.explorer.screens.browser import BrowserScreen

        info = self.source.describe()
        followable = is_followable(info.kind)
        from eventscope.store.skipped import skipped_by

        skipped = skipped_by(self.source)
        self.summary = SourceSummary(
            info.kind,
            info.location,
            info.read_only,
            info.has_hash_chain,
            followable=followable,
            sandbox=self.SANDBOX,
            skipped=skipped.label() if skipped else None,
        )
        if not info.has_hash_chain:
            self.integrity = Integrity("no-chain")
        self.sub_title = info.location
        self.push_screen(BrowserScreen())
        self.check_head()
        self.following = followable
        self._follow_timer = self.set_interval(self.FOLLOW_INTERVAL, self._follow_tick)
        if self.start_stream is not None:
            self.open_stream(self.start_stream, self.start_version)

    # --- the head: one source of truth --------------------------------------------------
    def check_head(self, *, force: bool = False) -> None:
        """Read the head now (in a worker); screens reload when it moved, or always with
        `force` (the refresh key)."""
        self._poll_head(force)

    @work(thread=True, exclusive=True, group="head", exit_on_error=False)
    def _poll_head(self, force: bool) -> None:
        count, head = self.source.event_count(), self.source.head_position()
        self.call_from_thread(self._head_read, count, head, force)

    def _load_summary(self) -> None:
        """Read the head again and reload every screen (after the app itself appended,
        as the teaching sandbox does)."""
        self.check_head(force=True)

    def _head_read(self, count: int, head: int, force: bool) -> None:
        summary = self.summary
        if summary is None:
            return
        moved = (count, head) != (summary.event_count, summary.head_position)
        first = summary.head_position is None
        if moved:
            self.summary = replace(summary, event_count=count, head_position=head)
        if (moved and not first) or force:
            self.data_version += 1

    def _follow_tick(self) -> None:
        if self.following:
            self.check_head()

    def action_follow(self) -> None:
        """Follow new events (another process appending) or pause."""
        if self.summary is None or not self.summary.followable:
            return
        self.following = not self.following
        self.notify("following new events" if self.following else "paused: press l to follow")
        if self.following:
            self.check_head()

    def action_refresh(self) -> None:
        """Read the head and reload the screen now."""
        self.check_head(force=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # on the home screen there is nothing to go back to
            return len(self.screen_stack) > 2
        if action == "follow":
            return bool(self.summary and self.summary.followable)
        if action == "copy":
            return callable(getattr(self.focused, "copy_target", None))
        return True

    def watch_following(self, _value: bool) -> None:
        self.refresh_bindings()

    # --- copying ------------------------------------------------------------------------
    def action_copy(self) -> None:
        """Copy the focused id, hash or value to the clipboard (OSC 52) and say what."""
        target = getattr(self.focused, "copy_target", None)
        found = target() if callable(target) else None
        if not found:
            self.notify("nothing to copy here: move to a line with a value", timeout=3)
            return
        what, text = found
        self.copy_to_clipboard(text)
        shown = shorten(visible_text(text), 80)
        note = "" if visible_text(text) == text else " (it holds control characters)"
        self.notify(f"{visible_text(what)}: {shown}{note}", title="Copied", timeout=4)

    def on_unmount(self) -> None:
        if self._owns_source:
            self.source.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_failure(event)

    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """One place that turns a failed background task into a visible sentence.

        `Worker.StateChanged` does not bubble, so each shell screen forwards its own here
        (see `ReportsWorkerErrors`)."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            what = event.worker.group or event.worker.name or "a background task"
            self.notify(f"{what} failed: {error}", severity="error", timeout=8)

    # --- navigation ---------------------------------------------------------------------
    def open_stream(self, stream_id: str, version: int | None = None) -> None:
        """Push the stream timeline of `stream_id` (at `version`, else its latest)."""
        from eventscope.explorer.screens.timeline import TimelineScreen

        self.push_screen(TimelineScreen(stream_id, version))

    def open_correlation(self, correlation_id: str | None = None) -> None:
        from eventscope.explorer.screens.correlation import CorrelationScreen

        self.push_screen(CorrelationScreen(correlation_id))

    def action_home(self) -> None:
        """Back to the stream browser, whatever is stacked above it."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_back(self) -> None:
        """Leave the current screen; the browser (home) stays."""
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        from eventscope.explorer.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_verify(self) -> None:
        from eventscope.explorer.screens.integrity import IntegrityScreen

        if isinstance(self.screen, IntegrityScreen):
            self.screen.start()
        else:
            self.push_screen(IntegrityScreen(autostart=True))

    def action_world(self) -> None:
        from eventscope.explorer.screens.world import WorldScreen

        if not isinstance(self.screen, WorldScreen):
            self.push_screen(WorldScreen())

    def action_correlation(self) -> None:
        """Trace the correlation id in focus (a screen may offer one), else ask for one."""
        from eventscope.explorer.screens.correlation import CorrelationScreen

        if isinstance(self.screen, CorrelationScreen):
            return
        offered = getattr(self.screen, "correlation_id_in_focus", None)
        value = offered() if callable(offered) else offered
        self.open_correlation(value if isinstance(value, str) else None)

    def action_consistency(self) -> None:
        from eventscope.explorer.screens.consistency import ConsistencyScreen

        self.push_screen(ConsistencyScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands under their own heading, without the two that repeat
        ours (our Quit, and our Help instead of Textual's key panel)."""
        for command in super().get_system_commands(screen):
            if command.title in ("Quit", "Keys"):
                continue
            yield SystemCommand(
                f"Textual: {command.title}", command.help, command.callback, command.discover
            )

    def action_toggle_light(self) -> None:
        """Switch between the light and dark eventscope themes."""
        dark = self.theme != LIGHT_THEME.name
        self.theme = LIGHT_THEME.name if dark else DARK_THEME.name


class ReportsWorkerErrors:
    """Screen mixin: a worker that fails shows one sentence instead of failing silently."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        app = getattr(self, "app", None)
        if isinstance(app, EventscopeApp):
            app.report_worker_failure(event)


def is_followable(kind: str) -> bool:
    """Sources whose head and stream catalog are read with cheap queries and updated in
    the same transaction as each append: the native store on SQLite and PostgreSQL.
    Others (a JSON Lines file, a catalog built in eventscope's cache) are read as they
    were when opened."""
    return kind.startswith("native-")


def _terminal_is_light() -> bool:
    """Guess a light terminal from COLORFGBG ("fg;bg", bg 7 or 15 is light) or an override."""
    forced = os.environ.get("EVENTSCOPE_THEME", "").lower()
    if forced in ("light", "dark"):
        return forced == "light"
    background = os.environ.get("COLORFGBG", "").rsplit(";", 1)[-1]
    return background in ("7", "15")


def make_app(
    location: str | None = None,
    *,
    source: EventSource | None = None,
    domain: str | None = None,
    stream: str | None = None,
    version: int | None = None,
    source_format: str | None = None,
) -> EventscopeApp:
    """Build the app on an open `source`, or open `location` read-only (closed on exit)."""
    if source is None and location is None:
        raise ValueError("make_app needs a location or a source")
    owns = source is None
    if source is None:
        assert location is not None
        source = open_source(location, format=source_format, read_only=True)
    return EventscopeApp(source, domain=domain, stream=stream, version=version, owns_source=owns)
