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


def envelope_of_row(row: Row) -> bytes:
    """The canonical envelope of a stored row (columns in `schema.EVENT_COLUMNS` order).

    Inlined equivalent of `store.canonical.envelope_bytes` (a test holds them equal); it
    is the inner loop of verify, so it avoids keyword-argument calls.
    """
    dumps = orjson.dumps
    return b"".join(
        (
            b'{"data":',
            row[7].encode(),
            b',"event_id":',
            dumps(row[4]),
            b',"event_type":',
            dumps(row[5]),
            b',"metadata":',
            row[8].encode(),
            b',"occurred_at":"',
            row[9].encode(),
            b'","position":',
            str(row[0]).encode(),
            b',"recorded_at":"',
            row[10].encode(),
            b'","schema_version":',
            str(row[6]).encode(),
            b',"stream_id":',
            dumps(row[1]),
            b',"stream_type":',
            dumps(row[2]),
            b',"version":',
            str(row[3]).encode(),
            b"}",
        )
    )


def walk(
    chunks: Iterable[Sequence[Row]],
    *,
    total: int,
    recorded_head: int,
    against: Digest | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Verify rows given in position order; `recorded_head` is the store's own record of
    its last position (a tail deleted without updating it is caught too)."""
    sha256 = hashlib.sha256
    previous = GENESIS_HASH
    expected_position = 1
    checked = 0
    for chunk in chunks:
        for row in chunk:
            position = row[0]
            if position != expected_position:
                return _bad(checked, expected_position, f"event {expected_position} is missing")
            digest = sha256(previous + envelope_of_row(row)).digest()
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
