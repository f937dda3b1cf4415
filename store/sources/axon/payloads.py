"""Axon's serialized payloads and metadata as eventscope's JSON data, without the
application's classes.

Axon 4 writes XStream XML by default and Jackson JSON when configured; Axon 5 writes
JSON. Which one a row holds is told by its first byte (a store may have switched
serializers during its life, so it is decided per row, never per store). XML goes
through `xstream.decode` and its text is kept in the metadata (`axon.stored_xml`)
beside the Java types it named (`axon.java_types`), because the XML is the evidence and
the JSON a reading of it. Nothing here raises for bad bytes: the reason comes back as
one sentence and the event is still listed.

Axon's metadata keys are mapped to eventscope's (added, never replacing what is
stored): `traceId` (the root message) is the correlation id, `correlationId` (the
*parent* message) the causation id, and `userName` the actor.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
from eventscope.store.sources.axon import xstream

# Axon's MessageOriginProvider keys -> eventscope's metadata keys.
METADATA_KEYS = (("traceId", "correlation_id"), ("correlationId", "causation_id"))
ACTOR_KEYS = ("userName", "username", "user")


class Payload(NamedTuple):
    """One decoded payload: its data (an object), what the detail should show beside it,
    and the reason when it could not be read (then `data` is empty). A named tuple, not
    a frozen dataclass: one is built per event of a replay, and it costs a third."""

    data: dict[str, Any]
    detail: dict[str, Any]
    error: str | None = None


def _first_byte(raw: bytes) -> int:
    """The first byte that is not whitespace or a UTF-8 byte-order mark (0 for none)."""
    first = raw[0] if raw else 0
    if first not in _BLANK:
        return first
    for byte in raw[:64]:
        if byte not in _BLANK:
            return byte
    return 0


_NO_DETAIL: dict[str, Any] = {}  # shared, never written to
_BLANK = frozenset(b" \t\r\n\xef\xbb\xbf")


def as_bytes(value: Any) -> bytes | None:
    """A blob from the driver (bytes, memoryview, or text in a hand-made table)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def decode_payload(value: Any) -> Payload:
    """An event's (or snapshot's) payload as a JSON object."""
    raw = value if type(value) is bytes else as_bytes(value)
    first = _first_byte(raw) if raw is not None else 0
    if first == 0:
        return Payload({}, {}, "the stored payload is empty")
    if first == 0x3C:  # '<': XStream XML
        return _from_xml(raw)
    if first in (0x7B, 0x5B):  # '{' or '[': Jackson JSON
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return Payload({}, {}, f"the stored payload is not well-formed JSON ({exc})")
        if type(parsed) is not dict:
            return Payload({"value": parsed}, _NO_DETAIL)
        return Payload(parsed, _NO_DETAIL)
    return Payload(
        {},
        {},
        "the stored payload is neither XStream XML nor JSON (another serializer, "
        "e.g. Java serialization or a custom one, which eventscope cannot read)",
    )


def _from_xml(raw: bytes) -> Payload:
    text = raw.decode("utf-8", "replace")
    detail: dict[str, Any] = {"axon.stored_xml": text}
    document = xstream.decode(raw)
    if isinstance(document, xstream.XStreamError):
        return Payload({}, detail, document.message)
    if document.classes:
        detail["axon.java_types"] = document.classes
    if document.references:
        detail["axon.unresolved_references"] = document.references
    data = document.data
    if not isinstance(data, dict):
        return Payload({"value": data}, detail)
    return Payload(data, detail)


def decode_metadata(value: Any) -> tuple[dict[str, Any], str | None]:
    """Axon's MetaData (XStream `<meta-data>` or a JSON object) with eventscope's keys
    added; (metadata, None), or ({}, the reason) when it cannot be read."""
    raw = value if type(value) is bytes else as_bytes(value)
    first = _first_byte(raw) if raw is not None else 0
    if first == 0:
        return {}, None
    if first == 0x3C:
        decoded = xstream.decode_metadata(raw)
        if isinstance(decoded, xstream.XStreamError):
            return {}, decoded.message
        metadata: dict[str, Any] = dict(decoded)
    else:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}, "the stored metadata is not well-formed JSON"
        if type(parsed) is not dict:
            return {}, "the stored metadata is not a JSON object"
        metadata = parsed
    return with_eventscope_keys(metadata), None


def with_eventscope_keys(metadata: dict[str, Any]) -> dict[str, Any]:
    """Add correlation, causation and actor under eventscope's names, when Axon's keys
    carry them and the names are not taken."""
    get = metadata.get
    for axon_key, our_key in METADATA_KEYS:
        value = get(axon_key)
        if type(value) is str and our_key not in metadata:
            metadata[our_key] = value
    if "actor" not in metadata:
        for key in ACTOR_KEYS:
            value = get(key)
            if type(value) is str and value:
                metadata["actor"] = value
                break
    return metadata


def schema_version(revision: str | None) -> int:
    """`payload_revision` (Axon 5: `version`) as a schema version: a whole number as
    itself, anything else (NULL, ``0.0.1``) as 1; the text itself stays in the detail."""
    if revision is not None and revision.isascii() and revision.isdigit():
        number = int(revision)
        if number >= 1:
            return number
    return 1
