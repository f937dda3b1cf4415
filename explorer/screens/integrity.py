"""Integrity: walk the hash chain in a worker with a progress bar, name the first broken
position, and jump to that event's timeline.

The walk is O(1) memory in the store; here only progress figures cross to the UI, at most
ten times a second, so a 1M-event verify never floods the event loop.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from eventscope.explorer.app import Integrity, ReportsWorkerErrors
from eventscope.explorer.safe_text import visible_text
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.wording import plural
from eventscope.store.records import RecordedEvent, VerifyReport, format_timestamp
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, ProgressBar, Static
from textual.worker import get_current_worker

PROGRESS_INTERVAL = 0.1


class VerifyCancelled(Exception):
    """Raised from the progress callback to stop a walk nobody is waiting for."""


class IntegrityScreen(ReportsWorkerErrors, Screen[None]):
    """Verify the chain; `enter` opens the first broken event's stream at that version."""

    HELP_TITLE = "Integrity"
    HELP_TEXT = (
        "Walks the SHA-256 hash chain over every event. A changed, removed or reordered "
        "event breaks the chain at the first position touched; the result stays in every "
        "status bar. Enter opens the broken event in its stream's timeline."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_broken", "Open broken event", id="integrity.open"),
        Binding("r", "restart", "Verify again", id="integrity.restart"),
    ]

    def __init__(self, autostart: bool = True) -> None:
        super().__init__()
        self.autostart = autostart
        self.report: VerifyReport | None = None
        self.broken_event: RecordedEvent | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="integrity-body"):
            yield Static(
                "Walks every event's SHA-256 link (hash of the previous hash and this "
                "event's canonical bytes). A changed, removed or reordered event breaks "
                "the chain at the first position that was touched.",
                id="integrity-intro",
            )
            yield ProgressBar(id="integrity-progress", show_eta=False)
            yield Static(id="integrity-result")
            yield Static(id="integrity-event")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "integrity"
        if self.autostart:
            self.start()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_broken":  # only when there is a broken event to open
            return self.broken_event is not None
        return True

    def start(self) -> None:
        """Start (or restart) the walk."""
        self.report = None
        self.broken_event = None
        self.refresh_bindings()
        self.query_one("#integrity-result", Static).update("checking…")
        self.query_one("#integrity-result").set_classes("")
        self.query_one("#integrity-event", Static).update("")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.app.integrity = Integrity("checking")  # type: ignore[attr-defined]
        self._verify()

    def action_restart(self) -> None:
        self.start()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    def _verify(self) -> None:
        worker = get_current_worker()
        source: Any = self.app.source  # type: ignore[attr-defined]
        last = 0.0

        def progress(checked: int, total: int) -> None:
            nonlocal last
            if worker.is_cancelled:
                raise VerifyCancelled
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                self.app.call_from_thread(self._progress, checked, total)

        try:
            report = source.verify(progress=progress)
        except VerifyCancelled:
            return
        broken = None
        if report.first_bad_position is not None:
            broken = source.event_at(report.first_bad_position)
        self.app.call_from_thread(self._done, report, broken)

    def _progress(self, checked: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=checked)
        self.app.integrity = Integrity("checking", checked, total)  # type: ignore[attr-defined]

    def _done(self, report: VerifyReport, broken: RecordedEvent | None) -> None:
        if not self.is_attached:
            return
        self.report, self.broken_event = report, broken
        self.refresh_bindings()
        bar = self.query_one(ProgressBar)
        if report.ok:
            bar.update(total=max(report.checked, 1), progress=max(report.checked, 1))
        else:  # stopped at the break: the bar shows how far the intact part reaches
            head = self.app.summary.head_position if self.app.summary else None  # type: ignore[attr-defined]
            bar.update(total=max(head or report.checked, 1), progress=report.checked)
        result = self.query_one("#integrity-result", Static)
        has_chain = bool(self.app.summary and self.app.summary.has_hash_chain)  # type: ignore[attr-defined]
        if report.ok:
            state = "verified" if has_chain else "no-chain"
            self.app.integrity = Integrity(state, report.checked, report.checked)  # type: ignore[attr-defined]
            result.set_classes("-ok")
            head = f"  head {report.head}" if report.head else ""
            parts: list[str | tuple[str, str]] = [
                ("✔ chain intact", "bold $success"),
                f" — {plural(report.checked, 'event')} checked{head}",
            ]
            if report.malformed:
                parts.append((f"  ({report.malformed:,} unreadable records)", "$warning"))
            result.update(Content.assemble(*parts))
            return
        self.app.integrity = Integrity(  # type: ignore[attr-defined]
            "broken", report.checked, report.checked, report.first_bad_position, report.reason
        )
        result.set_classes("-broken")
        if report.first_bad_position is not None:
            where: list[str | tuple[str, str]] = [
                ("✘ chain BROKEN at position ", "bold $error"),
                (f"{report.first_bad_position:,}", "bold"),
            ]
        else:  # e.g. a digest kept outside the store that the chain no longer reaches
            where = [("✘ chain BROKEN", "bold $error"), (" (no single event to name)", "")]
        result.update(
            Content.assemble(
                *where,
                "\n",
                ("reason: ", "$text-muted"),
                visible_text(report.reason or "not given"),
                "\n",
                (f"{plural(report.checked, 'event')} checked before the break", "$text-muted"),
            )
        )
        self.query_one("#integrity-event", Static).update(self._event_text(broken))

    def _event_text(self, event: RecordedEvent | None) -> Content:
        if event is None:
            return Content("The event at that position could not be read.")
        return Content.assemble(
            ("First broken event\n", "bold"),
            ("  stream       ", "$text-muted"),
            (visible_text(event.stream_id), "$accent"),
            f"  (version {event.version})\n",
            ("  event        ", "$text-muted"),
            visible_text(event.event_type),
            "\n",
            ("  recorded     ", "$text-muted"),
            format_timestamp(event.recorded_at),
            "\n",
            ("  actor        ", "$text-muted"),
            visible_text(event.actor or "—"),
            "\n",
            ("  stored hash  ", "$text-muted"),
            visible_text(event.hash or "—"),
            "\n\n",
            ("press enter to open this stream's timeline at that version", "$text-primary"),
        )

    def action_open_broken(self) -> None:
        event = self.broken_event
        if event is not None:
            self.app.open_stream(event.stream_id, event.version)  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        integrity = getattr(self.app, "integrity", None)
        if integrity is not None and integrity.state == "checking":
            self.app.integrity = Integrity()  # type: ignore[attr-defined]
