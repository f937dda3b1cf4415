"""One `mt_events` row as a `RecordedEvent`.

Mapping: `seq_id` is the position, `version` the stream version (Marten counts from 1),
`type` the event type (Marten's alias, snake_case of the class name by default),
`timestamp` both recorded and occurred time (Marten keeps one), `data` the payload.
Everything else Marten knows about an event goes to metadata under its own column name:
`mt_dotnet_type` (the CLR type behind the alias), `tenant_id` (when it is not Marten's
`*DEFAULT*`), `correlation_id`, `causation_id`, `headers`, `is_archived`, `is_skipped`;
`user_name` becomes `actor`, the name eventscope's filters and views use.

A 9.x binary event keeps its bytes in `bdata` and ``{}`` in `data`: it is shown with
empty data and ``"bdata": "binary of N bytes"`` in metadata, never as an error (it is
not damaged, only not JSON). Only the length is read, never the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from eventscope.store.records import RecordedEvent
from eventscope.store.sources.marten.layout import MartenLayout

DEFAULT_TENANT = "*DEFAULT*"

# (metadata key, column, SQL over mt_events aliased `e`), in the order `decode` reads them.
_OPTIONAL = (
    ("mt_dotnet_type", "mt_dotnet_type", "e.mt_dotnet_type"),
    ("bdata", "bdata", "octet_length(e.bdata)"),
    ("correlation_id", "correlation_id", "e.correlation_id"),
    ("causation_id", "causation_id", "e.causation_id"),
    ("actor", "user_name", "e.user_name"),
    ("headers", "headers", "e.headers::text"),
    ("is_archived", "is_archived", "e.is_archived"),
    ("is_skipped", "is_skipped", "e.is_skipped"),
)
_FIXED = 8  # columns before the optional ones


def select_list(layout: MartenLayout) -> str:
    """The columns `decode` expects, for a query over ``mt_events e``."""
    tenant = "e.tenant_id" if layout.has("tenant_id") else "NULL"
    fixed = (
        f"e.seq_id, e.stream_id::text, {tenant}, e.version, e.id::text, e.type, "
        "e.timestamp, e.data::text"
    )
    optional = [sql if layout.has(column) else "NULL" for _key, column, sql in _OPTIONAL]
    return ", ".join([fixed, *optional])


def decode(row: Sequence[Any], stream_id: str, stream_type: str) -> RecordedEvent:
    """The event of one row of `select_list` (never raises for a bad payload)."""
    position, _stored, tenant, version, event_id, event_type, moment, data_text = row[:_FIXED]
    metadata: dict[str, Any] = {}
    if tenant is not None and tenant != DEFAULT_TENANT:
        metadata["tenant_id"] = tenant
    for index, (key, _column, _sql) in enumerate(_OPTIONAL, start=_FIXED):
        value = row[index]
        if value is None or value is False:
            continue
        if key == "bdata":
            value = f"binary of {value} bytes"
        elif key == "headers":
            value = loads_json(value)
        metadata[key] = value
    error: str | None = None
    if "bdata" in metadata:
        data: dict[str, Any] = {}
    else:
        parsed = loads_json(data_text)
        if type(parsed) is dict:
            data = parsed
        else:
            data = {}
            error = f"the stored data is JSON but not an object (a {type(parsed).__name__})"
    moment = utc(moment)
    return RecordedEvent(
        position=position,
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        event_id=event_id,
        event_type=event_type,
        schema_version=1,
        data=data,
        metadata=metadata,
        occurred_at=moment,
        recorded_at=moment,
        hash="",
        decode_error=error,
    )


def loads_json(text: str) -> Any:
    """jsonb text as JSON; Python's parser only for integers beyond 64 bits, which
    orjson refuses and jsonb may hold."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def utc(moment: datetime) -> datetime:
    """A timestamptz from the driver in UTC (the session's zone may be another), with
    the same `UTC` tzinfo every other source uses."""
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if not moment.utcoffset() else moment.astimezone(UTC)
