"""WHERE fragments for the native store's event and stream filters.

Only fixed SQL text is produced here; every user-supplied value travels as a bound
parameter, and text filters match literally (prefixes through
`store.sql.fragments.prefix_sql`, an index range instead of LIKE). The columns are the
native `events` and `streams` tables' (actor and correlation id are copied out of
metadata at append time so these filters use indexes). Placeholders are ``?``.
"""

from __future__ import annotations

from typing import Any

from eventscope.store.records import format_timestamp
from eventscope.store.source import EventFilter
from eventscope.store.sql.fragments import prefix_sql


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


def stream_where(stream_type: str | None, prefix: str | None) -> tuple[str, list[Any]]:
    """The catalog filters of `streams` and `count_streams`."""
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
