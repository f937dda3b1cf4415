"""Small facts about key bindings that the help, the palette and the footer share."""

from __future__ import annotations

from functools import cache


def bare_action(action: str) -> str:
    """The action's name without namespace or arguments: ``app.verify`` -> ``verify``,
    ``step(1)`` -> ``step``; two bindings with the same bare action do the same thing."""
    return action.rsplit(".", 1)[-1].split("(", 1)[0]


@cache
def textual_default_bindings() -> frozenset[tuple[str, str]]:
    """(key, action) of the bindings Textual's own base classes define (tab, ctrl+q,
    ctrl+c, scrolling...): the help leaves them out and the palette files them under
    "Textual:", so they are never mistaken for eventscope's keys. Imported lazily: the
    CLI imports this module without Textual."""
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import ModalScreen, Screen
    from textual.scroll_view import ScrollView
    from textual.widget import Widget

    out: set[tuple[str, str]] = set()
    for cls in (App, Screen, ModalScreen, ScrollView, Widget):
        for binding in cls.BINDINGS:
            if isinstance(binding, Binding):
                for key in binding.key.split(","):
                    out.add((key.strip(), binding.action))
    return frozenset(out)
