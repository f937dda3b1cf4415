"""`verify` on the native store: walk the hash chain in O(1) memory (`store.native.chain`),
then the checks a walk alone cannot make -- a missing head record, a damaged WAL.

A large SQLite file is walked by two processes (`chain.walk_in_two`); PostgreSQL and
small files by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from eventscope.store.native import sqlite_backend
from eventscope.store.native.canonical import GENESIS_HASH
from eventscope.store.native.chain import ProgressCallback, walk, walk_in_two, worth_two
from eventscope.store.native.chain_segment import VERIFY_COLUMNS_SQLITE
from eventscope.store.native.database import NativeDatabase
from eventscope.store.native.reading import head_position
from eventscope.store.native.schema import VERIFY_COLUMNS_POSTGRES
from eventscope.store.paging import END, keyset_chunks
from eventscope.store.records import Digest, VerifyReport

VERIFY_CHUNK = 20000


def verify(
    db: NativeDatabase, against: Digest | None = None, progress: ProgressCallback | None = None
) -> VerifyReport:
    """Walk the whole chain; name the first bad position (see `store.native.chain`)."""
    head_row = db.fetchone("SELECT position FROM chain_head WHERE id = 1")
    # A damaged file can lose the head record; the events are still walked, but the
    # report cannot vouch that nothing was cut from the tail (see below).
    recorded_head = head_row[0] if head_row and isinstance(head_row[0], int) else 0
    total = max(recorded_head, head_position(db))
    columns = VERIFY_COLUMNS_POSTGRES if db.postgres else VERIFY_COLUMNS_SQLITE
    sql = (
        f"SELECT {columns} FROM events "  # noqa: S608 -- constant columns
        "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
    )

    def chunks(after: int = 0, through: int = END) -> Iterator[Sequence[Any]]:
        def fetch(cursor: int) -> list[Any]:
            return db.fetchall(sql, (cursor, through, VERIFY_CHUNK))

        return keyset_chunks(fetch, after, VERIFY_CHUNK, _next_position)

    if not db.postgres and worth_two(Path(db.location), total):
        # A second process checks the later half of a large file (`store.native.chain`).
        report = walk_in_two(
            Path(db.location),
            chunks,
            total=total,
            recorded_head=recorded_head,
            against=against,
            progress=progress,
        )
    else:
        report = walk(
            chunks(),
            total=total,
            recorded_head=recorded_head,
            against=against,
            progress=progress,
        )
    if report.ok and head_row is None:
        last = report.head.position if report.head else 0
        return VerifyReport(
            ok=False,
            checked=report.checked,
            first_bad_position=last + 1,
            reason=f"the store's record of its last position is missing, so events after "
            f"{last} may have been removed",
        )
    if report.ok and not db.postgres:
        return _check_wal(db, report)
    return report


def _next_position(row: Any, _cursor: int) -> int:
    return int(row[0])


def _check_wal(db: NativeDatabase, report: VerifyReport) -> VerifyReport:
    """A damaged WAL makes SQLite show an earlier, consistent state; say so instead of
    "ok". Checked twice, with a fresh read between, so a commit landing during the
    first look (frames written, index not yet updated) is not mistaken for damage."""
    path = Path(db.location)
    if not sqlite_backend.lost_wal_commits(path):
        return report
    head_position(db)  # a new read transaction refreshes the WAL index
    lost = sqlite_backend.lost_wal_commits(path)
    if not lost:
        return report
    last = report.head.position if report.head else 0
    return VerifyReport(
        ok=False,
        checked=report.checked,
        first_bad_position=last + 1,
        reason=f"the write-ahead log is damaged: {lost} committed transaction(s) after "
        f"position {last} cannot be read",
        head=report.head,
    )


def head_digest(db: NativeDatabase) -> Digest:
    """The last event's position and hash (the genesis hash for an empty store)."""
    row = db.fetchone("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
    if row is None:
        return Digest(0, GENESIS_HASH.hex())
    return Digest(row[0], row[1])
