"""How eventscope says numbers in sentences: "1 event", "2 events", "1,204 rows".

One place for the rule, so no screen, CLI line or report ever shows "1 events" or
"3 claim(s)", and no sentence ever prints Python's ``None`` where a figure is unknown. It
sits in `domain` (like `terminal_text`) because the report renderers and the teaching
session write sentences too and `domain` may not import the explorer; the explorer names
it as `eventscope.explorer.wording`.
"""

from __future__ import annotations

IRREGULAR = {"entry": "entries", "match": "matches", "copy": "copies", "is": "are"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "event")`` -> "1 event"; ``plural(2_000, "event")`` -> "2,000 events"."""
    return f"{count:,} {noun_for(count, noun, many)}"


def noun_for(count: int, noun: str, many: str | None = None) -> str:
    """The noun alone, singular for exactly one."""
    if count == 1:
        return noun
    return many or IRREGULAR.get(noun) or noun + "s"


def figure(value: int | None, unknown: str = "unknown") -> str:
    """A number with thousands separators, or a word when it is not known."""
    return unknown if value is None else f"{value:,}"


def signed(value: float, decimals: int = 0) -> str:
    """A difference with its sign and a true minus: ``+1,000`` / ``−2.50``."""
    text = f"{abs(value):,.{decimals}f}"
    return ("−" if value < 0 else "+") + text
