"""One `messages` row as an eventscope `RecordedEvent`, and Eventuous's stream info.

Mapping (see docs/sources/eventuous.md):
* `global_position` -> position (an identity column: it has gaps, never duplicates);
* version: see `numbering` (stream_position + 1 unless the stream was truncated or has a
  hole); the stored 0-based position is kept in metadata as `stream_position`;
* `message_type` (the TypeMap name, e.g. ``V1.RoomBooked``) -> event_type, as stored;
* `json_data` -> data; `json_metadata` (nullable) -> metadata, plus `correlation_id` and
  `causation_id` from Eventuous's ``eventuous.correlation-id`` and
  ``eventuous.causation-id`` (the dotted keys stay too);
* `created` -> recorded_at and occurred_at: a `timestamp` without zone holding the
  client's `DateTime.UtcNow`, read as UTC, shared by every message of one append;
* `message_id` -> event_id (a derived id when it is NULL).

JSON is fetched as text and parsed with orjson (psycopg's own jsonb parsing is several
times slower). orjson reads an integer beyond 64 bits as a float, silently losing digits,
so a document holding a float at or beyond 2^63 in size is parsed again by Python's json
(exact integers; a real float that large takes that path too, harmlessly). Looking at the
parsed values costs a third of what searching the text for long digit runs would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventscope.store.foreign import derived_event_id
from eventscope.store.records import JSONObject, RecordedEvent, ReplayRow, StreamInfo
from eventscope.store.sources.eventuous.numbering import Numbering
from eventscope.store.times import as_utc

CORRELATION_KEY = "eventuous.correlation-id"
CAUSATION_KEY = "eventuous.causation-id"
POSITION_KEY = "stream_position"

# The columns every event query selects, in this order (`event` unpacks them).
EVENT_COLUMNS = (
    "m.global_position, m.stream_id, m.stream_position, m.message_type, "
    "m.json_data::text, m.json_metadata::text, m.created, m.message_id::text"
)


def parse_object(text: str | None, what: str) -> tuple[JSONObject, str | None]:
    """A stored JSON document as an object, or ({}, why not)."""
    if text is None:
        return {}, None
    try:
        value = orjson.loads(text)
        if type(value) is dict and _maybe_rounded(value):
            value = json.loads(text)
    except (ValueError, RecursionError):
        try:
            value = json.loads(text)  # what orjson refuses (e.g. nesting beyond its limit)
        except (ValueError, RecursionError) as exc:
            return {}, f"{what} is not JSON eventscope can read ({exc})"
    if type(value) is not dict:
        return {}, f"{what} is JSON but not an object (a {type(value).__name__})"
    return value, None


def _document(text: str | None, what: str) -> tuple[JSONObject, str | None]:
    """`parse_object` with the common case (an object orjson reads) first: this runs
    twice per event on every replay."""
    if text is not None:
        try:
            value = _loads(text)
        except orjson.JSONDecodeError:
            return parse_object(text, what)
        if type(value) is dict and not _maybe_rounded(value):
            return value, None
    return parse_object(text, what)


_loads = orjson.loads
_LIMIT = 9.2e18  # just below 2^63: orjson's integers are exact up to 64 bits


def _maybe_rounded(value: dict[str, Any] | list[Any]) -> bool:
    """Whether a parsed document holds a float so large that orjson may have rounded an
    integer into it."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is float:
            if not -_LIMIT < item < _LIMIT:
                return True
        elif (kind is dict or kind is list) and _maybe_rounded(item):
            return True
    return False


def event(row: Sequence[Any], name: str, stream_type: str, numbering: Numbering) -> RecordedEvent:
    """One row of `EVENT_COLUMNS` as a RecordedEvent of stream `name`."""
    position, _stream, stream_position, message_type, data_text, meta_text, created, mid = row
    data, error = _document(data_text, "json_data")
    metadata, meta_error = _document(meta_text, "json_metadata")
    correlation = metadata.get(CORRELATION_KEY)
    if type(correlation) is str:
        metadata["correlation_id"] = correlation
    causation = metadata.get(CAUSATION_KEY)
    if type(causation) is str:
        metadata["causation_id"] = causation
    metadata[POSITION_KEY] = stream_position
    if numbering.positions is None:
        version = stream_position - numbering.first_position + 1
    else:
        version = numbering.version_of(stream_position)
    moment = as_utc(created)  # a zone-less `created` is the UTC time Eventuous meant
    return RecordedEvent(
        position,
        name,
        stream_type,
        version,
        mid if mid is not None else derived_event_id(name, version),
        message_type,
        1,
        data,
        metadata,
        moment,
        moment,
        "",
        error or meta_error,
    )


def replay_rows(rows: Sequence[Sequence[Any]], numbering: Numbering) -> list[ReplayRow]:
    """Rows of (stream_position, global_position, message_type, json_data) -> replay
    rows, numbered and decoded as `event` does."""
    out: list[ReplayRow] = []
    append, make = out.append, ReplayRow._make
    gapless = numbering.positions is None
    first = numbering.first_position
    for stream_position, position, message_type, data_text in rows:
        data, error = _document(data_text, "json_data")
        version = stream_position - first + 1 if gapless else numbering.version_of(stream_position)
        append(make((version, position, message_type, 1, data, error)))
    return out


@dataclass(frozen=True, slots=True)
class EventuousStreamInfo(StreamInfo):
    """A stream catalog row plus what Eventuous's positions say about its history:
    `truncated_before` (the first stored position, when `truncate_stream` deleted the
    ones below it) and `missing_positions` (positions with no message)."""

    truncated_before: int = 0
    missing_positions: int = 0

    @property
    def history_note(self) -> str | None:
        """One sentence for the timeline, or None for an ordinary stream."""
        notes = []
        if self.truncated_before:
            notes.append(
                f"history before position {self.truncated_before} was truncated "
                f"(v1 is stream position {self.truncated_before})"
            )
        if self.missing_positions:
            count = self.missing_positions
            notes.append(
                f"{count} stream position{'s' if count != 1 else ''} "
                f"{'have' if count != 1 else 'has'} no message (skipped duplicates)"
            )
        return "; ".join(notes) or None

    def to_json(self) -> JSONObject:
        out = StreamInfo.to_json(self)
        out["truncated_before"] = self.truncated_before
        out["missing_positions"] = self.missing_positions
        out["history_note"] = self.history_note
        return out
