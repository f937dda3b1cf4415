"""eventscope's own reads of a SQLite file must never release SQLite's locks on it.

POSIX fcntl locks belong to the process and vanish when it closes *any* descriptor of the
file. A detection read or the WAL damage check done with open()/close() while a writer in
the same process holds its lock lets another process write (or truncate the -shm index
under our mapping: the SIGBUS CI once hit). Each test holds a real write lock in this
process, runs eventscope's reads, and asks a second process to take the same lock: it must
be told the database is locked.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from eventscope.store import EventStore, NewEvent, NotAStoreError
from eventscope.store.native import sqlite_backend
from eventscope.store.open import detect_file

_TRY_WRITE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    connection.execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError as exc:
    print("refused:", exc)
else:
    print("took the write lock")
"""


def _other_process_can_write(path: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", _TRY_WRITE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.startswith("took")


@pytest.fixture
def locked_store(tmp_path: Path):
    """A native store in WAL mode with a write transaction held open by this process."""
    path = tmp_path / "held.db"
    store = EventStore.open(path)
    store.append("acct-1", [NewEvent("Opened", {"n": i}) for i in range(3)])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    assert not _other_process_can_write(path)  # the lock really is held
    yield path
    holder.rollback()
    holder.close()
    store.close()


def test_detecting_the_file_kind_keeps_the_lock(tmp_path: Path) -> None:
    """Another application's database in rollback-journal mode: its write lock is on the
    database file itself, the file detection reads."""
    path = tmp_path / "other-app.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert not _other_process_can_write(path)
        for _ in range(2):
            with pytest.raises(NotAStoreError):
                detect_file(path)
        assert not _other_process_can_write(path)
    finally:
        holder.rollback()
        holder.close()


def test_the_wal_damage_check_keeps_the_lock(locked_store: Path) -> None:
    assert sqlite_backend.lost_wal_commits(locked_store) == 0
    assert not _other_process_can_write(locked_store)


def test_verify_and_reopening_keep_the_lock(locked_store: Path) -> None:
    reviewer = EventStore.open(locked_store, read_only=True)
    try:
        assert reviewer.verify().ok
    finally:
        reviewer.close()
    assert not _other_process_can_write(locked_store)
