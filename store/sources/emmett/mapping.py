"""One Emmett message row as an eventscope `RecordedEvent`.

* version = the event's place among its stream's events (1, 2, 3, ...), which is
  Emmett's `stream_position` (from 1) wherever the stream holds only events and no
  holes; commands share the positions and emmett-sqlite 0.38.5 leaves holes after a
  refused append, so there the two differ, and `stream_position` is always kept in
  metadata as `emmett_stream_position` (the domain engine needs contiguous versions);
  position = `global_position`,
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
from eventscope.store.records import RecordedEvent, ReplayRow
from eventscope.store.sources.emmett.dialect import recorded_time, stream_type_of


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
    try:
        metadata = _loads(raw)
    except (TypeError, ValueError):
        metadata = None
    if metadata.__class__ is not dict:
        metadata, _error = parse_object(raw)
    if not postgres:
        metadata.pop("streamName", None)
        metadata.pop("messageId", None)
        metadata.pop("streamPosition", None)
    correlation = metadata.get("correlationId")
    if correlation.__class__ is str and "correlation_id" not in metadata:
        metadata["correlation_id"] = correlation
    causation = metadata.get("causationId")
    if causation.__class__ is str and "causation_id" not in metadata:
        metadata["causation_id"] = causation
    return metadata


def schema_version(raw: Any, postgres: bool) -> int:
    if not postgres:
        return 1
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return 1
    return value if value >= 1 else 1


_new = object.__new__
_loads = orjson.loads
(
    _set_position,
    _set_stream_id,
    _set_stream_type,
    _set_version,
    _set_event_id,
    _set_event_type,
    _set_schema_version,
    _set_data,
    _set_metadata,
    _set_occurred_at,
    _set_recorded_at,
    _set_hash,
    _set_decode_error,
    _set_times_unknown,
) = (
    getattr(RecordedEvent, name).__set__
    for name in (
        "position",
        "stream_id",
        "stream_type",
        "version",
        "event_id",
        "event_type",
        "schema_version",
        "data",
        "metadata",
        "occurred_at",
        "recorded_at",
        "hash",
        "decode_error",
        "times_unknown",
    )
)


def to_event(row: Sequence[Any], postgres: bool, version: int) -> RecordedEvent:
    """A row of `dialect.event_columns` as a RecordedEvent at `version`.

    Built through the record's slot descriptors, equal to calling the frozen dataclass
    (a test holds it) without its ``__init__``'s per-field ``object.__setattr__`` calls:
    a replay must stay within 2x a bare SELECT and orjson fold of the same rows."""
    position, stream_id, native, event_type, data, metadata, created, message_id, schema = row
    try:
        payload = _loads(data)
        error = None if payload.__class__ is dict else "not an object"
    except (TypeError, ValueError):
        error = "unreadable"
    if error is not None:
        payload, error = parse_object(data)
    moment = recorded_time(created)
    event = _new(RecordedEvent)
    _set_position(event, position)
    _set_stream_id(event, stream_id)
    _set_stream_type(event, stream_type_of(stream_id))
    _set_version(event, version)
    _set_event_id(event, message_id)
    _set_event_type(event, event_type)
    _set_schema_version(event, 1 if schema == "1" else schema_version(schema, postgres))
    _set_data(event, payload)
    mapped = map_metadata(metadata, postgres)
    mapped["emmett_stream_position"] = native
    _set_metadata(event, mapped)
    _set_occurred_at(event, moment)
    _set_recorded_at(event, moment)
    _set_hash(event, "")
    _set_decode_error(event, error)
    _set_times_unknown(event, ())  # `created` is always there
    return event


_make_row = ReplayRow._make


def replay_rows(rows: Sequence[Sequence[Any]], postgres: bool) -> list[ReplayRow]:
    """Rows of (stream_position, global_position, message_type, message_data,
    message_schema_version) -> replay rows, the payload read as `to_event` reads it."""
    out: list[ReplayRow] = []
    append, loads, make = out.append, _loads, _make_row
    for version, position, event_type, data, schema in rows:
        try:
            payload = loads(data)
            error = None if payload.__class__ is dict else "not an object"
        except (TypeError, ValueError):
            error = "unreadable"
        if error is not None:
            payload, error = parse_object(data)
        number = 1 if schema == "1" else schema_version(schema, postgres)
        append(make((version, position, event_type, number, payload, error)))
    return out
