"""Make untrusted text (event payloads, stream ids, actors) safe to show in a terminal.

Stored data is evidence, not instructions: an ESC sequence, a C1 control or a bidi
override in a payload must be *shown* (as ``\\x1b``, ``\\x9b``, ``\\u202e``), never sent to
the terminal. Rich/Textual markup is a separate concern: widgets build `rich.text.Text`
objects from plain strings (never markup strings), so ``[@click=...]`` stays literal.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode bidi/format controls that can reorder or
# hide text (Trojan Source): LRM/RLM, ALM, LRE..RLO, LRI..PDI, plus BOM/ZW* no-breaks.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible_text(text: str) -> str:
    """Return `text` with every control/format character replaced by a visible escape."""
    if text.isprintable() and text.isascii():
        return text
    return _UNSAFE.sub(_escape, text)


# What orjson leaves raw inside JSON strings that a terminal would act on: DEL, C1
# controls, and the bidi/format characters (it escapes only C0 controls itself).
_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)


def json_safe(payload: bytes) -> bytes:
    """Escape those characters in UTF-8 JSON text as ``\\uXXXX``.

    They can only occur inside JSON strings, where the escape denotes the same character:
    the JSON decodes to exactly the stored value, while a terminal showing it (`--json`
    output, `cat`) receives only ASCII escapes.
    """
    if payload.isascii():
        return payload
    text = payload.decode()
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode()


def shorten(text: str, width: int) -> str:
    """Cut `text` to `width` characters with an ellipsis (for table cells)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
