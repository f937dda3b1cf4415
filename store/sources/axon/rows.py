"""One row of Axon's events table as an eventscope `RecordedEvent`.

The mapping (docs/sources/axon.md has the whole table): position = global index,
version = sequence number + 1 (Axon counts from 0), stream = aggregate identifier,
stream type = the aggregate's simple name (`type`; Axon 5 `aggregate_type`), event type
= the payload class's simple name, with the full name kept in the metadata as
`axon.payload_type`; `payload_revision` (Axon 5 `version`) is the schema version; the
ISO-8601 text timestamp is both recorded and occurred time (Axon stores one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from eventscope.store.records import EPOCH, RecordedEvent, parse_timestamp
from eventscope.store.sources.axon.catalog import (
    NO_AGGREGATE_STREAM,
    NO_AGGREGATE_TYPE,
    AxonCatalog,
)
from eventscope.store.sources.axon.payloads import decode_metadata, decode_payload, schema_version
from eventscope.store.sources.axon.xstream import simple_name

# Column order of `Layout.event_select`.
POSITION, AGGREGATE, SEQUENCE, KIND, EVENT_ID, PAYLOAD_TYPE, REVISION, TIME, PAYLOAD, META = range(
    10
)


@lru_cache(maxsize=4096)
def event_type_of(payload_type: str | None) -> str:
    """The name a person calls the event class by (Axon 5's qualified name likewise)."""
    return simple_name(payload_type) if payload_type else ""


def parse_time(text: str | None) -> datetime | None:
    """The stored timestamp text as an aware UTC datetime, or None when unreadable.
    Axon writes UTC with a `Z` (`DateTimeUtils.formatInstant`), which Python reads
    directly; anything else (an offset, no zone) takes the general rule."""
    if not text:
        return None
    if text[-1] == "Z":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def stream_of(row: Sequence[Any], catalog: AxonCatalog) -> tuple[str, str, int]:
    """(stream id, stream type, version) of a row: its aggregate, or the group of events
    not applied by an aggregate (type NULL in Axon 4, aggregate NULL in Axon 5)."""
    kind = row[KIND]
    aggregate = row[AGGREGATE]
    if kind is None or aggregate is None:
        return NO_AGGREGATE_STREAM, NO_AGGREGATE_TYPE, catalog.group_version(row[POSITION])
    return str(aggregate), kind, int(row[SEQUENCE]) + 1


def to_event(row: Sequence[Any], catalog: AxonCatalog) -> RecordedEvent:
    """Decode one row (payload and metadata included); never raises for bad bytes."""
    kind = row[KIND]
    aggregate = row[AGGREGATE]
    if kind is None or aggregate is None:
        stream_id, stream_type = NO_AGGREGATE_STREAM, NO_AGGREGATE_TYPE
        version = catalog.group_version(row[POSITION])
    else:
        stream_id, stream_type, version = aggregate, kind, row[SEQUENCE] + 1
    data, detail, error = decode_payload(row[PAYLOAD])
    metadata, metadata_error = decode_metadata(row[META])
    payload_type = row[PAYLOAD_TYPE]
    metadata["axon.payload_type"] = payload_type
    revision = row[REVISION]
    if revision is not None:
        metadata["axon.payload_revision"] = revision
    if detail:
        metadata.update(detail)
    if metadata_error is not None:
        metadata["axon.metadata_error"] = metadata_error
    moment = parse_time(row[TIME])
    if moment is None:
        metadata["axon.time_stamp"] = row[TIME]
        moment = EPOCH
    return RecordedEvent(
        position=row[POSITION],
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        event_id=row[EVENT_ID],
        event_type=event_type_of(payload_type),
        schema_version=1 if revision is None else schema_version(revision),
        data=data,
        metadata=metadata,
        occurred_at=moment,
        recorded_at=moment,
        hash="",
        decode_error=error,
    )
