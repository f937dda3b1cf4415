"""Walking the hash chain: the verifier behind `EventStore.verify`.

It consumes rows in position order, chunk by chunk (O(1) memory), rebuilds each envelope
from the stored canonical JSON text by concatenation (`store.native.canonical.envelope_bytes`,
no JSON parsing), and reports the first position where the history stops being what
was written:
* a missing position (deleted row)         -> the missing position;
* a hash that does not match (edited, forged or swapped row) -> that row's position;
* with `against=` a digest kept outside the store: a history shorter than the digest
  (truncated tail) -> the first missing position, or a different hash at the digest's
  position (rewritten history) -> that position.

The per-row check lives in `store.native.chain_segment`. A large SQLite store is walked by two
processes (`walk_in_two`): the chain can be cut anywhere, because position N's stored
hash is both the end of the first half's walk (which must reproduce it) and the start
of the second's.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from eventscope.store import helper_process
from eventscope.store.native import chain_segment
from eventscope.store.native.canonical import GENESIS_HASH
from eventscope.store.native.chain_segment import (
    ENVELOPE_TEMPLATE,
    ENVELOPE_TEXT,
    JsonStrings,
    Segment,
    envelope_of_blob_row,
    envelope_of_row,
    walk_segment,
)
from eventscope.store.paging import END
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import BadPosition, Digest, VerifyReport

__all__ = [
    "ENVELOPE_TEMPLATE",
    "ENVELOPE_TEXT",
    "JsonStrings",
    "envelope_of_blob_row",
    "envelope_of_row",
    "walk",
    "walk_in_two",
]

Row = Sequence[Any]
Chunks = Callable[[int, int], Iterable[Sequence[Row]]]  # (after, through) -> row chunks

IN_TWO_FROM = 50_000  # events; below this a second process costs more than it saves
# This process takes a little more than half: the worker also starts Python.
FIRST_SHARE = 0.55


def walk(
    chunks: Iterable[Sequence[Row]],
    *,
    total: int,
    recorded_head: int,
    against: Digest | None = None,
    progress: ProgressCallback | None = None,
    columns: bool = False,
) -> VerifyReport:
    """Verify rows given in position order (JSON and time columns as UTF-8 bytes, see
    `envelope_of_blob_row`); `recorded_head` is the store's own record of its last
    position (a tail deleted without updating it is caught too). `columns`: the rows
    carry the indexed columns and their disagreement flag (`VERIFY_COLUMNS_SQLITE`)."""
    segment = walk_segment(
        chunks, Segment(GENESIS_HASH, 1), _pair(against), _ticker(progress, total), columns
    )
    return verdict(segment, recorded_head, against)


def worth_two(path: Path, total: int) -> bool:
    """Enough events, a file another process can open, and a second core."""
    return total >= IN_TWO_FROM and helper_process.cores() >= 2 and path.is_file()


def walk_in_two(
    path: Path,
    chunks: Chunks,
    *,
    total: int,
    recorded_head: int,
    against: Digest | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyReport:
    """`walk` with the events after position `FIRST_SHARE * total` checked by a second
    process reading the SQLite file at `path` (read-only). The verdict is the one
    `walk` gives: the first half must reproduce the stored hash the second half starts
    from, and the second half's findings only count when the first half found none.
    If the second process fails, or the first half ends short of the split, this
    process walks on by itself."""
    split = max(1, int(total * FIRST_SHARE))
    pair = ["-", "-"] if against is None else [str(against.position), against.hash]
    worker = helper_process.start(chain_segment.__file__, [str(path), str(split), *pair])
    tick = _ticker(progress, total)
    try:
        segment = walk_segment(
            chunks(0, split), Segment(GENESIS_HASH, 1), _pair(against), tick, columns=True
        )
        other = _finish_worker(worker) if segment.expected_position == split + 1 else None
        if other is not None:
            # The second half starts from the stored hash at `split`, exactly where
            # this half's judgement of the next row would start (`walk_segment`).
            for bad in other.bad:
                segment.note(*bad)
            segment.bad_count += other.bad_count - len(other.bad)
            segment.checked += other.checked
            segment.previous, segment.expected_position = other.previous, other.expected_position
        else:
            segment = walk_segment(chunks(split, END), segment, _pair(against), tick, columns=True)
    finally:
        helper_process.stop(worker)
    if tick is not None:
        tick(segment.checked)
    return verdict(segment, recorded_head, against)


def _finish_worker(worker: subprocess.Popen[bytes] | None) -> Segment | None:
    output = helper_process.answer(worker)
    if output is None:
        return None
    try:
        found = orjson.loads(output)
        return Segment(
            bytes.fromhex(found["previous"]),
            int(found["expected_position"]),
            int(found["checked"]),
            [(int(p), str(k), str(r)) for p, k, r in found["bad"]],
            int(found["bad_count"]),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _pair(against: Digest | None) -> tuple[int, str] | None:
    return None if against is None else (against.position, against.hash)


def _ticker(progress: ProgressCallback | None, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda checked: progress(checked, total)


def verdict(segment: Segment, recorded_head: int, against: Digest | None) -> VerifyReport:
    """The report for a finished walk: every bad row, then the checks on the tail."""
    last = segment.expected_position - 1
    if against is not None and against.position > last:
        segment.note(
            last + 1,
            "missing",
            f"the history ends at position {last} but the digest names position "
            f"{against.position}: events were removed from the tail",
        )
    elif recorded_head > last:
        segment.note(
            last + 1,
            "missing",
            f"the history ends at position {last} but the store recorded {recorded_head}",
        )
    head = Digest(last, segment.previous.hex()) if last else Digest(0, GENESIS_HASH.hex())
    return report_of(
        segment.checked, [BadPosition(*bad) for bad in segment.bad], segment.bad_count, head
    )


def report_of(
    checked: int, bad: list[BadPosition], bad_count: int, head: Digest | None
) -> VerifyReport:
    """A report naming `bad` (sorted by position) and counting `bad_count`; `head` is the
    last event's stored hash, which vouches for nothing when something is bad."""
    bad = sorted(bad, key=lambda item: item.position)
    if not bad_count:
        return VerifyReport(ok=True, checked=checked, head=head)
    first = bad[0]
    more = f" ({bad_count:,} bad positions in all)" if bad_count > 1 else ""
    return VerifyReport(
        ok=False,
        checked=checked,
        first_bad_position=first.position,
        reason=first.reason + more,
        head=head,
        bad_positions=tuple(bad),
        bad_count=bad_count,
    )
