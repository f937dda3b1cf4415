"""Untrusted text in the explorer and the CLI: the escaping rule and table-cell cuts.

The rule itself -- which characters become visible escapes, on screen and in ``--json``
output -- is `eventscope.domain.terminal_text`, shared with the report renderers; this
module only names it the way the explorer's widgets call it. Rich/Textual markup is a
separate concern: widgets build `rich.text.Text` objects from plain strings (never markup
strings), so ``[@click=...]`` stays literal.
"""

from __future__ import annotations

from eventscope.domain.terminal_text import json_visible_bytes as json_safe
from eventscope.domain.terminal_text import visible as visible_text

__all__ = ["json_safe", "shorten", "visible_text"]


def shorten(text: str, width: int) -> str:
    """Cut `text` to `width` characters with an ellipsis (for table cells)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
