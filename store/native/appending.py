"""Preparing an append outside the write lock (validation, canonical JSON, limits), and
chaining prepared events into rows (`chain_rows`, pure code run under the lock).

Everything that can be decided without the database is decided here, before the store
takes its write lock, so a bad payload costs no lock time and a batch with one bad event
is refused whole. The write transaction itself is `store.native.writing`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventscope.store.errors import InvalidEvent
from eventscope.store.native.canonical import canonical_text
from eventscope.store.native.chain import ENVELOPE_TEXT
from eventscope.store.native.rows import record, ts
from eventscope.store.records import (
    ANY,
    NO_STREAM,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    format_timestamp,
)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp_text(moment: datetime) -> str:
    """`store.records.format_timestamp`, without strftime for the common case.

    An exact `datetime` in `datetime.UTC` from year 1000 on prints the same digits through
    `isoformat` (C code, no format-string parsing; about half the cost), and a test holds
    the two equal; anything else (other zones, naive values, subclasses, years whose
    ``%Y`` is not zero-padded) takes `format_timestamp` itself."""
    if moment.__class__ is datetime and moment.tzinfo is UTC and moment.year >= 1000:
        return moment.isoformat("T", "microseconds")[:-6] + "Z"
    return format_timestamp(moment)


class Prepared(NamedTuple):
    """An event validated and canonicalised outside the write lock.

    A tuple, not a class with attributes: the write loop unpacks it in one step, and a
    producer in another process (the demo's simulation) can send it as a plain tuple and
    have it rebuilt in C (`as_prepared`) instead of through a Python ``__init__``."""

    event_id: str
    event_type: str
    schema_version: int
    data_text: str  # canonical JSON, exactly what is hashed and stored
    metadata_text: str
    occurred_at: str | None
    recorded_at: str | None
    actor: str | None
    correlation_id: str | None
    causation_id: str | None

    @property
    def data_json(self) -> bytes:
        return self.data_text.encode()

    @property
    def metadata_json(self) -> bytes:
        return self.metadata_text.encode()


_as_prepared = tuple.__new__


def as_prepared(fields: Sequence[Any]) -> Prepared:
    """A `Prepared` from its fields in order, e.g. a tuple sent by another process that
    ran `prepare_batch` (C-level construction; the store re-checks size and ids)."""
    event = _as_prepared(Prepared, fields)
    if len(event) != _PREPARED_FIELDS:
        raise InvalidEvent(f"a prepared event has {_PREPARED_FIELDS} fields, not {len(event)}")
    return event


_PREPARED_FIELDS = len(Prepared._fields)


@dataclass(slots=True)
class StreamState:
    """A stream's catalog row as the append being built sees it."""

    stream_type: str
    version: int
    first_recorded_at: str | None
    first_position: int | None
    exists: bool
    last_position: int | None = None
    # The stream's own last event time (not the batch's: one append_streams call may
    # carry backfilled events whose recorded_at differ per stream).
    last_recorded_at: str | None = None


class VersionMismatch(Exception):
    """Raised inside the write transaction; the store first checks whether the append
    is a retry of stored events before turning it into ConcurrencyError."""

    def __init__(self, stream_id: str, expected: object, actual: int | None) -> None:
        self.args_ = (stream_id, expected, actual)


PreparedBatch = tuple[str, list[Prepared], ExpectedVersion | int, str | None]


def prepare_batches(items: Iterable[Sequence[Any]], max_payload: int) -> list[PreparedBatch]:
    """`prepare_batch` over the items of one append, sharing one `Memo`: a bulk append
    has about one item per event (consecutive events rarely share a stream), and events
    recorded at the same moment share one datetime across items."""
    memo = Memo()
    return [prepare_batch(item, max_payload, memo) for item in items]


def prepare_batch(item: Sequence[Any], max_payload: int, memo: Memo | None = None) -> PreparedBatch:
    """Validate and canonicalise one ``(stream_id, events, expected_version, stream_type)``
    item. Pure: it needs no database, so it may run in another process."""
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
    if memo is None:
        memo = Memo()
    return (
        stream_id,
        [prepare_event(event, max_payload, memo) for event in item[1]],
        expected,
        stream_type,
    )


class Memo:
    """The last metadata dict and timestamps seen, with their canonical text.

    Events of one command often share one metadata dict, and events recorded together
    share one datetime; identity (not equality) is checked, so nothing is assumed about
    content -- a dict mutated between two events of one call is the one case it could
    miss, and `prepare_event` documents that events are read once, when appended."""

    __slots__ = ("metadata", "metadata_text", "moment", "moment_text")

    def __init__(self) -> None:
        self.metadata: object = None
        self.metadata_text = ""
        self.moment: object = None
        self.moment_text = ""

    def timestamp(self, moment: Any, name: str) -> str:
        if moment is not self.moment:
            self.moment_text = _timestamp(moment, name)
            self.moment = moment
        return self.moment_text


def prepare_event(event: NewEvent, max_payload: int, memo: Memo | None = None) -> Prepared:
    """Validate and canonicalise one event. `memo` lets consecutive events that share
    the *same* metadata dict or datetime object skip a second serialisation."""
    if event.__class__ is not NewEvent and not isinstance(event, NewEvent):
        raise InvalidEvent(f"expected a NewEvent, got a {type(event).__name__}")
    return prepare_fields(
        event.event_type,
        event.data,
        event.metadata,
        event.event_id,
        event.schema_version,
        event.occurred_at,
        event.recorded_at,
        max_payload,
        memo,
    )


def prepare_fields(
    event_type: str,
    data: Any,
    meta: Any,
    raw_id: Any,
    version: Any,
    occurred_at: datetime | None,
    recorded_at: datetime | None,
    max_payload: int,
    memo: Memo | None = None,
) -> Prepared:
    """`prepare_event` for the fields of a `NewEvent` passed one by one.

    Why it exists: a bulk producer (the demo's simulation, one call per event of a
    million) need not build a frozen `NewEvent` only to have it taken apart again here;
    every check is the same. The event id may be a `UUID` or its text."""
    if event_type.__class__ is not str and not isinstance(event_type, str) or not event_type:
        raise InvalidEvent(f"an event type must be a non-empty string, not {event_type!r}")
    if data.__class__ is not dict and not isinstance(data, dict):
        raise InvalidEvent(f"event data must be a JSON object, not a {type(data).__name__}")
    if meta.__class__ is not dict and not isinstance(meta, dict):
        raise InvalidEvent(f"event metadata must be a JSON object, not a {type(meta).__name__}")
    if (
        version.__class__ is not int
        and (not isinstance(version, int) or isinstance(version, bool))
        or version < 1
    ):
        raise InvalidEvent(f"schema_version must be a positive integer, not {version!r}")
    try:
        event_id = str(raw_id if raw_id.__class__ is UUID else UUID(str(raw_id)))
    except ValueError:
        raise InvalidEvent(f"event id {raw_id!r} is not a UUID") from None
    data_text = canonical_text(data)
    if memo is None:
        memo = Memo()
    if memo.metadata is meta:
        metadata_text = memo.metadata_text
    else:
        metadata_text = memo.metadata_text = canonical_text(meta)
        memo.metadata = meta
    size = len(data_text) + len(metadata_text)
    if size > max_payload >> 2 and (
        len(data_text.encode()) + len(metadata_text.encode()) > max_payload
    ):  # the limit is in UTF-8 bytes; a text is at most 4 bytes per character
        raise InvalidEvent(
            f"event {event_id} is {len(data_text.encode()) + len(metadata_text.encode())} "
            f"bytes of JSON, over the limit of {max_payload} bytes"
        )
    get = meta.get
    actor = get("actor")
    correlation_id = get("correlation_id")
    causation_id = get("causation_id")
    return _as_prepared(
        Prepared,
        (
            event_id,
            event_type,
            version,
            data_text,
            metadata_text,
            None if occurred_at is None else memo.timestamp(occurred_at, "occurred_at"),
            None if recorded_at is None else memo.timestamp(recorded_at, "recorded_at"),
            actor if actor.__class__ is str else None,
            correlation_id if correlation_id.__class__ is str else None,
            causation_id if causation_id.__class__ is str else None,
        ),
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
    return timestamp_text(value)


Row = tuple[Any, ...]


@dataclass(slots=True)
class Chained:
    """What `chain_rows` hands back to the store's write transaction."""

    rows: list[Row]  # `events` rows in INSERT column order (see `INSERT_COLUMNS`)
    results: list[list[RecordedEvent]]  # per batch; empty lists when records were not asked
    touched: dict[str, StreamState]  # streams that received events, in first-touch order
    position: int  # the new head position
    head: bytes  # the new head hash (raw 32 bytes)
    last_recorded: str  # the latest recorded_at written


INSERT_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, "
    "event_type, schema_version, data, metadata, occurred_at, recorded_at, "
    "actor, correlation_id, causation_id, hash"
)
"""The `events` columns in the order of a chained row (`chain_rows`)."""


def chain_rows(
    batches: Sequence[PreparedBatch],
    states: dict[str, StreamState],
    position: int,
    previous: bytes,
    now: str,
    last: str,
    *,
    records: bool = True,
) -> Chained:
    """Assign positions, versions and recorded_at, and extend the hash chain, for
    prepared batches -- the part of an append that runs under the write lock.

    `states` holds the catalog rows of the streams involved (missing = new stream) and
    is updated in place; `position`/`previous`/`last` are the chain head as stored and
    `now` the transaction time (never before `last`). Raises VersionMismatch or
    InvalidEvent before anything is written. With ``records=False`` no RecordedEvent is
    built (a bulk load does not need them: about a fifth of the append's CPU)."""
    rows: list[Row] = []
    add = rows.append
    results: list[list[RecordedEvent]] = []
    touched: dict[str, StreamState] = {}
    sha256 = hashlib.sha256
    template = ENVELOPE_TEXT
    dumps = orjson.dumps
    quoted: dict[str, str] = {}
    for stream_id, events, expected, stream_type in batches:
        state = states.get(stream_id)
        check_expected(stream_id, expected, state.version if state is not None else None)
        if state is None:
            state = StreamState(stream_type or stream_id.split("-", 1)[0], 0, None, None, False)
            states[stream_id] = state
        elif stream_type is not None and stream_type != state.stream_type:
            raise InvalidEvent(
                f"stream {stream_id!r} is of type {state.stream_type!r}, not {stream_type!r}"
            )
        if not events:
            results.append([])
            continue
        touched[stream_id] = state
        version = state.version
        kind = state.stream_type
        stream_text = dumps(stream_id).decode()
        kind_text = quoted.get(kind)
        if kind_text is None:
            kind_text = quoted[kind] = dumps(kind).decode()
        start = len(rows)
        for (
            event_id,
            event_type,
            schema_version,
            data_text,
            metadata_text,
            occurred_at,
            recorded_at,
            actor,
            correlation_id,
            causation_id,
        ) in events:
            position += 1
            version += 1
            if recorded_at is None:
                recorded_at = now if now >= last else last
            elif recorded_at < last:
                raise InvalidEvent(
                    f"event {event_id} has recorded_at {recorded_at}, before the store's "
                    f"latest {last}; history cannot go back in time"
                )
            last = recorded_at
            if occurred_at is None:
                occurred_at = recorded_at
            type_text = quoted.get(event_type)
            if type_text is None:
                type_text = quoted[event_type] = dumps(event_type).decode()
            previous = sha256(
                previous
                + (
                    template
                    % (
                        data_text,
                        event_id,
                        type_text,
                        metadata_text,
                        occurred_at,
                        position,
                        recorded_at,
                        schema_version,
                        stream_text,
                        kind_text,
                        version,
                    )
                ).encode()
            ).digest()
            add(
                (
                    position,
                    event_id,
                    stream_id,
                    kind,
                    version,
                    event_type,
                    schema_version,
                    data_text,
                    metadata_text,
                    occurred_at,
                    recorded_at,
                    actor,
                    correlation_id,
                    causation_id,
                    previous.hex(),
                )
            )
        if state.first_position is None:
            state.first_position = rows[start][0]
            state.first_recorded_at = rows[start][10]
        state.last_position = position
        state.last_recorded_at = rows[-1][10]
        state.version = version
        results.append(_records(rows, start) if records else [])
    return Chained(rows, results, touched, position, previous, last)


def _records(rows: list[Row], start: int) -> list[RecordedEvent]:
    """RecordedEvents of the rows from `start` on: JSON decoded from the stored text
    (never the caller's dicts, which the caller may go on mutating)."""
    loads = orjson.loads
    return [
        record(
            row[0],
            row[2],
            row[3],
            row[4],
            row[1],
            row[5],
            row[6],
            loads(row[7]),
            loads(row[8]),
            ts(row[9]),
            ts(row[10]),
            row[14],
        )
        for row in rows[start:]
    ]


def check_prepared(batches: list[PreparedBatch], max_payload: int) -> set[str]:
    """The checks a prepared append still needs in the writing process: every event is a
    `Prepared` (`as_prepared` rebuilds one sent from another process), within the size
    limit, and no event id appears twice. Returns the ids."""
    seen: set[str] = set()
    add = seen.add
    quarter = max_payload >> 2
    for stream_id, events, _expected, _type in batches:
        if not isinstance(stream_id, str) or not stream_id:
            raise InvalidEvent(f"a stream id must be a non-empty string, not {stream_id!r}")
        for event in events:
            if event.__class__ is not Prepared:
                raise InvalidEvent(f"expected a prepared event, got a {type(event).__name__}")
            size = len(event[3]) + len(event[4])
            if size > quarter:
                size = len(event[3].encode()) + len(event[4].encode())
                if size > max_payload:
                    raise InvalidEvent(
                        f"event {event[0]} is {size} bytes of JSON, over the limit of "
                        f"{max_payload} bytes"
                    )
            if event[0] in seen:
                raise InvalidEvent(f"event id {event[0]} appears twice in one append")
            add(event[0])
    return seen
