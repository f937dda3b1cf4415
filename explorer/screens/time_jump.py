"""The `t` dialog: type a time (or a version) and the timeline -- or the world -- jumps
there. The one "type a time" dialog of the explorer.

A typed time is read on the slider's current time axis -- recorded ("what had been
recorded by then") or occurred ("what had happened by then") -- and on the version axis a
plain number is a version. On the occurred axis the dialog takes both moments of a
business-time question: ``O`` or ``O @ R`` -- as of business time O, as known at
recorded time R (without R: everything recorded). Bad input keeps the dialog open with
one sentence saying what would be understood; nothing else changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.form import FormColumn
from eventscope.store.records import parse_timestamp
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

JumpTarget = int | datetime | tuple[datetime, datetime | None]
"""A version number, a moment to look up on the chosen axis, or (O, R) on the occurred
axis (R None: everything recorded)."""


def parse_target(text: str, allow_version: bool, business: bool = False) -> JumpTarget:
    """Read the dialog's text; raises ValueError with a sentence for the user."""
    text = text.strip()
    if business:
        as_of_text, _, known_text = text.partition("@")
        as_of = parse_target(as_of_text, allow_version=False)
        if not known_text.strip():
            return (as_of, None)  # type: ignore[return-value]
        try:
            known_at = parse_timestamp(known_text.strip())
        except ValueError:
            raise ValueError(
                "not understood after '@'; type the recorded time R (as known at R) in "
                "ISO 8601, e.g. 2026-04-01T00:00:00Z"
            ) from None
        return (as_of, known_at)  # type: ignore[return-value]
    if not text:
        raise ValueError("type a time such as 2026-03-31T17:00:00Z")
    if allow_version and text.lstrip("v").replace(",", "").isdigit():
        return int(text.lstrip("v").replace(",", ""))
    try:
        return parse_timestamp(text)
    except ValueError:
        hint = "a version number or " if allow_version else ""
        raise ValueError(
            f"{shorten(visible_text(text), 30)!r} is not a time; type {hint}an ISO 8601 time "
            "such as 2026-03-31T17:00:00Z (no zone means UTC)"
        ) from None


class TimeJumpScreen(ModalScreen[JumpTarget | None]):
    """Ask for a time on `axis` (or a version when the axis is "version"); `title` names
    what the answer is for (the timeline's jump, the world's moment)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="time_jump.cancel"),
    ]

    DEFAULT_CSS = """
    TimeJumpScreen {
        align: center middle;
    }
    TimeJumpScreen > FormColumn {
        width: 72;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: round $accent;
        background: $surface;
    }
    TimeJumpScreen #jump-title { text-style: bold; color: $text-accent; }
    TimeJumpScreen #jump-help { color: $text-muted; margin-bottom: 1; }
    TimeJumpScreen #jump-error { color: $text-error; height: auto; }
    """

    def __init__(self, axis: str, initial: str = "", title: str = "Jump to time") -> None:
        super().__init__()
        self.axis = axis
        self.initial = initial
        self.title_text = title

    def compose(self) -> ComposeResult:
        allow_version = self.axis == "version"
        axis_text = {
            "version": "a version, or a recorded time",
            "recorded": "a recorded (transaction) time",
            "occurred": "a business time O, and optionally '@ R' (as known at R)",
        }.get(self.axis, "a time")
        with FormColumn():
            yield Label(self.title_text, id="jump-title", markup=False)
            yield Static(
                f"Type {axis_text}. ISO 8601, e.g. 2026-03-31T17:00:00Z; no zone means UTC.",
                id="jump-help",
                markup=False,
            )
            yield Input(
                value=self.initial,
                placeholder="v 120" if allow_version else "2026-03-31T17:00:00Z",
                id="jump-input",
            )
            yield Static("", id="jump-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            target = parse_target(
                event.value,
                allow_version=self.axis == "version",
                business=self.axis == "occurred",
            )
        except ValueError as exc:
            self.query_one("#jump-error", Static).update(str(exc))
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)
