"""An `EventFilter` as SQL on `messages m` (joined to `streams s` when a filter looks at
the stream name), every value a bound parameter.

Everything that lives in a column is answered by SQL exactly as the native store's
filters mean it (types and names literally, `starts_with` for a prefix instead of LIKE,
`since` inclusive and `until` exclusive on `created`). Metadata filters (actor,
correlation id) are only narrowed in SQL -- the decoded event is checked again in Python
(`foreign.matches`), because eventscope's `correlation_id` comes from either of two keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventscope.store.source import EventFilter
from eventscope.store.times import naive_utc

_NO_ROWS = "FALSE"


@dataclass(slots=True)
class SqlFilter:
    """WHERE conditions (joined with AND), their parameters, and whether they need the
    `streams s` join; `exact` is False when Python must check the decoded events too."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    needs_streams: bool = False
    exact: bool = True

    def where(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "TRUE"

    def source_sql(self) -> str:
        """The FROM clause these conditions are written against."""
        if self.needs_streams:
            return "messages m JOIN streams s ON s.stream_id = m.stream_id"
        return "messages m"


def sql_filter(flt: EventFilter | None) -> SqlFilter:
    out = SqlFilter()
    if flt is None:
        return out
    add = out.conditions.append
    if flt.event_types is not None:
        if not flt.event_types:
            add(_NO_ROWS)
        else:
            add("m.message_type = ANY(?)")
            out.params.append(list(flt.event_types))
    if flt.stream_id is not None:
        add("m.stream_id = (SELECT stream_id FROM streams WHERE stream_name = ?)")
        out.params.append(flt.stream_id)
    if flt.stream_type is not None:
        add("split_part(s.stream_name, '-', 1) = ?")
        out.params.append(flt.stream_type)
        out.needs_streams = True
    if flt.stream_prefix:
        add("starts_with(s.stream_name, ?)")
        out.params.append(flt.stream_prefix)
        out.needs_streams = True
    if flt.since is not None:
        add("m.created >= ?")
        out.params.append(naive_utc(flt.since))  # `created` is zone-less UTC
    if flt.until is not None:
        add("m.created < ?")
        out.params.append(naive_utc(flt.until))
    if flt.actor is not None:
        add("m.json_metadata->>'actor' = ?")
        out.params.append(flt.actor)
        out.exact = False
    if flt.correlation_id is not None:
        add(
            "(m.json_metadata->>'eventuous.correlation-id' = ? "
            "OR m.json_metadata->>'correlation_id' = ?)"
        )
        out.params.extend([flt.correlation_id, flt.correlation_id])
        out.exact = False
    return out
