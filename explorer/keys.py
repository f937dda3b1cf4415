"""Small facts about key bindings that the help, the palette and the footer share."""

from __future__ import annotations


def bare_action(action: str) -> str:
    """The action's name without namespace or arguments: ``app.verify`` -> ``verify``,
    ``step(1)`` -> ``step``; two bindings with the same bare action do the same thing."""
    return action.rsplit(".", 1)[-1].split("(", 1)[0]
