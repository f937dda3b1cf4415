"""Decoding what the `eventsourcing` library stored, without its application code.

The library (pyeventsourcing 9.x) stores each domain event as (originator_id,
originator_version, topic, state): `topic` is "module:Qual.Name" of the event class and
`state` is the event object's `__dict__` (minus id and version) written by its
`JSONTranscoder` -- compact JSON in which values of registered types become
``{"_type_": name, "_data_": value}`` -- then optionally compressed and encrypted.

eventscope reads this without importing the application:
* JSON is parsed as JSON (orjson; Python's json module for the NaN/Infinity it may write);
* the library's default transcodings become plain JSON: ``uuid_hex`` -> the UUID text
  with dashes, ``decimal_str`` -> the decimal's text (exact, not a float),
  ``datetime_iso`` -> the ISO text; any other ``_type_`` is kept as written, so nothing is
  hidden;
* zlib, gzip, bz2 and xz/lzma compression are recognised by their magic bytes and undone;
* anything else (an encrypted state, an unknown codec) cannot be read without the
  application's key or code: the event is still listed, with the reason and empty data.

Mapping to eventscope records: the topic's class path gives the stream type (the
aggregate class, e.g. "Dog" for "shop.domain:Dog.Registered") and the event type (the
last name, "Registered"); `timestamp` becomes occurred_at and recorded_at;
`originator_topic` and the raw `topic` go to metadata; `class_version` becomes the
schema version; every other attribute is `data`.
"""

from __future__ import annotations

import bz2
import json
import lzma
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from eventscope.store.times import stored_time

MAX_INFLATED = 64 * 1024 * 1024

UNREADABLE = (
    "the stored state is not JSON and no known compression: it is encrypted "
    "(the application's CIPHER_TOPIC) or written with a codec eventscope does not know, "
    "so it cannot be shown without the application's key"
)


@dataclass(frozen=True, slots=True)
class DecodedState:
    """The parts of one stored event eventscope shows."""

    data: dict[str, Any]
    metadata: dict[str, Any]
    timestamp: datetime | None
    schema_version: int
    error: str | None = None


def split_topic(topic: str) -> tuple[str, str]:
    """(stream type, event type) from an event class topic.

    "shop.domain:Dog.Registered" -> ("Dog", "Registered"); a top-level event class
    "shop.events:Registered" -> ("", "Registered"), leaving the caller to find the type
    elsewhere (the created event's `originator_topic`).
    """
    _module, _sep, qualname = topic.rpartition(":")
    if not qualname:
        return "", topic
    head, dot, last = qualname.rpartition(".")
    return (head if dot else ""), last


def class_name(topic: str) -> str:
    """The class path of a topic without its module: "shop.domain:Dog" -> "Dog"."""
    _module, _sep, qualname = topic.rpartition(":")
    return qualname or topic


def decode(state: bytes | memoryview | None, topic: str) -> DecodedState:
    """Decode one stored state; never raises for bad bytes (the error says why)."""
    payload, error = _json_object(state)
    if payload is None:
        return DecodedState({}, {"topic": topic}, None, 1, error)
    payload, stamp, originator_topic, schema_version = _split(untranscode(payload))
    metadata: dict[str, Any] = {"topic": topic}
    if originator_topic is not None:
        metadata["originator_topic"] = originator_topic
    return DecodedState(payload, metadata, parse_timestamp_value(stamp), schema_version)


def fold_payload(state: bytes | memoryview | None) -> tuple[dict[str, Any], int, str | None]:
    """(payload, schema version, error) exactly as `decode` gives them, without parsing
    the timestamp: what a replay that only folds needs."""
    payload, error = _json_object(state)
    if payload is None:
        return {}, 1, error
    payload, _stamp, _topic, schema_version = _split(untranscode(payload))
    return payload, schema_version, None


def _split(payload: dict[str, Any]) -> tuple[dict[str, Any], Any, str | None, int]:
    """Take the library's own fields out of a state: (payload, timestamp value,
    originator topic, class version)."""
    stamp = payload.pop("timestamp", None)
    originator_topic = payload.pop("originator_topic", None)
    if originator_topic is not None and not isinstance(originator_topic, str):
        payload["originator_topic"] = originator_topic
        originator_topic = None
    schema_version = payload.pop("class_version", 1)
    if type(schema_version) is not int or schema_version < 1:
        payload["class_version"] = schema_version
        schema_version = 1
    return payload, stamp, originator_topic, schema_version


def decode_object(state: bytes | memoryview | None) -> tuple[dict[str, Any] | None, str | None]:
    """The state as a plain JSON object (transcodings undone), or (None, reason)."""
    payload, error = _json_object(state)
    if payload is None:
        return None, error
    return untranscode(payload), None


def untranscode(value: Any) -> Any:
    """Replace the library's default ``{"_type_", "_data_"}`` wrappers by plain JSON."""
    kind = type(value)
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name, data = value["_type_"], value["_data_"]
            if name == "uuid_hex" and isinstance(data, str):
                try:
                    return str(uuid.UUID(data))
                except ValueError:
                    return data
            if name in ("decimal_str", "datetime_iso") and isinstance(data, str):
                return data
            return {"_type_": name, "_data_": untranscode(data)}
        return {key: untranscode(item) for key, item in value.items()}
    if kind is list:
        return [untranscode(item) for item in value]
    return value


def _json_object(
    state: bytes | memoryview | str | None,
) -> tuple[dict[str, Any] | None, str | None]:
    if state is None:
        return None, "the stored state is empty"
    raw = state.encode() if isinstance(state, str) else bytes(state)
    payload = _parse(raw)
    if payload is None:
        inflated = _decompress(raw)
        if inflated is not None:
            payload = _parse(inflated)
    if payload is None:
        return None, UNREADABLE
    if type(payload) is not dict:
        return None, f"the stored state is JSON but not an object (a {type(payload).__name__})"
    return payload, None


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        # Python's json module (which the library uses) may write NaN and Infinity; they
        # are kept as the text the library wrote, since JSON has no such numbers.
        return json.loads(raw.decode("utf-8"), parse_constant=lambda name: name)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _decompress(raw: bytes) -> bytes | None:
    """Undo a recognised compression, refusing to inflate beyond MAX_INFLATED bytes (a
    hostile state must not exhaust memory)."""
    try:
        if raw[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"):
            inflater: Any = zlib.decompressobj()
        elif raw[:2] == b"\x1f\x8b":
            inflater = zlib.decompressobj(wbits=31)
        elif raw[:3] == b"BZh":
            inflater = bz2.BZ2Decompressor()
        elif raw[:6] == b"\xfd7zXZ\x00":
            inflater = lzma.LZMADecompressor()
        else:
            return None
        out = inflater.decompress(raw, MAX_INFLATED)
    except (zlib.error, OSError, ValueError, EOFError, lzma.LZMAError):
        return None
    return out if len(out) < MAX_INFLATED else None


def parse_timestamp_value(value: Any) -> datetime | None:
    """The state's ``timestamp`` (ISO 8601 text) as aware UTC, or None."""
    return stored_time(value)
