"""Ask where to write an audit report of the stream at the slider's version.

The timeline's `e` key opens this dialog; the report itself is built by
`domain.evidence.render_report` (the same code as `eventscope report`) and written with
`explorer.atomic_file` (temp file, fsync, rename; an existing file is never replaced).
The format follows the file name: `.html` gives one self-contained HTML page, anything
else Markdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from eventscope.explorer.atomic_file import OutputRefused, check_output_path
from eventscope.explorer.safe_text import visible_text
from eventscope.explorer.widgets.form import FormColumn
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


def default_report_name(stream_id: str, version: int) -> str:
    """A file name a case file can keep: the stream and version, safe for any filesystem."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stream_id)[:80]
    return f"report-{safe}-v{version}.md"


def report_format(path: Path) -> str:
    """`html` for an .html/.htm name, else `md`."""
    return "html" if path.suffix.lower() in (".html", ".htm") else "md"


class ExportReportScreen(ModalScreen[Path | None]):
    """A one-field dialog: the report's file name (dismisses with the path, or None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export_report.cancel"),
    ]

    DEFAULT_CSS = """
    ExportReportScreen {
        align: center middle;
    }
    ExportReportScreen > FormColumn {
        width: 80;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: round $accent;
        background: $surface;
    }
    ExportReportScreen #export-title { text-style: bold; color: $text-accent; }
    ExportReportScreen #export-help { color: $text-muted; margin-bottom: 1; }
    ExportReportScreen #export-where { color: $text-primary; height: auto; }
    ExportReportScreen #export-error { color: $text-error; height: auto; }
    """

    def __init__(self, initial: str) -> None:
        super().__init__()
        self.initial = initial

    def compose(self) -> ComposeResult:
        with FormColumn():
            yield Label("Export audit report", id="export-title")
            yield Static(
                "State, field blame, every event up to this version, upcasts, snapshot and "
                "projection checks and the chain result. Name ending .html: one HTML page; "
                "otherwise Markdown. An existing file, the source and its side files are never replaced.",
                id="export-help",
                markup=False,
            )
            yield Input(value=self.initial, id="export-input")
            yield Static(self._where(self.initial), id="export-where", markup=False)
            yield Static("", id="export-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @staticmethod
    def _where(text: str) -> str:
        """The folder the report goes to, in full: a relative name is relative to the
        folder eventscope was started in, which the reviewer may not remember."""
        target = Path(text.strip() or ".").expanduser()
        folder = (target if text.strip() == "" else target.parent).absolute()
        return visible_text(f"writes into {folder}{'/' if str(folder) != '/' else ''}")

    @on(Input.Changed, "#export-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#export-where", Static).update(self._where(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#export-error", Static).update("Type a file name.")
            return
        try:
            source = getattr(self.app, "source", None)
            protect = [source.describe().location] if source is not None else []
            path = check_output_path(Path(text), protect=protect)
        except OutputRefused as exc:
            self.query_one("#export-error", Static).update(str(exc))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
