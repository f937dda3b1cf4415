"""Help generated from the live bindings of the screen underneath, so it can never drift
from what the keys really do: if a screen or widget adds a binding, it appears here."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from explorer.widgets.virtual_table import Column, VirtualRow, VirtualTable

HELP_COLUMNS = [Column("key", 16), Column("does", 0, min_width=20), Column("where", 22)]


def binding_rows(screen: Screen) -> list[VirtualRow]:
    """One row per key active on `screen`: the focused widget's, the screen's, the app's."""
    app = screen.app
    rows: list[tuple[int, str, VirtualRow]] = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or binding.action in ("", "noop"):
            continue
        rank, where = _where(active.node, screen)
        description = binding.description or binding.action.replace("_", " ")
        description = description[:1].upper() + description[1:]
        display = app.get_key_display(binding)
        rows.append((rank, description.lower(), VirtualRow(key, (display, description, where))))
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows]


def _where(node: DOMNode, screen: Screen) -> tuple[int, str]:
    if node is screen.app:
        return 0, "everywhere"
    if node is screen:
        return 1, "this screen"
    return 2, f"in {type(node).__name__}"


class HelpScreen(ModalScreen[None]):
    """Every key that works on the screen below, grouped: global, screen, focused widget."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            title = getattr(self.under, "HELP_TITLE", None) or type(self.under).__name__
            yield Static(f"Keys — {title}   (escape closes)", id="help-title", markup=False)
            rows = binding_rows(self.under)
            yield VirtualTable(
                HELP_COLUMNS,
                lambda start, limit: rows[start : start + limit],
                row_count=len(rows),
                id="help-table",
            )

    def on_mount(self) -> None:
        self.query_one("#help-table").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
