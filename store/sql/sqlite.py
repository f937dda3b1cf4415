"""SQLite connections for every source: read-only ones that cannot change a byte of the
file, and the native store's writing ones.

Why it is done this way:
* read-only means a `mode=ro` URI *and* `PRAGMA query_only=1`: either alone refuses
  writes, together they hold even when one is switched off by a raw connection;
* pysqlite's own transaction handling is switched off (`isolation_level=None`) and the
  SQLAlchemy "begin" hook emits the BEGIN itself: `BEGIN IMMEDIATE` for writes, because
  a deferred transaction that upgrades to a write gets SQLITE_BUSY without waiting for
  `busy_timeout` (see ../shared/research/reliability.md), a plain BEGIN for reads;
* `busy_timeout` on every connection, and `synchronous=FULL` for writers unless NORMAL
  is asked for explicitly (evidence must survive power loss).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 10_000
# Page cache of a writing connection (SQLite's default is 2 MiB). Appends touch the
# unique (stream_id, version) index at random stream ids; with the default cache a
# million-event load re-reads those pages from the OS over and over (about a fifth of
# the insert's CPU, measured on the demo build). SQLite allocates the cache lazily, so a
# small store never uses it.
WRITE_CACHE_KIB = 65_536
# An execution option: a SQLAlchemy transaction on a connection carrying it begins with
# BEGIN IMMEDIATE (the native store's writes).
WRITE_OPTION = "eventscope_write"


def read_only_uri(path: Path) -> str:
    """The `mode=ro` URI of a file (the path is percent-encoded, so `?` and `#` in a file
    name are never read as URI syntax)."""
    return path.absolute().as_uri() + "?mode=ro"


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection that cannot write (for probing and detection)."""
    connection = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
    connection.execute("PRAGMA query_only = 1")
    return connection


def make_engine(path: Path, *, read_only: bool, synchronous: str = "FULL") -> Engine:
    """An engine whose connections carry these settings; read-only ones cannot write."""
    uri = read_only_uri(path) if read_only else path.absolute().as_uri()

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(
            uri,
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only:
            connection.execute("PRAGMA query_only = 1")
        else:
            connection.execute(f"PRAGMA synchronous = {synchronous}")
            connection.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
        return connection

    engine = create_engine(
        "sqlite://",
        creator=connect,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=32,
        pool_timeout=60,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
