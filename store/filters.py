"""WHERE fragments for event and stream filters.

Only fixed SQL text is produced here; every user-supplied value travels as a bound
parameter, and text filters match literally: prefixes become an index range on the
byte-ordered column instead of LIKE, so ``%``, ``_`` and ``\\`` are ordinary characters.
Placeholders are ``?``; the store translates them for psycopg.
"""

from __future__ import annotations

from typing import Any

from store.records import format_timestamp
from store.source import EventFilter


def filter_sql(flt: EventFilter | None) -> tuple[str, list[Any]]:
    """Fixed SQL fragments plus bound parameters; filter text is matched literally."""
    if flt is None:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    if flt.event_types is not None:
        types = list(flt.event_types)
        if not types:
            clauses.append("1 = 0")
        else:
            clauses.append(f"event_type IN ({', '.join('?' * len(types))})")
            params.extend(types)
    for column, value in (
        ("stream_type", flt.stream_type),
        ("stream_id", flt.stream_id),
        ("correlation_id", flt.correlation_id),
        ("actor", flt.actor),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if flt.stream_prefix:
        clause, values = prefix_sql("stream_id", flt.stream_prefix)
        clauses.append(clause)
        params.extend(values)
    if flt.since is not None:
        clauses.append("recorded_at >= ?")
        params.append(format_timestamp(flt.since))
    if flt.until is not None:
        clauses.append("recorded_at < ?")
        params.append(format_timestamp(flt.until))
    return "".join(f" AND {clause}" for clause in clauses), params


def _successor(prefix: str) -> str | None:
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
    upper = _successor(prefix)
    if upper is None:
        return f"{column} >= ?", [prefix]
    return f"{column} >= ? AND {column} < ?", [prefix, upper]


def stream_where(stream_type: str | None, prefix: str | None) -> tuple[str, list[Any]]:
    where = ""
    params: list[Any] = []
    if stream_type is not None:
        where += " AND stream_type = ?"
        params.append(stream_type)
    if prefix:
        clause, values = prefix_sql("stream_id", prefix)
        where += f" AND {clause}"
        params.extend(values)
    return where, params
