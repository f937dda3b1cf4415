"""The hash chain's per-row check, for one run of consecutive positions.

Why a module of its own, importing only stdlib-only parts of eventscope (`store.paging`):
a large SQLite store is verified by two processes (`store.native.chain.walk_in_two`),
and the second one loads this file by path in a bare `python -I`, so it starts in tens
of milliseconds instead of importing SQLAlchemy. `store.native.chain` builds the
verdict from the segments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventscope.store.paging import END, keyset_chunks

Row = Sequence[Any]

# The envelope of store.native.canonical.envelope_bytes as one bytes template: keys in sorted
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

# Columns for `envelope_of_blob_row` on SQLite: JSON and times as UTF-8 bytes.
VERIFY_COLUMNS_SQLITE = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "CAST(data AS BLOB), CAST(metadata AS BLOB), CAST(occurred_at AS BLOB), "
    "CAST(recorded_at AS BLOB), hash"
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

    Equal to `store.native.canonical.envelope_bytes` of the same fields (a Hypothesis test holds
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


@dataclass(slots=True)
class Segment:
    """Where a walk over consecutive positions stands: `previous` is the last checked
    event's hash (raw bytes) and `expected_position` the next position it wants."""

    previous: bytes
    expected_position: int
    checked: int = 0
    bad_position: int | None = None
    reason: str | None = None


def walk_segment(
    chunks: Iterable[Sequence[Row]],
    segment: Segment,
    against: tuple[int, str] | None = None,
    progress: Any = None,
) -> Segment:
    """Check rows in position order (see `envelope_of_blob_row`) from where `segment`
    stands, updating it; stops at the first bad row (`bad_position` and `reason` set).
    `against` is a (position, hash) kept outside the store; `progress(checked)` is
    called after each chunk."""
    sha256 = hashlib.sha256
    strings = JsonStrings()
    previous = segment.previous
    expected_position = segment.expected_position
    checked = segment.checked
    against_position, against_hash = against if against is not None else (-1, "")

    def stop(position: int, reason: str) -> Segment:
        segment.previous, segment.expected_position = previous, expected_position
        segment.checked, segment.bad_position, segment.reason = checked, position, reason
        return segment

    for chunk in chunks:
        for row in chunk:
            position = row[0]
            if position != expected_position:
                return stop(expected_position, f"event {expected_position} is missing")
            try:
                envelope = envelope_of_blob_row(row, strings)
            except (TypeError, AttributeError, ValueError):
                return stop(position, f"event {position} has malformed columns")
            digest = sha256(previous + envelope).digest()
            if digest.hex() != row[11]:
                return stop(position, f"event {position} does not match its hash chain link")
            if position == against_position and row[11] != against_hash:
                return stop(position, f"event {position} differs from the digest kept outside")
            previous = digest
            checked += 1
            expected_position += 1
        if progress is not None:
            progress(checked)
    segment.previous, segment.expected_position, segment.checked = (
        previous,
        expected_position,
        checked,
    )
    return segment


def sqlite_chunks(connection: Any, after: int, through: int, size: int) -> Iterable[Sequence[Row]]:
    """Rows after position `after` through `through`, in keyset chunks of `size`."""
    sql = (
        f"SELECT {VERIFY_COLUMNS_SQLITE} FROM events "  # noqa: S608 -- constant columns
        "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
    )

    def fetch(cursor: int) -> list[Row]:
        rows: list[Row] = connection.execute(sql, (cursor, through, size)).fetchall()
        return rows

    return keyset_chunks(fetch, after, size, lambda row, _cursor: row[0])


def worker_main(argv: list[str]) -> None:
    """Verify a SQLite store's events after position `after` (argv: database path,
    after, against position, against hash) and print the segment as JSON: the second
    process of `store.native.chain.walk_in_two`. Read-only: `mode=ro` and `query_only`."""
    import sqlite3  # noqa: PLC0415 -- only the worker needs it
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    path, after = Path(argv[0]), int(argv[1])
    against = (int(argv[2]), argv[3]) if argv[2] != "-" else None
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA query_only = 1")
        row = connection.execute("SELECT hash FROM events WHERE position = ?", (after,)).fetchone()
        previous = bytes.fromhex(row[0])  # the first half has checked this very hash
        segment = walk_segment(
            sqlite_chunks(connection, after, END, 20000), Segment(previous, after + 1), against
        )
    finally:
        connection.close()
    result = {
        "previous": segment.previous.hex(),
        "expected_position": segment.expected_position,
        "checked": segment.checked,
        "bad_position": segment.bad_position,
        "reason": segment.reason,
    }
    sys.stdout.buffer.write(orjson.dumps(result))
