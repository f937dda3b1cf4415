"""How a Message DB row becomes a `RecordedEvent`.

Why a module of its own: the mapping is where Message DB's conventions meet eventscope's,
and every trap of research/seed-stores.md lands here once:
* `position` counts from 0, so version = position + 1; the native position is kept in the
  metadata under ``messagedb`` so the event detail shows it;
* the category (text before the first ``-``) is the stream type, ``:``/``+`` parts kept;
* `time` has no zone and is UTC by convention; it is the recorded time, and the business
  time is the payload's ``time`` when that is an ISO 8601 text (Eventide's convention);
* `data` and `metadata` may be NULL: shown as ``{}`` with ``"data": null`` (or
  ``"metadata": null``) under ``messagedb``, never an error; a payload that is JSON but
  not an object (an array, a number) is an undecodable payload, shown as such;
* correlation is by stream name (``correlationStreamName``, else ``replyStreamName``),
  causation by the caused-by message's global position, resolved to that message's id
  so the correlation trace can draw its tree; the actor is read at a metadata path the
  user names, and absent otherwise;
* integers beyond 64 bits (jsonb keeps them exactly) are decoded exactly: orjson would
  read them as floats, so a payload with a run of 20 digits goes through stdlib json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from eventscope.store.native.rows import record
from eventscope.store.records import RecordedEvent, ReplayRow, parse_timestamp

# What every read selects, in this order (payloads as text: decoded with orjson).
COLUMNS = "global_position, position, time, stream_name, type, data::text, metadata::text, id::text"
# A run of 20 digits may be an integer beyond 64 bits, which orjson reads as a float.
_LONG_DIGITS = re.compile(r"\d{20}")
NATIVE_KEY = "messagedb"  # metadata key holding Message DB's own position and NULL markers
CAUSATION_POSITION = "causationMessageGlobalPosition"


def category(stream_name: str) -> str:
    """Message DB's `category()`: the text before the first ``-`` (all of a name without)."""
    return stream_name.split("-", 1)[0]


def parse_actor_path(text: str | None) -> tuple[str, ...] | None:
    """``properties.userId`` -> ("properties", "userId"); None or blank -> no actor."""
    if text is None or not text.strip():
        return None
    return tuple(part for part in text.strip().split(".") if part)


def decode_json(text: str | None) -> Any:
    """A jsonb value given as text; None for SQL NULL."""
    if text is None:
        return None
    if _LONG_DIGITS.search(text) is not None:
        return json.loads(text)  # exact integers of any size
    return orjson.loads(text)


def causation_position(metadata: Any) -> int | None:
    """The global position a message names as its cause, if it names one."""
    if not isinstance(metadata, dict):
        return None
    value = metadata.get(CAUSATION_POSITION)
    return value if type(value) is int else None


_make_row = ReplayRow._make


def replay_rows(rows: Sequence[Sequence[Any]]) -> list[ReplayRow]:
    """Rows of (position, global_position, type, data) -> replay rows, the payload read
    as `Mapper.event` reads it (NULL folds as ``{}``; JSON that is not an object is an
    undecodable payload)."""
    out: list[ReplayRow] = []
    append, make = out.append, _make_row
    for position, global_position, event_type, data_text in rows:
        data = decode_json(data_text)
        error = None
        if data is None:
            data = {}
        elif data.__class__ is not dict:
            error = f"data is JSON {type(data).__name__}, not an object: {data_text[:80]}"
            data = {}
        append(make((position + 1, global_position, event_type, 1, data, error)))
    return out


class Mapper:
    """Turns rows (`COLUMNS`) into events, with the user's actor path."""

    def __init__(self, actor_path: tuple[str, ...] | None) -> None:
        self.actor_path = actor_path
        self._categories: dict[str, str] = {}  # stream name -> category, for replays

    def _category(self, stream_name: str) -> str:
        found = self._categories.get(stream_name)
        if found is None:
            if len(self._categories) > 100_000:
                self._categories.clear()
            found = self._categories[stream_name] = category(stream_name)
        return found

    def event(self, row: Sequence[Any], metadata: Any, cause_ids: dict[int, str]) -> RecordedEvent:
        """One event; `metadata` is the row's decoded metadata (decoded once by the
        caller, which needs it to resolve causations), `cause_ids` global position ->
        message id."""
        global_position, position, time, stream_name, event_type, data_text, _m, message_id = row
        native: dict[str, Any] = {"position": position}
        data = decode_json(data_text)
        error = None
        if data is None:
            native["data"] = None
            data = {}
        elif not isinstance(data, dict):
            error = f"data is JSON {type(data).__name__}, not an object: {data_text[:80]}"
            data = {}
        if metadata is None:
            native["metadata"] = None
            shown: dict[str, Any] = {}
        elif isinstance(metadata, dict):
            shown = dict(metadata)
            self._map_metadata(shown, cause_ids)
        else:
            native["metadata"] = metadata
            shown = {}
        shown[NATIVE_KEY] = native
        recorded = time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
        occurred = (_business_time(data) if "time" in data else None) or recorded
        if error is None:  # the hot path: through the slots, as the native store reads
            return record(
                global_position,
                stream_name,
                self._category(stream_name),
                position + 1,
                message_id,
                event_type,
                1,
                data,
                shown,
                occurred,
                recorded,
                "",
            )
        return RecordedEvent(
            position=global_position,
            stream_id=stream_name,
            stream_type=self._category(stream_name),
            version=position + 1,
            event_id=message_id,
            event_type=event_type,
            schema_version=1,
            data=data,
            metadata=shown,
            occurred_at=occurred,
            recorded_at=recorded,
            hash="",
            decode_error=error,
        )

    def _map_metadata(self, shown: dict[str, Any], cause_ids: dict[int, str]) -> None:
        """Add eventscope's `correlation_id`, `causation_id` and `actor` beside Eventide's
        own keys (which stay as they are)."""
        correlation = shown.get("correlationStreamName")
        if not isinstance(correlation, str):
            correlation = shown.get("replyStreamName")
        if isinstance(correlation, str):
            shown["correlation_id"] = correlation
        cause = causation_position(shown)
        if cause is not None and cause in cause_ids:
            shown["causation_id"] = cause_ids[cause]
        else:
            name = shown.get("causationMessageStreamName")
            cause_at = shown.get("causationMessagePosition")
            if isinstance(name, str) and type(cause_at) is int:
                shown["causation_id"] = f"{name}/{cause_at}"
        if self.actor_path is not None:
            value: Any = shown
            for part in self.actor_path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str):
                shown["actor"] = value


def _business_time(data: dict[str, Any]) -> datetime | None:
    value = data.get("time")
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
