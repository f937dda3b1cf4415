"""Opening a SQLite file as a native store: probing, connection settings, transactions.

Why it is done this way:
* a file is probed through a separate `mode=ro` connection *before* anything else
  touches it, so opening the wrong file (a text file, another app's database) can never
  change a byte of it;
* pysqlite's own transaction handling is switched off (`isolation_level=None`) and the
  SQLAlchemy "begin" hook emits the BEGIN itself: `BEGIN IMMEDIATE` for writes, because
  a deferred transaction that upgrades to a write gets SQLITE_BUSY without waiting for
  `busy_timeout` (see ../shared/research/reliability.md), a plain BEGIN for reads;
* WAL, `busy_timeout`, and `synchronous=FULL` unless NORMAL is asked for explicitly
  (evidence must survive power loss);
* read-only sessions use a `mode=ro` URI plus `PRAGMA query_only=1`, so the file stays
  byte-identical.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from store.errors import NotAStoreError, SourceNotFound
from store.schema import SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000
# Page cache of a writing connection (SQLite's default is 2 MiB). Appends touch the
# unique (stream_id, version) index at random stream ids; with the default cache a
# million-event load re-reads those pages from the OS over and over (about a fifth of
# the insert's CPU, measured on the demo build). SQLite allocates the cache lazily, so a
# small store never uses it.
WRITE_CACHE_KIB = 65_536
WRITE_OPTION = "eventscope_write"


def probe(path: Path) -> str:
    """Classify a file without writing to it: "store", "empty" (a database with no
    tables, safe to initialise), or raise NotAStoreError with one sentence."""
    if path.is_dir():
        raise NotAStoreError(f"{path} is a directory, not an eventscope store")
    try:
        connection = sqlite3.connect(_ro_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise SourceNotFound(f"cannot open {path}: {exc}") from None
    try:
        try:
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            raise NotAStoreError(
                f"{path} is not an eventscope store (it is not a SQLite database)"
            ) from None
        if not names:
            return "empty"
        if "store_info" not in names:
            raise NotAStoreError(
                f"{path} is a SQLite database but not an eventscope store (no store_info table)"
            )
        try:
            row = connection.execute("SELECT schema_version FROM store_info").fetchone()
        except sqlite3.DatabaseError:
            row = None
        check_schema_version(row[0] if row else None, str(path))
        return "store"
    finally:
        connection.close()


def check_schema_version(version: object, where: str) -> None:
    """Refuse a store whose schema this code does not understand."""
    if not isinstance(version, int):
        raise NotAStoreError(f"{where} has a damaged store_info table, so it cannot be opened")
    if version > SCHEMA_VERSION:
        raise NotAStoreError(
            f"{where} uses store schema version {version}, newer than this eventscope "
            f"supports ({SCHEMA_VERSION}); upgrade eventscope to open it"
        )


def make_engine(path: Path, *, read_only: bool, synchronous: str) -> Engine:
    """An engine whose connections carry the store's settings and transaction modes."""
    uri = _ro_uri(path) if read_only else path.absolute().as_uri()

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
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def enable_wal(engine: Engine) -> None:
    """WAL is a property of the file: set once, when the store is created."""
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute("PRAGMA journal_mode = WAL")


def _ro_uri(path: Path) -> str:
    return path.absolute().as_uri() + "?mode=ro"


# --- write-ahead-log damage ---------------------------------------------------------------
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_WAL_HEADER = struct.Struct(">IIIIIIII")
_FRAME_HEADER = struct.Struct(">IIII")  # page number, db size after commit, salt-1, salt-2
# The -shm index header, native byte order: version, unused, change counter, initialised,
# big-endian checksums, page size, mxFrame (last valid frame), database pages.
_SHM_HEADER = struct.Struct("=IIIBBHII")


def lost_wal_commits(path: Path) -> int:
    """How many committed transactions the WAL beside `path` holds that SQLite cannot read.

    SQLite stops reading a WAL at the first frame whose checksum fails and treats the rest
    as never written, so a damaged WAL makes the store look like an earlier, consistent
    state. This reads (never writes) the WAL file and the index in ``-shm`` after a read
    transaction built it: frames past the last valid one (``mxFrame``) that carry this
    WAL's salts and a commit mark were committed and are now lost. Frames of an older WAL
    generation (other salts) and a torn, uncommitted tail are normal and not counted.
    Returns 0 when there is nothing to tell or it cannot be told (no WAL, no index).
    """
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    try:
        index = _read_head(shm, 96)
        with open(wal, "rb") as handle:
            header = handle.read(_WAL_HEADER.size)
            if len(index) < 96 or len(header) < _WAL_HEADER.size or index[:48] != index[48:]:
                return 0  # no index yet, or a writer is updating it right now
            # The index must describe this WAL generation: its salts are the header's.
            if index[32:40] != header[16:24]:
                return 0
            _v, _u, _c, initialised, _be, _page, mx_frame, _n = _SHM_HEADER.unpack_from(index)
            magic, _version, page_size, _seq, salt1, salt2, _c1, _c2 = _WAL_HEADER.unpack(header)
            if not initialised or magic not in _WAL_MAGIC or page_size < 512:
                return 0
            frame_size = _FRAME_HEADER.size + 8 + page_size
            commits = 0
            last_is_commit = False
            offset = _WAL_HEADER.size + mx_frame * frame_size
            while True:
                handle.seek(offset)
                raw = handle.read(_FRAME_HEADER.size)
                if len(raw) < _FRAME_HEADER.size:
                    break
                _pgno, commit, frame_salt1, frame_salt2 = _FRAME_HEADER.unpack(raw)
                if (frame_salt1, frame_salt2) == (salt1, salt2):
                    commits += 1 if commit else 0
                    last_is_commit = bool(commit)
                offset += frame_size
        if _read_head(shm, 96) != index:
            return 0  # a commit or a checkpoint happened while we looked: no verdict
    except OSError:
        return 0
    # A writer killed while writing its commit frame leaves that frame last and torn: it
    # was never acknowledged, so a commit that is the very last frame does not count.
    return commits - 1 if last_is_commit else commits


def _read_head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)
