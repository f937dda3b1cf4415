"""The native store's SQLite file: probing before opening, WAL, and WAL damage.

Why it is done this way:
* a file is probed through a separate read-only connection *before* anything else
  touches it, so opening the wrong file (a text file, another app's database) can never
  change a byte of it;
* WAL is a property of the file, set once when the store is created; connections and
  their transaction modes are `store.sql.sqlite`'s (read-only ones keep the file
  byte-identical);
* a damaged WAL makes SQLite show an earlier, consistent state, so `verify` asks
  `lost_wal_commits` whether committed transactions became unreadable.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from eventscope.store.errors import NotAStoreError, SourceNotFound
from eventscope.store.native.schema import check_store_info
from eventscope.store.sql.file_peek import peek
from eventscope.store.sql.sqlite import connect_read_only
from sqlalchemy import Engine


def probe(path: Path) -> str:
    """Classify a file without writing to it: "store", "empty" (a database with no
    tables, safe to initialise), or raise NotAStoreError with one sentence."""
    if path.is_dir():
        raise NotAStoreError(f"{path} is a directory, not an eventscope store")
    try:
        connection = connect_read_only(path)
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
            row = connection.execute(
                "SELECT schema_version, hash_algorithm FROM store_info"
            ).fetchone()
        except sqlite3.DatabaseError:
            row = None
        check_store_info(row[0] if row else None, row[1] if row else None, str(path))
        return "store"
    finally:
        connection.close()


def enable_wal(engine: Engine) -> None:
    """WAL is a property of the file: set once, when the store is created."""
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute("PRAGMA journal_mode = WAL")


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
    The files are read through `file_peek`: a plain open and close would drop this
    process's SQLite locks on them.
    """
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    try:
        index = peek(shm, 96)
        header = peek(wal, _WAL_HEADER.size)
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
            raw = peek(wal, _FRAME_HEADER.size, offset)
            if len(raw) < _FRAME_HEADER.size:
                break
            _pgno, commit, frame_salt1, frame_salt2 = _FRAME_HEADER.unpack(raw)
            if (frame_salt1, frame_salt2) == (salt1, salt2):
                commits += 1 if commit else 0
                last_is_commit = bool(commit)
            offset += frame_size
        if peek(shm, 96) != index:
            return 0  # a commit or a checkpoint happened while we looked: no verdict
    except OSError:
        return 0
    # A writer killed while writing its commit frame leaves that frame last and torn: it
    # was never acknowledged, so a commit that is the very last frame does not count.
    return commits - 1 if last_is_commit else commits
