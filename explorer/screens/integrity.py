"""Integrity: walk the hash chain in a worker with a progress bar, list every broken
position (the first 1,000; the count covers them all), and open any of them in its
stream's timeline. Once a walk ends, altered events carry a mark in every list and in
the event detail (`explorer.integrity_marks`). A source without a chain gets the
structural checks instead (`store.structural_check`), and the screen says that
integrity is not proven.

The walk is O(1) memory in the store; here only progress figures cross to the UI, at most
ten times a second, so a 1M-event verify never floods the event loop.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from eventscope.explorer.app import Integrity, ReportsWorkerErrors
from eventscope.explorer.integrity_marks import marks_of
from eventscope.explorer.safe_text import visible_text
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.status_bar import StatusBar
from eventscope.explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable
from eventscope.explorer.wording import plural
from eventscope.store.records import BadPosition, RecordedEvent, VerifyReport, format_timestamp
from eventscope.store.structural_check import verify_source
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, ProgressBar, Static
from textual.worker import get_current_worker

PROGRESS_INTERVAL = 0.1

BROKEN_COLUMNS = [
    Column("position", 9, justify="right", min_width=6, priority=10, short="pos"),
    Column("problem", 8, min_width=7, priority=9),
    Column("stream", 18, min_width=10, priority=8),
    Column("v", 5, justify="right", min_width=3, priority=7),
    Column("event type", 16, min_width=8, priority=5),
    Column("detail", 0, min_width=12, priority=3),
]


class VerifyCancelled(Exception):
    """Raised from the progress callback to stop a walk nobody is waiting for."""


class IntegrityScreen(ReportsWorkerErrors, Screen[None]):
    """Verify the chain; list every broken position; `enter` opens the highlighted one's
    stream at that version (the first one until another is highlighted)."""

    HELP_TITLE = "Integrity"
    HELP_TEXT = (
        "Walks the SHA-256 hash chain over every event, to the end: every changed, removed "
        "or reordered event is listed, and so is every event whose actor, correlation or "
        "causation column disagrees with its hashed metadata. The result stays in every "
        "status bar, and altered events are marked ⚠ in every list and in the event "
        "detail. Enter opens the highlighted broken event in its stream's timeline."
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
        self._events: dict[int, RecordedEvent] = {}

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="integrity-body"):
            yield Static(
                "Walks every event's SHA-256 link (hash of the previous hash and this "
                "event's canonical bytes) to the end, and lists every position where "
                "the history is not what was written.",
                id="integrity-intro",
            )
            yield ProgressBar(id="integrity-progress", show_eta=False)
            yield Static(id="integrity-result")
            yield VirtualTable(
                BROKEN_COLUMNS, None, row_count=0, empty_text="", id="integrity-broken"
            )
            yield Static(id="integrity-event")
        yield StatusBar()
        yield KeyFooter()

    SHORT_BELOW = 36
    """Rows under which the intro gives way (the verdict and the list matter more)."""

    def on_resize(self) -> None:
        self.set_class(self.size.height < self.SHORT_BELOW, "-short")

    def on_mount(self) -> None:
        self.set_class(self.size.height < self.SHORT_BELOW, "-short")
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
        self._events = {}
        self.query_one("#integrity-broken", VirtualTable).reset(None, row_count=0)
        self.query_one("#integrity-broken").display = False
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
            report = verify_source(source, progress=progress)
        except VerifyCancelled:
            return
        events: dict[int, RecordedEvent] = {}
        for bad in report.bad_positions:  # at most 1,000 lookups by primary key
            if bad.kind != "missing" and bad.position not in events:
                found = source.event_at(bad.position)
                if found is not None:
                    events[bad.position] = found
        self.app.call_from_thread(self._done, report, events)

    def _progress(self, checked: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=checked)
        self.app.integrity = Integrity("checking", checked, total)  # type: ignore[attr-defined]

    def _done(self, report: VerifyReport, events: dict[int, RecordedEvent]) -> None:
        if not self.is_attached:
            return
        self._events = events
        first = report.first_bad_position
        broken = events.get(first) if first is not None else None
        self.report, self.broken_event = report, broken
        self.refresh_bindings()
        bar = self.query_one(ProgressBar)
        bar.update(
            total=max(report.checked, 1), progress=max(report.checked, 1)
        )  # walked to the end
        result = self.query_one("#integrity-result", Static)
        if not report.chain:
            self._not_proven(report, result)
        elif report.ok:
            self.app.integrity = Integrity("verified", report.checked, report.checked)  # type: ignore[attr-defined]
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
        else:
            self._broken(report, result)
        self._list(report)
        if broken is not None or first is not None:
            self.query_one("#integrity-event", Static).update(self._event_text(broken))

    def _not_proven(self, report: VerifyReport, result: Static) -> None:
        self.app.integrity = Integrity(  # type: ignore[attr-defined]
            "no-chain" if report.ok else "broken",
            report.checked,
            report.checked,
            report.first_bad_position,
            report.reason,
            report.bad_count,
            marks_of(report),
        )
        result.set_classes("-ok" if report.ok else "-broken")
        found = "no problems found" if report.ok else "PROBLEMS FOUND"
        result.update(
            Content.assemble(
                ("◌ integrity NOT PROVEN", "bold $warning"),
                " — this source keeps no hash chain; "
                f"{plural(report.checked, 'event')} read, {found}.\n",
                ("checked instead: ", "$text-muted"),
                "; ".join(report.checks),
                *(
                    ("\n", ("first problem: ", "$text-muted"), visible_text(report.reason or ""))
                    if not report.ok
                    else ()
                ),
            )
        )

    def _broken(self, report: VerifyReport, result: Static) -> None:
        self.app.integrity = Integrity(  # type: ignore[attr-defined]
            "broken",
            report.checked,
            report.checked,
            report.first_bad_position,
            report.reason,
            report.bad_count,
            marks_of(report),
        )
        result.set_classes("-broken")
        if report.first_bad_position is not None:
            where: list[str | tuple[str, str]] = [
                ("✘ chain BROKEN at position ", "bold $error"),
                (f"{report.first_bad_position:,}", "bold"),
                f" — {plural(report.bad_count, 'bad position')} found walking all "
                f"{plural(report.checked, 'event')}",
            ]
        else:  # e.g. only the stream catalog disagrees, or a digest the chain no longer reaches
            where = [("✘ BROKEN", "bold $error"), (" (no single event to name)", "")]
        lines: list[str | tuple[str, str]] = [*where]
        if report.catalog_problems:
            lines += [
                "\n",
                (
                    f"stream catalog: {plural(len(report.catalog_problems), 'stream')} "
                    f"{'disagrees' if len(report.catalog_problems) == 1 else 'disagree'} "
                    "with the events; first: ",
                    "$text-muted",
                ),
                visible_text(report.catalog_problems[0]),
            ]
        if not report.bad_positions:
            lines += ["\n", ("reason: ", "$text-muted"), visible_text(report.reason or "not given")]
        result.update(Content.assemble(*lines))

    def _list(self, report: VerifyReport) -> None:
        """Every named bad position as a row; enter opens the event."""
        table = self.query_one("#integrity-broken", VirtualTable)
        rows = [self._row(bad) for bad in report.bad_positions]
        table.display = bool(rows)
        table.reset(lambda start, limit: rows[start : start + limit], row_count=len(rows))
        if rows:
            table.border_title = f"{plural(report.bad_count, 'bad position')}" + (
                f" (the first {len(rows):,} listed)" if report.bad_count > len(rows) else ""
            )

    def _row(self, bad: BadPosition) -> VirtualRow:
        event = self._events.get(bad.position)
        return VirtualRow(
            bad.position,
            (
                f"{bad.position:,}",
                bad.kind,
                event.stream_id if event else "—",
                str(event.version) if event else "—",
                event.event_type if event else "—",
                bad.reason,
            ),
            style="red",
        )

    @on(VirtualTable.RowHighlighted, "#integrity-broken")
    def _highlighted(self, message: VirtualTable.RowHighlighted) -> None:
        position = message.row.key
        event = self._events.get(position) if isinstance(position, int) else None
        if event is not None:
            self.broken_event = event
            self.refresh_bindings()
            self.query_one("#integrity-event", Static).update(self._event_text(event))

    @on(VirtualTable.RowSelected, "#integrity-broken")
    def _selected(self, message: VirtualTable.RowSelected) -> None:
        position = message.row.key
        event = self._events.get(position) if isinstance(position, int) else None
        if event is not None:
            self.broken_event = event
            self.action_open_broken()

    def _event_text(self, event: RecordedEvent | None) -> Content:
        if event is None:
            return Content("The event at that position could not be read.")
        return Content.assemble(
            (f"Broken event at position {event.position:,}\n", "bold"),
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
