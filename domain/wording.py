"""How eventscope says numbers in sentences ("1 event", "2 events", "1,204 rows") and
errors in one line (`error_sentence`).

One place for the rule, so no screen, CLI line or report ever shows "1 events" or
"3 claim(s)", and no sentence ever prints Python's ``None`` where a figure is unknown. It
sits in `domain` (like `terminal_text`) because the report renderers and the teaching
session write sentences too and `domain` may not import the explorer; the explorer names
it as `eventscope.explorer.wording`.
"""

from __future__ import annotations

from typing import Any

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


def error_sentence(exc: BaseException, whole: str = "data") -> str:
    """An exception as the one line a user is shown: a pydantic validation error as
    ``field: what is wrong`` (`validation_sentence`), anything else as the first non-blank
    line of its message, or its class name when it has none. Later lines of a message are
    detail (SQL text, tracebacks of user code) that a status line or a notice leaves out."""
    from pydantic import ValidationError  # only on the error path: pydantic is heavy

    if isinstance(exc, ValidationError):
        return validation_sentence(exc, whole)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def validation_sentence(exc: Any, whole: str = "data") -> str:
    """A pydantic `ValidationError` as ``where: message`` for its first error; `whole`
    names the value when the error is about all of it (no field path)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or whole
    return f"{where}: {first.get('msg', 'invalid')}"
