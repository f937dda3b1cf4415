"""Turning stored data into text that cannot act: the escapes every renderer uses.

Event payloads, stream ids and actors are evidence, not instructions. In a report they
must neither drive a terminal (controls and invisible characters become visible escapes:
`domain.terminal_text`, the rule the explorer and the CLI use too) nor become markup (HTML is
entity-escaped; Markdown specials are backslash-escaped; code blocks get a fence longer
than any backtick run inside them).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

import orjson
from eventscope.domain.terminal_text import json_visible, visible, visible_block
from eventscope.store.records import format_timestamp

__all__ = ["h", "h_block", "json_text", "md", "md_code_block", "path_text", "time_text", "visible"]

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&])")


def json_text(value: Any, indent: bool = False) -> str:
    """A JSON value as text (sorted keys) with every control character as a JSON escape."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return json_visible(orjson.dumps(value, option=option, default=str).decode())


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


def h(text: object) -> str:
    """HTML text or attribute value: visible controls, then entity-escaped."""
    return html.escape(visible(text), quote=True)


def h_block(text: str) -> str:
    """Like `h`, but keeps the newlines of a multi-line block (for <pre>)."""
    return html.escape(visible_block(text), quote=True)
