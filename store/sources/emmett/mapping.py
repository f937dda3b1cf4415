"""One Emmett message row as an eventscope `RecordedEvent`.

* version = `stream_position` (Emmett counts from 1), position = `global_position`,
  event id = `message_id`, recorded_at = occurred_at = `created` (Emmett stores no
  business time of its own);
* metadata keeps what the writer put there and adds eventscope's names for Emmett's
  conventional keys: `correlationId` -> `correlation_id`, `causationId` ->
  `causation_id` (a message id), so the correlation trace follows them;
* emmett-sqlite 0.38.5 also writes its own `streamName`, `messageId` and
  `streamPosition` into metadata; `streamPosition` is the index within the append
  batch, not a position, so these three are dropped (the row's columns say it right);
* `message_schema_version` is a schema version on PostgreSQL, but on SQLite 0.38.5 the
  stream version before the append: there the schema version is always 1;
* a payload that is not a JSON object becomes an event with `decode_error`, never an
  exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from eventscope.store.records import RecordedEvent
from eventscope.store.sources.emmett.dialect import recorded_time, stream_type_of

RENAMED = {"correlationId": "correlation_id", "causationId": "causation_id"}
SQLITE_OWN_KEYS = ("streamName", "messageId", "streamPosition")


def parse_object(raw: Any) -> tuple[dict[str, Any], str | None]:
    """A JSON text (or an already decoded value) as an object, or ({}, why not)."""
    if isinstance(raw, dict):
        return raw, None
    if raw is None:
        return {}, "the stored payload is NULL"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return {}, f"the stored payload is not JSON ({exc})"
    if type(value) is not dict:
        return {}, f"the stored payload is JSON but not an object (a {type(value).__name__})"
    return value, None


def map_metadata(raw: Any, postgres: bool) -> dict[str, Any]:
    """The writer's metadata with eventscope's correlation and causation names added."""
    metadata, _error = parse_object(raw)
    if not postgres:
        for key in SQLITE_OWN_KEYS:
            metadata.pop(key, None)
    for emmett_key, ours in RENAMED.items():
        value = metadata.get(emmett_key)
        if isinstance(value, str) and ours not in metadata:
            metadata[ours] = value
    return metadata


def schema_version(raw: Any, postgres: bool) -> int:
    if not postgres:
        return 1
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return 1
    return value if value >= 1 else 1


def to_event(row: Sequence[Any], postgres: bool) -> RecordedEvent:
    """A row of `dialect.event_columns` as a RecordedEvent."""
    position, stream_id, version, event_type, data, metadata, created, message_id, schema = row
    payload, error = parse_object(data)
    moment = recorded_time(created)
    return RecordedEvent(
        position=int(position),
        stream_id=stream_id,
        stream_type=stream_type_of(stream_id),
        version=int(version),
        event_id=str(message_id),
        event_type=event_type,
        schema_version=schema_version(schema, postgres),
        data=payload,
        metadata=map_metadata(metadata, postgres),
        occurred_at=moment,
        recorded_at=moment,
        hash="",
        decode_error=error,
    )
