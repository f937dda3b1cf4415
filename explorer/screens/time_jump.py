"""The `t` dialog: type a time (or a version) and the timeline jumps there.

A typed time is read on the slider's current time axis -- recorded ("what had been
recorded by then") or occurred ("what had happened by then") -- and on the version axis a
plain number is a version. Bad input keeps the dialog open with one sentence saying what
would be understood; nothing else changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from store.records import parse_timestamp

JumpTarget = int | datetime
"""A version number, or a moment to look up on the chosen axis."""


def parse_target(text: str, allow_version: bool) -> JumpTarget:
    """Read the dialog's text; raises ValueError with a sentence for the user."""
    text = text.strip()
    if not text:
        raise ValueError("type a time such as 2026-03-31T17:00:00Z")
    if allow_version and text.lstrip("v").replace(",", "").isdigit():
        return int(text.lstrip("v").replace(",", ""))
    try:
        return parse_timestamp(text)
    except ValueError:
        hint = "a version number or " if allow_version else ""
        raise ValueError(
            f"not understood; type {hint}an ISO 8601 time such as 2026-03-31T17:00:00Z "
            "(no zone means UTC)"
        ) from None


class TimeJumpScreen(ModalScreen[JumpTarget | None]):
    """Ask for a time on `axis` (or a version when the axis is "version")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="time_jump.cancel"),
    ]

    DEFAULT_CSS = """
    TimeJumpScreen {
        align: center middle;
        background: $background 60%;
    }
    TimeJumpScreen > Vertical {
        width: 72;
        height: auto;
        padding: 1 2;
        border: round $accent;
        background: $surface;
    }
    TimeJumpScreen #jump-title { text-style: bold; color: $text-accent; }
    TimeJumpScreen #jump-help { color: $text-muted; margin-bottom: 1; }
    TimeJumpScreen #jump-error { color: $text-error; height: auto; }
    """

    def __init__(self, axis: str, initial: str = "") -> None:
        super().__init__()
        self.axis = axis
        self.initial = initial

    def compose(self) -> ComposeResult:
        allow_version = self.axis == "version"
        axis_text = {
            "version": "a version, or a recorded time",
            "recorded": "a recorded (transaction) time",
            "occurred": "an occurred (business) time",
        }.get(self.axis, "a time")
        with Vertical():
            yield Label("Jump to time", id="jump-title")
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
            target = parse_target(event.value, allow_version=self.axis == "version")
        except ValueError as exc:
            self.query_one("#jump-error", Static).update(str(exc))
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)
