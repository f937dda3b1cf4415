"""Turning stored data into text that cannot act: the escapes every renderer uses.

Event payloads, stream ids and actors are evidence, not instructions. In a report they
must neither drive a terminal (ESC, C1 and bidi controls become visible escapes, the same
rule as `explorer.safe_text`, which `domain` may not import) nor become markup (HTML is
entity-escaped; Markdown specials are backslash-escaped; code blocks get a fence longer
than any backtick run inside them).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

import orjson

from store.records import format_timestamp

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)
# In JSON text a raw newline is layout (indentation); inside strings JSON escapes it.
_UNSAFE_IN_JSON = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&])")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    named = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}.get(code)
    if named:
        return named
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """Every control or invisible formatting character as a visible escape."""
    value = str(text)
    if value.isascii() and value.isprintable():
        return value
    return _UNSAFE.sub(_escape, value)


def json_text(value: Any, indent: bool = False) -> str:
    """A JSON value as text (sorted keys) with every control character as a JSON escape."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    text = orjson.dumps(value, option=option, default=str).decode()
    # JSON already escapes C0 controls; C1 and bidi controls pass through it raw. They can
    # only occur inside JSON strings, where \uXXXX is a valid escape of the same character,
    # so the text stays JSON that decodes to exactly the stored value.
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def time_text(moment: datetime | None) -> str:
    return format_timestamp(moment) if moment is not None else "-"


def path_text(path: tuple[Any, ...]) -> str:
    """``("lines", 0, "sku")`` -> ``lines[0].sku``; the root is ``(root)``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out or "(root)"


def md(text: object) -> str:
    """Inline Markdown text: visible controls, specials escaped, one line (tables)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(text))


def md_code_block(text: str, info: str = "") -> str:
    """A fenced block whose fence no run of backticks in `text` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{visible_block(text)}\n{fence}"


def visible_block(text: str) -> str:
    """Like `visible`, but keeps the newlines of a multi-line block."""
    return "\n".join(visible(line) for line in text.split("\n"))


def h(text: object) -> str:
    """HTML text or attribute value: visible controls, then entity-escaped."""
    return html.escape(visible(text), quote=True)


def h_block(text: str) -> str:
    """Like `h`, but keeps the newlines of a multi-line block (for <pre>)."""
    return html.escape(visible_block(text), quote=True)
