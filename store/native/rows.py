"""Stored rows -> records, on the read hot path.

Why a module of its own: `read_stream` of 10k events must stay within 1.3x a raw SELECT
that decodes both JSON columns (DESIGN.md), so decoding avoids every avoidable call --
orjson, a cache for the repeated timestamp texts, and records built through their slot
descriptors instead of the frozen dataclass's generated ``__init__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from eventscope.store.records import EPOCH, RecordedEvent, ReplayRow, Snapshot, StreamInfo

_loads = orjson.loads


@lru_cache(maxsize=8192)
def ts(text: str) -> datetime:
    """Stored timestamp text -> aware UTC datetime (cached: a batch shares recorded_at)."""
    return datetime.fromisoformat(text)


_new = object.__new__
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


def record(
    position: int,
    stream_id: str,
    stream_type: str,
    version: int,
    event_id: str,
    event_type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    occurred_at: datetime,
    recorded_at: datetime,
    hash_hex: str,
) -> RecordedEvent:
    """Build a RecordedEvent through its slot descriptors.

    Equal to calling the frozen dataclass (a test holds it), but it skips the generated
    ``__init__``'s per-field ``object.__setattr__`` calls -- about a third of the cost
    of `read_stream` beyond the raw fetch and JSON decode, which DESIGN.md caps at 1.3x.
    """
    event = _new(RecordedEvent)
    _set_position(event, position)
    _set_stream_id(event, stream_id)
    _set_stream_type(event, stream_type)
    _set_version(event, version)
    _set_event_id(event, event_id)
    _set_event_type(event, event_type)
    _set_schema_version(event, schema_version)
    _set_data(event, data)
    _set_metadata(event, metadata)
    _set_occurred_at(event, occurred_at)
    _set_recorded_at(event, recorded_at)
    _set_hash(event, hash_hex)
    _set_decode_error(event, None)
    _set_times_unknown(event, ())  # the native store records both times
    return event


def event_from_row(row: Sequence[Any]) -> RecordedEvent:
    """A stored row (`EVENT_COLUMNS` order) -> RecordedEvent, JSON decoded with orjson.

    A row no append would have written (edited by raw SQL, damaged) becomes an event with
    `decode_error` set instead of an exception: bad data is shown, not fatal."""
    try:
        data = _loads(row[7])
        metadata = _loads(row[8])
        occurred_at = ts(row[9])
        recorded_at = ts(row[10])
    except (ValueError, TypeError):  # orjson.JSONDecodeError is a ValueError
        return _undecodable(row)
    if data.__class__ is not dict or metadata.__class__ is not dict:
        return _undecodable(row)
    event = _new(RecordedEvent)
    _set_position(event, row[0])
    _set_stream_id(event, row[1])
    _set_stream_type(event, row[2])
    _set_version(event, row[3])
    _set_event_id(event, row[4])
    _set_event_type(event, row[5])
    _set_schema_version(event, row[6])
    _set_data(event, data)
    _set_metadata(event, metadata)
    _set_occurred_at(event, occurred_at)
    _set_recorded_at(event, recorded_at)
    _set_hash(event, row[11])
    _set_decode_error(event, None)
    _set_times_unknown(event, ())  # the native store records both times
    return event


def _undecodable(row: Sequence[Any]) -> RecordedEvent:
    """The slow path for a damaged row: keep what can be read, explain the rest."""
    problems: list[str] = []

    def obj(text: Any, name: str) -> dict[str, Any]:
        try:
            value = _loads(text)
        except (ValueError, TypeError) as exc:
            problems.append(f"stored {name} is not readable JSON ({str(exc)[:80]})")
            return {}
        if value.__class__ is not dict:
            problems.append(f"stored {name} is not a JSON object")
            return {}
        return value

    def moment(text: Any, name: str) -> datetime:
        try:
            return ts(text)
        except (ValueError, TypeError):
            problems.append(f"stored {name} is not a timestamp")
            return EPOCH

    data, metadata = obj(row[7], "data"), obj(row[8], "metadata")
    occurred_at, recorded_at = moment(row[9], "occurred_at"), moment(row[10], "recorded_at")
    event = record(*row[:7], data, metadata, occurred_at, recorded_at, row[11])
    _set_decode_error(event, "; ".join(problems))
    return event


# read_stream leaves stream_id out of the SELECT: the WHERE clause fixes it, and not
# building one string per row is part of staying within 1.3x of the raw fetch.
STREAM_EVENT_COLUMNS = (
    "position, stream_type, version, event_id, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, hash"
)


def stream_events(rows: Sequence[Sequence[Any]], stream_id: str) -> list[RecordedEvent]:
    """Rows of one stream (`STREAM_EVENT_COLUMNS`) -> records: `event_from_row` with
    everything bound locally and a shared timestamp when occurred_at == recorded_at
    (the common case). Damaged rows take the same explained slow path."""
    out: list[RecordedEvent] = []
    append = out.append
    loads, new, cls, parse = _loads, _new, RecordedEvent, ts
    s_position, s_stream_id, s_stream_type, s_version = (
        _set_position,
        _set_stream_id,
        _set_stream_type,
        _set_version,
    )
    s_event_id, s_event_type, s_schema_version = _set_event_id, _set_event_type, _set_schema_version
    s_data, s_metadata, s_occurred_at, s_recorded_at = (
        _set_data,
        _set_metadata,
        _set_occurred_at,
        _set_recorded_at,
    )
    s_hash, s_decode_error, s_times_unknown = _set_hash, _set_decode_error, _set_times_unknown
    for row in rows:
        try:
            data = loads(row[6])
            metadata = loads(row[7])
            recorded_at = parse(row[9])
            occurred_at = recorded_at if row[8] == row[9] else parse(row[8])
        except (ValueError, TypeError):
            append(_undecodable((row[0], stream_id, *row[1:])))
            continue
        if data.__class__ is not dict or metadata.__class__ is not dict:
            append(_undecodable((row[0], stream_id, *row[1:])))
            continue
        event = new(cls)
        s_position(event, row[0])
        s_stream_id(event, stream_id)
        s_stream_type(event, row[1])
        s_version(event, row[2])
        s_event_id(event, row[3])
        s_event_type(event, row[4])
        s_schema_version(event, row[5])
        s_data(event, data)
        s_metadata(event, metadata)
        s_occurred_at(event, occurred_at)
        s_recorded_at(event, recorded_at)
        s_hash(event, row[10])
        s_decode_error(event, None)
        s_times_unknown(event, ())
        append(event)
    return out


_make_row = ReplayRow._make


def replay_rows(rows: Sequence[Sequence[Any]]) -> list[ReplayRow]:
    """Rows of (version, position, event_type, schema_version, data) -> replay rows; a
    payload that is not a JSON object gets ``{}`` and the reason, as `event_from_row`."""
    loads, make = _loads, _make_row
    out: list[ReplayRow] = []
    append = out.append
    for version, position, event_type, schema_version, text in rows:
        try:
            data = loads(text)
        except (ValueError, TypeError) as exc:
            error = f"stored data is not readable JSON ({str(exc)[:80]})"
            append(make((version, position, event_type, schema_version, {}, error)))
            continue
        if data.__class__ is not dict:
            error = "stored data is not a JSON object"
            append(make((version, position, event_type, schema_version, {}, error)))
            continue
        append(make((version, position, event_type, schema_version, data, None)))
    return out


def stream_from_row(row: Sequence[Any]) -> StreamInfo:
    return StreamInfo(
        stream_id=row[0],
        stream_type=row[1],
        version=row[2],
        event_count=row[3],
        first_recorded_at=ts(row[4]) if row[4] else None,
        last_recorded_at=ts(row[5]) if row[5] else None,
        first_position=row[6],
        last_position=row[7],
    )


def snapshot_from_row(row: Sequence[Any]) -> Snapshot:
    return Snapshot(
        stream_id=row[0],
        version=row[1],
        state=_loads(row[2]),
        aggregate_type=row[3],
        schema_version=row[4],
        code_version=row[5],
        created_at=ts(row[6]),
    )
