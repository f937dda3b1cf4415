"""Walking the hash chain: the verifier behind `EventStore.verify`.

It consumes rows in position order, chunk by chunk (O(1) memory), rebuilds each envelope
from the stored canonical JSON text by concatenation (`store.canonical.envelope_bytes`,
no JSON parsing), and reports the first position where the history stops being what
was written:
* a missing position (deleted row)         -> the missing position;
* a hash that does not match (edited, forged or swapped row) -> that row's position;
* with `against=` a digest kept outside the store: a history shorter than the digest
  (truncated tail) -> the first missing position, or a different hash at the digest's
  position (rewritten history) -> that position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from store.canonical import GENESIS_HASH
from store.records import Digest, VerifyReport

Row = Sequence[Any]
ProgressCallback = Callable[[int, int], None]


# The envelope of store.canonical.envelope_bytes as one bytes template: keys in sorted
# order, strings pre-encoded as JSON literals, integers as %d. One C-level formatting call
# per event is what keeps append and verify off the Python-overhead floor.
ENVELOPE_TEMPLATE = (
    b'{"data":%b,"event_id":%b,"event_type":%b,"metadata":%b,"occurred_at":"%b",'
    b'"position":%d,"recorded_at":"%b","schema_version":%d,"stream_id":%b,'
    b'"stream_type":%b,"version":%d}'
)


# The same envelope as text, for the append path: its fields are already text there
# (canonical JSON, timestamps, ids), so one str formatting and one UTF-8 encode of the
# result replace an encode per field. UTF-8 encoding commutes with concatenation, so the
# bytes are identical (a test holds `ENVELOPE_TEXT % ... .encode()` equal to
# `envelope_bytes`). event_id is a canonical UUID, which needs no JSON escaping.
ENVELOPE_TEXT = (
    '{"data":%s,"event_id":"%s","event_type":%s,"metadata":%s,"occurred_at":"%s",'
    '"position":%d,"recorded_at":"%s","schema_version":%d,"stream_id":%s,'
    '"stream_type":%s,"version":%d}'
)


class JsonStrings:
    """A bounded cache of canonical JSON string literals (stream ids, types and event
    types repeat across rows); cleared when full, so memory stays O(1)."""

    __slots__ = ("_cache",)
    LIMIT = 4096

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}

    def __call__(self, text: str) -> bytes:
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            cached = self._cache[text] = orjson.dumps(text)
        return cached


def envelope_of_row(row: Row, strings: JsonStrings | None = None) -> bytes:
    """The canonical envelope of a stored row (columns in `schema.EVENT_COLUMNS` order).

    Equal to `store.canonical.envelope_bytes` of the same fields (a Hypothesis test holds
    them equal). Raises TypeError/AttributeError on a row whose columns hold the wrong
    types, which `walk` reports as a bad link.
    """
    quote = strings or orjson.dumps
    return ENVELOPE_TEMPLATE % (
        row[7].encode(),
        quote(row[4]),
        quote(row[5]),
        row[8].encode(),
        row[9].encode(),
        row[0],
        row[10].encode(),
        row[6],
        quote(row[1]),
        quote(row[2]),
        row[3],
    )


def envelope_of_blob_row(row: Row, strings: JsonStrings) -> bytes:
    """Like `envelope_of_row`, for rows whose data, metadata, occurred_at and recorded_at
    columns were fetched as UTF-8 bytes (`VERIFY_COLUMNS_*` in the store): no decode to
    str and re-encode, which roughly doubles verify throughput."""
    return ENVELOPE_TEMPLATE % (
        row[7],
        orjson.dumps(row[4]),
        strings(row[5]),
        row[8],
        row[9],
        row[0],
        row[10],
        row[6],
        strings(row[1]),
        strings(row[2]),
        row[3],
    )


def walk(
    chunks: Iterable[Sequence[Row]],
    *,
    total: int,
    recorded_head: int,
    against: Digest | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Verify rows given in position order (JSON and time columns as UTF-8 bytes, see
    `envelope_of_blob_row`); `recorded_head` is the store's own record of its last
    position (a tail deleted without updating it is caught too)."""
    sha256 = hashlib.sha256
    strings = JsonStrings()
    previous = GENESIS_HASH
    expected_position = 1
    checked = 0
    for chunk in chunks:
        for row in chunk:
            position = row[0]
            if position != expected_position:
                return _bad(checked, expected_position, f"event {expected_position} is missing")
            try:
                envelope = envelope_of_blob_row(row, strings)
            except (TypeError, AttributeError, ValueError):
                return _bad(checked, position, f"event {position} has malformed columns")
            digest = sha256(previous + envelope).digest()
            if digest.hex() != row[11]:
                return _bad(
                    checked, position, f"event {position} does not match its hash chain link"
                )
            if against is not None and position == against.position and row[11] != against.hash:
                return _bad(
                    checked, position, f"event {position} differs from the digest kept outside"
                )
            previous = digest
            checked += 1
            expected_position += 1
        if progress is not None:
            progress(checked, total)
    last = expected_position - 1
    if against is not None and against.position > last:
        return _bad(
            checked,
            last + 1,
            f"the history ends at position {last} but the digest names position "
            f"{against.position}: events were removed from the tail",
        )
    if recorded_head > last:
        return _bad(
            checked,
            last + 1,
            f"the history ends at position {last} but the store recorded {recorded_head}",
        )
    head = Digest(last, previous.hex()) if last else Digest(0, GENESIS_HASH.hex())
    return VerifyReport(ok=True, checked=checked, first_bad_position=None, head=head)


def _bad(checked: int, position: int, reason: str) -> VerifyReport:
    return VerifyReport(ok=False, checked=checked, first_bad_position=position, reason=reason)
