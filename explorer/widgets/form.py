"""Containers for form controls: keys typed there belong to the form.

Textual lets a focused `Input` keep the printable keys it consumes, but a focused
`Button` or `Select` does not consume letters, so without this a reviewer typing
``account_balances`` with the focus one control too far would fire ``c`` (correlation)
or ``s`` (swap). Any single printable key pressed while focus is inside a `FormRow` or
`FormColumn` is kept from the screen's and the app's bindings (Textual's own
`check_consume_key` mechanism, which also hides those keys from the footer); `enter`,
`escape`, `tab` and the arrows still work.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical


def is_typed_character(character: str | None) -> bool:
    """A key that types something: a printable character, space included."""
    return character is not None and character.isprintable()


class FormRow(Horizontal):
    """A row of form controls (see the module docstring)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return is_typed_character(character)


class FormColumn(Vertical):
    """A column of form controls, e.g. a dialog's body (see the module docstring)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return is_typed_character(character)
