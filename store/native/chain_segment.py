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
from dataclasses import dataclass, field
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

# Columns for `envelope_of_blob_row` on SQLite: JSON and times as UTF-8 bytes, then the
# columns copied out of metadata at append time (filters read them, the hash does not
# cover them) and a flag, computed by SQLite in C, set when one of them disagrees with
# the hashed metadata (`columns_disagreeing` names which).
INDEXED_COLUMNS = ("actor", "correlation_id", "causation_id")
VERIFY_COLUMNS_SQLITE = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "CAST(data AS BLOB), CAST(metadata AS BLOB), CAST(occurred_at AS BLOB), "
    "CAST(recorded_at AS BLOB), hash, actor, correlation_id, causation_id, "
    # A cheap prefilter (one JSON parse per row, in C): also set for non-string values,
    # which `columns_disagreeing` then clears. json_valid guards json_extract's error.
    "CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.actor', "
    "'$.correlation_id', '$.causation_id') IS NOT json_array(actor, correlation_id, "
    "causation_id) ELSE 1 END"
)
# The most bad positions a walk names one by one (`records.BAD_POSITIONS_KEPT`; this
# module imports nothing from eventscope but `store.paging`, see its docstring).
BAD_KEPT = 1000


def columns_disagreeing(row: Row) -> list[str]:
    """Names of the indexed columns (row[12:15]) that differ from the value the hashed
    metadata (row[8], UTF-8 bytes) gives them: a string, or NULL for absent/non-string."""
    try:
        meta = orjson.loads(row[8])
    except (orjson.JSONDecodeError, TypeError):
        return list(INDEXED_COLUMNS)
    if not isinstance(meta, dict):
        return list(INDEXED_COLUMNS)
    names = []
    for offset, name in enumerate(INDEXED_COLUMNS):
        value = meta.get(name)
        if (value if isinstance(value, str) else None) != row[12 + offset]:
            names.append(name)
    return names


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
    """Where a walk over consecutive positions stands: `previous` is the last event's
    stored hash (raw bytes) and `expected_position` the next position it wants; `bad`
    holds the first `BAD_KEPT` (position, kind, reason) found and `bad_count` all."""

    previous: bytes
    expected_position: int
    checked: int = 0
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    bad_count: int = 0

    def note(self, position: int, kind: str, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad) < BAD_KEPT:
            self.bad.append((position, kind, reason))


def walk_segment(
    chunks: Iterable[Sequence[Row]],
    segment: Segment,
    against: tuple[int, str] | None = None,
    progress: Any = None,
    columns: bool = False,
) -> Segment:
    """Check rows in position order (see `envelope_of_blob_row`) from where `segment`
    stands, updating it, to the end: every bad row is noted, not only the first.

    Each event is judged on its own: its hash must follow from its *stored*
    predecessor's hash, so one edited row is one bad position, and a later row whose
    link to the stored chain still holds is not reported. A gap (deleted rows) notes
    every missing position; the row after it cannot be judged (its predecessor is gone).
    `against` is a (position, hash) kept outside the store; `progress(checked)` is
    called after each chunk; with `columns`, rows carry `INDEXED_COLUMNS` and a
    disagreement flag after the hash (`VERIFY_COLUMNS_SQLITE`)."""
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    strings = JsonStrings()
    previous = segment.previous
    expected_position = segment.expected_position
    checked = segment.checked
    against_position, against_hash = against if against is not None else (-1, "")
    note = segment.note

    for chunk in chunks:
        for row in chunk:
            position = row[0]
            stored = row[11]
            linked = True
            if position != expected_position:
                for missing in range(
                    expected_position, min(position, expected_position + BAD_KEPT)
                ):
                    note(missing, "missing", f"event {missing} is missing")
                # Counted beyond what is named, without a loop over a huge gap.
                segment.bad_count += max(0, position - expected_position - BAD_KEPT)
                linked = False
            try:
                envelope = envelope_of_blob_row(row, strings)
            except (TypeError, AttributeError, ValueError):
                note(position, "malformed", f"event {position} has malformed columns")
                envelope = None
            if envelope is not None:
                digest = sha256(previous + envelope).digest()
                if digest.hex() == stored:
                    previous = digest
                else:
                    if linked:
                        note(
                            position, "link", f"event {position} does not match its hash chain link"
                        )
                    try:
                        previous = fromhex(stored)
                    except (TypeError, ValueError):
                        previous = digest
            if position == against_position and stored != against_hash:
                note(position, "digest", f"event {position} differs from the digest kept outside")
            if columns and row[15] and (names := ", ".join(columns_disagreeing(row))):
                note(
                    position,
                    "columns",
                    f"event {position}'s {names} column(s) disagree with its hashed metadata",
                )
            checked += 1
            expected_position = position + 1
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
    import sqlite3  # only the worker needs these imports
    import sys
    from pathlib import Path

    path, after = Path(argv[0]), int(argv[1])
    against = (int(argv[2]), argv[3]) if argv[2] != "-" else None
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA query_only = 1")
        row = connection.execute("SELECT hash FROM events WHERE position = ?", (after,)).fetchone()
        previous = bytes.fromhex(row[0])  # the first half has checked this very hash
        segment = walk_segment(
            sqlite_chunks(connection, after, END, 20000),
            Segment(previous, after + 1),
            against,
            columns=True,
        )
    finally:
        connection.close()
    result = {
        "previous": segment.previous.hex(),
        "expected_position": segment.expected_position,
        "checked": segment.checked,
        "bad": segment.bad,
        "bad_count": segment.bad_count,
    }
    sys.stdout.buffer.write(orjson.dumps(result))
