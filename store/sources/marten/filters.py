"""`EventFilter` as SQL on Marten's tables, so a filtered read fetches only what matches.

Every condition is fixed SQL text with bound parameters (filter text stays literal).
What Marten keeps in columns is filtered in the database: event types (`type`), the
stream (`stream_id`, and `tenant_id` under conjoined tenancy), the stream type
(`mt_streams.type`; an untyped stream, NULL there, is shown with type ""), recorded
times (`timestamp`), correlation id and actor (`correlation_id`, `user_name`, when
Marten was configured to keep them). A stream-id prefix is checked in Python
(`store.foreign.matches`), since shown ids may carry a tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventscope.store.source import EventFilter
from eventscope.store.sources.marten.identity import Identity
from eventscope.store.sources.marten.layout import MartenLayout
from eventscope.store.times import as_utc


@dataclass
class Where:
    """SQL conditions over ``mt_events e`` joined with ``mt_streams s``."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    in_python: bool = False  # some part must still be checked on decoded events

    def sql(self) -> str:
        return "".join(f" AND {c}" for c in self.conditions)


def where(flt: EventFilter | None, layout: MartenLayout, identity: Identity) -> Where | None:
    """The filter as conditions, or None when nothing can match it."""
    out = Where()
    if flt is None or flt.is_empty():
        return out
    if flt.event_types is not None:
        if not flt.event_types:
            return None
        out.conditions.append("e.type = ANY(?)")
        out.params.append(list(flt.event_types))
    if flt.stream_type is not None:
        if flt.stream_type == "":
            out.conditions.append("s.type IS NULL")
        else:
            out.conditions.append("s.type = ?")
            out.params.append(flt.stream_type)
    if flt.stream_id is not None:
        named = list(identity.parse(flt.stream_id))
        if not named:
            return None
        cast = "?::uuid" if layout.uuid_ids else "?"
        alternatives = []
        for block, stored in named:
            if block.tenant is not None and layout.has("tenant_id"):
                alternatives.append(f"(e.stream_id = {cast} AND e.tenant_id = ?)")
                out.params.extend([stored, block.tenant])
            else:
                alternatives.append(f"e.stream_id = {cast}")
                out.params.append(stored)
        out.conditions.append("(" + " OR ".join(alternatives) + ")")
    for value, column in ((flt.correlation_id, "correlation_id"), (flt.actor, "user_name")):
        if value is None:
            continue
        if not layout.has(column):
            return None  # Marten was not configured to keep it: no event carries it
        out.conditions.append(f"e.{column} = ?")
        out.params.append(value)
    if flt.since is not None:
        out.conditions.append("e.timestamp >= ?")
        out.params.append(as_utc(flt.since))  # naive means UTC, not the session's zone
    if flt.until is not None:
        out.conditions.append("e.timestamp < ?")
        out.params.append(as_utc(flt.until))
    out.in_python = bool(flt.stream_prefix)
    return out
