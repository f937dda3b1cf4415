"""Pieces every read-only foreign source shares (`store/sources/<kind>/`).

A foreign history cannot push every filter into SQL (JSON Lines has no SQL at all, and
the `eventsourcing` tables keep actor and timestamps inside an opaque state blob), so the
sources filter decoded events in Python. Keeping the rules here makes sure every source
agrees with the native store's SQL on what a filter means (text matches literally;
`since` inclusive, `until` exclusive); the histogram rule is `store.histogram`.

Also here: the stable ids of events stored without one, and the "no read models" half
of `EventSource` for histories that keep no projections.
"""

from __future__ import annotations

import hashlib
import uuid

from eventscope.store.records import ProjectionRow, RecordedEvent
from eventscope.store.source import EventFilter
from eventscope.store.times import as_utc

# Event ids derived for events that carry none: uuid5 in this namespace over
# "<stream_id>\n<version>", so the same history always yields the same ids and importing
# it twice adds nothing.
DERIVED_ID_NAMESPACE = uuid.UUID("6f1c3f4e-5d0b-5b55-9a0e-2d5c0e7f4a10")

_NAMESPACE_BYTES = DERIVED_ID_NAMESPACE.bytes


def derived_event_id(stream_id: str, version: int) -> str:
    """A stable UUID for the event at (stream, version) of a history without ids.

    Exactly `str(uuid.uuid5(DERIVED_ID_NAMESPACE, f"{stream_id}\\n{version}"))` (a test
    holds them equal), computed without building UUID objects: it runs once per event
    shown from such a history.
    """
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + f"{stream_id}\n{version}".encode()).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def needs_payload(flt: EventFilter | None) -> bool:
    """Whether a filter looks inside metadata (actor, correlation id)."""
    return flt is not None and (flt.correlation_id is not None or flt.actor is not None)


def matches(event: RecordedEvent, flt: EventFilter | None) -> bool:
    """The native store's filter semantics, applied to one decoded event."""
    if flt is None:
        return True
    if flt.event_types is not None and event.event_type not in flt.event_types:
        return False
    if flt.stream_type is not None and event.stream_type != flt.stream_type:
        return False
    if flt.stream_id is not None and event.stream_id != flt.stream_id:
        return False
    if flt.stream_prefix and not event.stream_id.startswith(flt.stream_prefix):
        return False
    if (
        flt.correlation_id is not None
        and event.metadata.get("correlation_id") != flt.correlation_id
    ):
        return False
    if flt.actor is not None and event.metadata.get("actor") != flt.actor:
        return False
    if flt.since is not None and event.recorded_at < as_utc(flt.since):
        return False
    return not (flt.until is not None and event.recorded_at >= as_utc(flt.until))


class NoReadModels:
    """For foreign histories: they carry no projection rows or checkpoints, so the
    read-model half of `EventSource` answers "none" (the explorer then says so)."""

    def checkpoints(self) -> dict[str, int]:
        return {}

    def projection_names(self) -> list[str]:
        return []

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        return []

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        return None
