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
from eventscope.store.native.catalog_check import catalog_problems
from eventscope.store.native.chain import (
    report_of,
    walk,
    walk_in_two,
    worth_two,
)
from eventscope.store.native.chain_segment import VERIFY_COLUMNS_SQLITE, columns_disagreeing
from eventscope.store.native.database import NativeDatabase
from eventscope.store.native.order_check import head_record_problem, recorded_order_problems
from eventscope.store.native.reading import head_position
from eventscope.store.native.schema import VERIFY_COLUMNS_POSTGRES
from eventscope.store.paging import END, keyset_chunks
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import BadPosition, Digest, VerifyReport

VERIFY_CHUNK = 20000


def verify(
    db: NativeDatabase, against: Digest | None = None, progress: ProgressCallback | None = None
) -> VerifyReport:
    """Walk the whole chain and name every bad position (see `store.native.chain`),
    including rows whose indexed columns disagree with the hashed metadata; then check
    the stream catalog against the events."""
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
            rows = db.fetchall(sql, (cursor, through, VERIFY_CHUNK))
            if db.postgres:  # SQLite computes the flag in SQL (`VERIFY_COLUMNS_SQLITE`)
                return [(*row, bool(columns_disagreeing(row))) for row in rows]
            return rows

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
            columns=True,
        )
    if head_row is None:
        last = report.head.position if report.head else 0
        report = _add(
            report,
            BadPosition(
                last + 1,
                "missing",
                f"the store's record of its last position is missing, so events after "
                f"{last} may have been removed",
            ),
        )
    if not db.postgres:
        report = _check_wal(db, report)
    report = _check_order_and_head(db, report)
    problems, count = catalog_problems(db, chain_intact=report.ok)
    if count:
        more = f" ({count:,} streams in all)" if count > len(problems) else ""
        report = VerifyReport(
            ok=False,
            checked=report.checked,
            first_bad_position=report.first_bad_position,
            reason=report.reason or f"the stream catalog disagrees with the events{more}",
            head=report.head,
            bad_positions=report.bad_positions,
            bad_count=report.bad_count,
            catalog_problems=tuple(problems),
        )
    return report


def _add(report: VerifyReport, bad: BadPosition) -> VerifyReport:
    """`report` with one more bad position."""
    return report_of(
        report.checked, [*report.bad_positions, bad], report.bad_count + 1, report.head
    )


def _check_order_and_head(db: NativeDatabase, report: VerifyReport) -> VerifyReport:
    """Recorded times that go back and a head record that is not the last event's
    (`store.native.order_check`), added to the walk's findings."""
    already = {bad.position for bad in report.bad_positions}
    found, count = recorded_order_problems(db, already)
    head = head_record_problem(db)
    if head is not None and head.position not in already:
        found.append(head)
        count += 1
    if not count:
        return report
    return report_of(
        report.checked, [*report.bad_positions, *found], report.bad_count + count, report.head
    )


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
    return _add(
        report,
        BadPosition(
            last + 1,
            "missing",
            f"the write-ahead log is damaged: {lost} committed transaction(s) after "
            f"position {last} cannot be read",
        ),
    )


def head_digest(db: NativeDatabase) -> Digest:
    """The last event's position and hash (the genesis hash for an empty store)."""
    row = db.fetchone("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
    if row is None:
        return Digest(0, GENESIS_HASH.hex())
    return Digest(row[0], row[1])
