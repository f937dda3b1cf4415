"""Preparing an append outside the write lock: validation, canonical JSON, limits.

Everything that can be decided without the database is decided here, before the store
takes its write lock, so a bad payload costs no lock time and a batch with one bad event
is refused whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store.canonical import canonical_json
from store.errors import InvalidEvent
from store.records import (
    ANY,
    NO_STREAM,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    format_timestamp,
)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Prepared:
    """An event validated and canonicalised outside the write lock."""

    event_id: str
    event_type: str
    schema_version: int
    data_json: bytes
    metadata_json: bytes
    data_text: str
    metadata_text: str
    occurred_at: str | None
    recorded_at: str | None
    actor: str | None
    correlation_id: str | None
    causation_id: str | None


@dataclass(slots=True)
class StreamState:
    """A stream's catalog row as the append being built sees it."""

    stream_type: str
    version: int
    first_recorded_at: str | None
    first_position: int | None
    exists: bool
    last_position: int | None = None


class VersionMismatch(Exception):
    """Raised inside the write transaction; the store first checks whether the append
    is a retry of stored events before turning it into ConcurrencyError."""

    def __init__(self, stream_id: str, expected: object, actual: int | None) -> None:
        self.args_ = (stream_id, expected, actual)


PreparedBatch = tuple[str, list[Prepared], ExpectedVersion | int, str | None]


def prepare_batch(item: Sequence[Any], max_payload: int) -> PreparedBatch:
    if len(item) < 2 or len(item) > 4:
        raise InvalidEvent("each batch is (stream_id, events, expected_version, stream_type)")
    stream_id = item[0]
    expected = item[2] if len(item) > 2 else ANY
    stream_type = item[3] if len(item) > 3 else None
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidEvent(f"a stream id must be a non-empty string, not {stream_id!r}")
    if stream_type is not None and (not isinstance(stream_type, str) or not stream_type):
        raise InvalidEvent(f"a stream type must be a non-empty string, not {stream_type!r}")
    if not (
        isinstance(expected, ExpectedVersion)
        or (isinstance(expected, int) and not isinstance(expected, bool) and expected >= 0)
    ):
        raise InvalidEvent(
            f"expected_version must be NO_STREAM, ANY or a version number, not {expected!r}"
        )
    if isinstance(item[1], NewEvent):
        raise InvalidEvent("events must be a list of NewEvent, not a single NewEvent")
    memo: list[Any] = [None, b""]  # events of one command often share one metadata dict
    return (
        stream_id,
        [prepare_event(event, max_payload, memo) for event in item[1]],
        expected,
        stream_type,
    )


def prepare_event(event: NewEvent, max_payload: int, memo: list[Any] | None = None) -> Prepared:
    """Validate and canonicalise one event. `memo` ([metadata object, its canonical
    bytes]) lets consecutive events that share the *same* metadata dict skip a second
    serialisation -- identity, not equality, so nothing is assumed about content."""
    if not isinstance(event, NewEvent):
        raise InvalidEvent(f"expected a NewEvent, got a {type(event).__name__}")
    if not isinstance(event.event_type, str) or not event.event_type:
        raise InvalidEvent(f"an event type must be a non-empty string, not {event.event_type!r}")
    if not isinstance(event.data, dict):
        raise InvalidEvent(f"event data must be a JSON object, not a {type(event.data).__name__}")
    if not isinstance(event.metadata, dict):
        raise InvalidEvent(
            f"event metadata must be a JSON object, not a {type(event.metadata).__name__}"
        )
    version = event.schema_version
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidEvent(f"schema_version must be a positive integer, not {version!r}")
    try:
        raw_id = event.event_id
        event_id = str(raw_id if type(raw_id) is uuid.UUID else uuid.UUID(str(raw_id)))
    except ValueError:
        raise InvalidEvent(f"event id {event.event_id!r} is not a UUID") from None
    data_json = canonical_json(event.data)
    meta = event.metadata
    if memo is not None and memo[0] is meta:
        metadata_json = memo[1]
    else:
        metadata_json = canonical_json(meta)
        if memo is not None:
            memo[0], memo[1] = meta, metadata_json
    size = len(data_json) + len(metadata_json)
    if size > max_payload:
        raise InvalidEvent(
            f"event {event_id} is {size} bytes of JSON, over the limit of {max_payload} bytes"
        )
    actor = meta.get("actor")
    correlation_id = meta.get("correlation_id")
    causation_id = meta.get("causation_id")
    occurred_at = event.occurred_at
    recorded_at = event.recorded_at
    return Prepared(
        event_id,
        event.event_type,
        version,
        data_json,
        metadata_json,
        data_json.decode(),
        metadata_json.decode(),
        None if occurred_at is None else _timestamp(occurred_at, "occurred_at"),
        None if recorded_at is None else _timestamp(recorded_at, "recorded_at"),
        actor if type(actor) is str else None,
        correlation_id if type(correlation_id) is str else None,
        causation_id if type(causation_id) is str else None,
    )


def check_expected(stream_id: str, expected: ExpectedVersion | int, current: int | None) -> None:
    if expected is ANY:
        return
    if expected is NO_STREAM or expected == 0:
        if current is not None:
            raise VersionMismatch(stream_id, expected, current)
        return
    if current != expected:
        raise VersionMismatch(stream_id, expected, current)


def same_content(
    original: RecordedEvent, stored_json: tuple[str, str], stream_id: str, event: Prepared
) -> bool:
    """Compare the stored canonical text, not re-canonicalised decoded values: a float
    such as 2.0**60 is stored as an integer literal that would not pass validation again."""
    if (
        original.stream_id != stream_id
        or original.event_type != event.event_type
        or original.schema_version != event.schema_version
        or stored_json != (event.data_text, event.metadata_text)
    ):
        return False
    if (
        event.occurred_at is not None
        and format_timestamp(original.occurred_at) != event.occurred_at
    ):
        return False
    return not (
        event.recorded_at is not None
        and format_timestamp(original.recorded_at) != event.recorded_at
    )


def _timestamp(value: datetime, name: str) -> str:
    if not isinstance(value, datetime):
        raise InvalidEvent(f"{name} must be a datetime, not a {type(value).__name__}")
    return format_timestamp(value)
