"""Canonical JSON (RFC 8785 / JCS) and the event hash chain.

This module is the specification an auditor re-implements, so it is written to be read:

* canonical JSON is RFC 8785: object keys sorted by UTF-16 code units, no insignificant
  whitespace, UTF-8, strings escaped minimally (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t`` and
  ``\\u00xx`` for the other control characters), numbers in ECMAScript form;
* NaN and Infinity are rejected; integers whose magnitude exceeds 2**53 are **rejected**
  (they cannot round-trip through an IEEE double, so two readers could disagree);
* lone surrogates, non-string keys, and nesting deeper than ``MAX_DEPTH`` are rejected;
* the chain: ``hash_n = SHA-256(hash_{n-1} || canonical(envelope_n))`` over raw bytes, with
  ``hash_0`` = 32 zero bytes; the envelope is the JSON object of the event's fields named in
  ``ENVELOPE_FIELDS``; hashes are stored as lowercase hex.

The fast path uses orjson (identical output for payloads without floats and with ASCII
keys, which a Hypothesis test checks against the reference `rfc8785` package); everything
else goes through the small pure-Python serializer below.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

import orjson
from eventscope.store.errors import InvalidEvent

MAX_SAFE_INTEGER = 2**53
MAX_DEPTH = 200
GENESIS_HASH = bytes(32)
ENVELOPE_FIELDS = (
    "data",
    "event_id",
    "event_type",
    "metadata",
    "occurred_at",
    "position",
    "recorded_at",
    "schema_version",
    "stream_id",
    "stream_type",
    "version",
)

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical bytes of a JSON value, or raise InvalidEvent."""
    if _fast_path_ok(value, 0):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:  # e.g. lone surrogates
            raise InvalidEvent(f"payload is not valid JSON: {exc}") from None
    return _careful(value)


def canonical_text(value: Any) -> str:
    """`canonical_json` decoded: the same canonical JSON as text, or raise InvalidEvent.

    Why a separate entry point: the append path keeps the text (it is what the store
    binds) and orjson hands back a 1 KiB buffer shrunk to fit, which, when kept alive
    by the thousand, fragments the C heap and costs a page fault each (measured: ~2 us
    per event vs ~0.2 us when the bytes are decoded and dropped at once)."""
    if _fast_path_ok(value, 0):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError as exc:  # e.g. lone surrogates
            raise InvalidEvent(f"payload is not valid JSON: {exc}") from None
    return _careful(value).decode()


def _careful(value: Any) -> bytes:
    """The pure-Python serializer, for values orjson might print differently."""
    parts: list[str] = []
    _write(value, parts, 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent("payload holds a lone surrogate, which is not valid UTF-8") from None


def _fast_path_ok(value: Any, depth: int) -> bool:
    """Validate the tree; True when orjson's output is guaranteed to equal JCS output.

    Scalars inside containers are checked inline (this runs for every appended event).
    Floats qualify when non-integral with 1e-4 <= |x| < 1e15: there orjson, Python's
    repr and ECMAScript all print the same shortest fixed-notation digits (checked by a
    test); other floats (5.0, 1e21, 1e-7) take the careful path.
    """
    if depth > MAX_DEPTH:
        raise InvalidEvent(f"payload is nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is dict:
        ok = True
        for key, item in value.items():
            if type(key) is not str:
                raise InvalidEvent(f"payload has a non-string object key {key!r}")
            if not key.isascii():
                ok = False
            item_kind = type(item)
            if item_kind is str or item is None or item_kind is bool:
                continue
            if item_kind is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            if not _fast_path_ok(item, depth + 1):
                ok = False
        return ok
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return True
        raise InvalidEvent(
            "payload holds an integer beyond 2^53, which JSON readers cannot agree on; "
            "store it as a string"
        )
    if kind is list or kind is tuple:
        ok = True
        for item in value:
            if not _fast_path_ok(item, depth + 1):
                ok = False
        return ok
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            raise InvalidEvent("payload holds NaN or Infinity, which JSON cannot represent")
        return 1e-4 <= abs(value) < 1e15 and not value.is_integer()
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float | str | dict | list):
        return False  # subclasses: take the careful path
    raise InvalidEvent(f"payload holds a {type(value).__name__}, which is not a JSON value")


def _write(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidEvent(f"payload is nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise InvalidEvent(
                "payload holds an integer beyond 2^53, which JSON readers cannot agree on; "
                "store it as a string"
            )
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(format_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise InvalidEvent(f"payload has a non-string object key {key!r}")
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, depth + 1)
        out.append("]")
    else:
        raise InvalidEvent(f"payload holds a {type(value).__name__}, which is not a JSON value")


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def format_number(value: float) -> str:
    """ECMAScript Number::toString for a finite double (RFC 8785 section 3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise InvalidEvent("payload holds NaN or Infinity, which JSON cannot represent")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digit string that round-trips, as ECMAScript requires.
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    k = len(digits)
    n = int(digits_tuple.exponent) + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        body = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + body


def json_string(text: str) -> bytes:
    """A canonical JSON string literal (used to assemble envelopes without re-parsing).

    orjson's string escaping is byte-identical to RFC 8785's (checked by a test).
    """
    return orjson.dumps(text)


def envelope_bytes(
    *,
    position: int,
    stream_id: str,
    stream_type: str,
    version: int,
    event_id: str,
    event_type: str,
    schema_version: int,
    data_json: bytes,
    metadata_json: bytes,
    occurred_at: str,
    recorded_at: str,
) -> bytes:
    """Canonical bytes of an event's envelope, from already-canonical payload bytes.

    Equal to ``canonical_json({...})`` of the same fields (a test holds this), but needs no
    parsing, which is what lets `verify` run at hundreds of thousands of events a second.
    """
    return b"".join(
        (
            b'{"data":',
            data_json,
            b',"event_id":',
            json_string(event_id),
            b',"event_type":',
            json_string(event_type),
            b',"metadata":',
            metadata_json,
            b',"occurred_at":"',
            occurred_at.encode("ascii"),
            b'","position":',
            str(position).encode("ascii"),
            b',"recorded_at":"',
            recorded_at.encode("ascii"),
            b'","schema_version":',
            str(schema_version).encode("ascii"),
            b',"stream_id":',
            json_string(stream_id),
            b',"stream_type":',
            json_string(stream_type),
            b',"version":',
            str(version).encode("ascii"),
            b"}",
        )
    )


def chain_hash(previous_hash_hex: str | None, envelope: bytes) -> str:
    """``SHA-256(previous || envelope)`` as lowercase hex; None means the genesis value."""
    previous = GENESIS_HASH if previous_hash_hex is None else bytes.fromhex(previous_hash_hex)
    return hashlib.sha256(previous + envelope).hexdigest()
