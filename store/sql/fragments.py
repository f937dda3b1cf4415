"""Fixed SQL fragments that keep filter text literal.

Only fixed SQL text is produced here; every user-supplied value travels as a bound
parameter (``?`` placeholders, translated for psycopg by `store.sql.reader`). A prefix
becomes an index range on a byte-ordered column instead of LIKE, so ``%``, ``_`` and
``\\`` are ordinary characters.
"""

from __future__ import annotations

from typing import Any


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (code-point
    order), or None when there is none."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def prefix_sql(column: str, prefix: str) -> tuple[str, list[Any]]:
    """A literal prefix match as an index range (no LIKE, so % and _ stay literal)."""
    upper = successor(prefix)
    if upper is None:
        return f"{column} >= ?", [prefix]
    return f"{column} >= ? AND {column} < ?", [prefix, upper]


def quote_identifier(name: str) -> str:
    """A table or column name found by inspection (never user text) as a quoted SQL
    identifier."""
    return '"' + name.replace('"', '""') + '"'
