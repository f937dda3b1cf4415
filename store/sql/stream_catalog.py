"""A stream catalog for SQL sources that keep none (Message DB, Axon), cached outside them.

Why: listing and paging streams must not run a GROUP BY over millions of events each
time, and a read-only tool may not add a table to the evidence. So the per-stream numbers
(type, version, count, first/last position and recorded time) are computed with one
index-friendly pass -- GROUP BY over ranges of the source's global position, so each
query walks a primary-key range -- and kept in a small SQLite file in eventscope's cache
folder (`store.cache_dir`), one file per source identity. The first build is one
GROUP BY; the next open only reads the positions added since the last one it saw.

The catalog knows nothing of a source's tables: a source describes itself with a
`CatalogSource` -- a SQL selectable with the columns ``global_position, stream, version,
recorded, stream_type`` and an identity -- and reads pages back as `StreamInfo` rows.

Guards (the cache is a derived claim and must never outlive its source): the file is
keyed by a fingerprint of the identity (server, database, table oid ...); on every
refresh a head below the catalog's last position, or a changed row at that position,
means the source was rewritten or truncated, and the catalog is rebuilt from scratch.
Known limit: a writer that commits a lower global position after the catalog has read a
higher one (PostgreSQL sequences are not commit-ordered) is only seen after a rebuild.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from eventscope.store.cache_dir import cache_folder
from eventscope.store.records import from_micros, parse_timestamp, to_micros
from eventscope.store.source import ProgressCallback
from eventscope.store.sql.fragments import prefix_sql
from eventscope.store.sql.reader import SqlReader

FORMAT = "eventscope-stream-catalog-1"
CACHE_PURPOSE = "stream-catalog"
# Global positions per GROUP BY query when extending: large enough that the per-query
# cost vanishes, small enough that the progress bar moves and a transaction stays short.
CHUNK_POSITIONS = 100_000
_BUSY_MS = 10_000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS streams ("
    " stream_id TEXT PRIMARY KEY, stream_type TEXT NOT NULL, version INTEGER NOT NULL,"
    " event_count INTEGER NOT NULL, first_position INTEGER NOT NULL,"
    " last_position INTEGER NOT NULL, first_micros INTEGER, last_micros INTEGER)",
    "CREATE INDEX IF NOT EXISTS streams_by_type ON streams (stream_type, stream_id)",
)
_UPSERT = (
    "INSERT INTO streams VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET"
    " version = max(version, excluded.version),"
    " event_count = event_count + excluded.event_count,"
    " first_position = min(first_position, excluded.first_position),"
    " last_position = max(last_position, excluded.last_position),"
    " first_micros = min(coalesce(first_micros, excluded.first_micros), excluded.first_micros),"
    " last_micros = max(coalesce(last_micros, excluded.last_micros), excluded.last_micros)"
)
_COLUMNS = "stream_id, stream_type, version, event_count, first_position, last_position"
_INFO_SELECT = f"SELECT {_COLUMNS}, first_micros, last_micros FROM streams"  # noqa: S608


def micros_of(value: Any) -> int | None:
    """A recorded time from the source as microseconds since the epoch: a datetime (naive
    means UTC), ISO 8601 text, or already an integer; None when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_micros(value)  # a naive one means UTC
    if isinstance(value, int):
        return value
    try:
        return to_micros(parse_timestamp(str(value)))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """How a source shows itself to the catalog.

    `selectable` is SQL (no placeholders) usable as ``FROM (<selectable>) s`` with the
    columns ``global_position, stream, version, recorded, stream_type``; keep it simple
    enough for the database to push ``global_position`` ranges into the base table's
    index. `identity` names the source uniquely (server, database, table oid): its
    fingerprint names the cache file. `recorded_micros` turns a `recorded` value into
    microseconds since the epoch.
    """

    reader: SqlReader
    selectable: str
    identity: str
    recorded_micros: Callable[[Any], int | None] = micros_of

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{FORMAT}\n{self.identity}".encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class CatalogStream:
    """One catalog row (times in microseconds since the epoch)."""

    stream_id: str
    stream_type: str
    version: int
    event_count: int
    first_position: int
    last_position: int
    first_micros: int | None
    last_micros: int | None


class StreamCatalog:
    """The cached catalog of one source; `refresh` brings it up to the source's head."""

    def __init__(self, source: CatalogSource, folder: Path | None = None) -> None:
        self._source = source
        self._lock = threading.RLock()
        chosen = folder if folder is not None else cache_folder(CACHE_PURPOSE)
        self.path: Path | None = None
        self._db = self._connect(chosen)
        sel = source.selectable
        self._head_sql = f"SELECT MAX(global_position) FROM ({sel}) s"  # noqa: S608
        self._row_sql = (
            f"SELECT stream, version, recorded, stream_type FROM ({sel}) s "  # noqa: S608
            "WHERE global_position = ?"
        )
        self._range_sql = (
            "SELECT stream, MIN(stream_type), MAX(version), COUNT(*), MIN(global_position),"  # noqa: S608
            f" MAX(global_position), MIN(recorded), MAX(recorded) FROM ({sel}) s"
            " WHERE global_position > ? AND global_position <= ? GROUP BY stream"
        )
        self.rebuilds = 0  # how often the source was found rewritten (for tests, messages)

    # --- the cache file -----------------------------------------------------------------
    def _connect(self, folder: Path | None) -> sqlite3.Connection:
        """The cache file for this source, or an in-memory catalog when caching is off or
        the folder cannot be written (the catalog is then built on every open)."""
        if folder is not None:
            path = folder / f"{self._source.fingerprint}.catalog.sqlite"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                db = self._prepare(sqlite3.connect(path, check_same_thread=False))
                self.path = path
                return db
            except (OSError, sqlite3.Error):
                pass
        return self._prepare(sqlite3.connect(":memory:", check_same_thread=False))

    def _prepare(self, db: sqlite3.Connection) -> sqlite3.Connection:
        db.isolation_level = None
        db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        for statement in _SCHEMA:
            db.execute(statement)
        if self._meta_of(db, "format") != FORMAT or self._meta_of(db, "identity") != (
            self._source.identity
        ):
            self._reset(db)
        return db

    @staticmethod
    def _meta_of(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _reset(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM streams")
            db.execute("DELETE FROM meta")
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("identity", self._source.identity),
                    ("last_position", "0"),
                    ("last_row", "null"),
                    ("events", "0"),
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --- bringing it up to date ---------------------------------------------------------
    @property
    def last_position(self) -> int:
        """The highest global position the catalog has counted."""
        with self._lock:
            return int(self._meta_of(self._db, "last_position") or 0)

    def refresh(self, progress: ProgressCallback | None = None) -> None:
        """Count every position added since the last refresh (rebuilding first when the
        source was rewritten), calling `progress(done, total)` in global positions."""
        with self._lock:
            head_row = self._source.reader.fetchone(self._head_sql)
            head = int(head_row[0]) if head_row and head_row[0] is not None else 0
            last = self.last_position
            if last and (head < last or self._row_at(last) != self._saved_last_row()):
                self.rebuilds += 1
                self._reset(self._db)
                last = 0
            total = head - last
            start = last
            # A first build is one GROUP BY over the whole table: ranges would return
            # every interleaved stream once per range (ten times the rows for ten ranges).
            step = CHUNK_POSITIONS if last else max(total, 1)
            if progress is not None and total:
                progress(0, total)
            while last < head:
                upper = min(last + step, head)
                rows = self._source.reader.fetchall(self._range_sql, (last, upper))
                self._merge(rows)
                last = upper
                if progress is not None:
                    progress(last - start, total)

    def _row_at(self, position: int) -> list[Any] | None:
        row = self._source.reader.fetchone(self._row_sql, (position,))
        if row is None:
            return None
        stream, version, recorded, stream_type = row
        return [stream, int(version), self._source.recorded_micros(recorded), stream_type]

    def _saved_last_row(self) -> list[Any] | None:
        saved = orjson.loads(self._meta_of(self._db, "last_row") or "null")
        return saved if isinstance(saved, list) else None

    def _merge(self, rows: Sequence[Any]) -> None:
        """Add one range's per-stream numbers and move `last_position` to its last row, in
        one transaction (a crash leaves the catalog at the previous range)."""
        micros = self._source.recorded_micros
        values = [
            (
                stream,
                stream_type,
                int(version),
                int(count),
                int(first),
                int(last),
                micros(low),
                micros(high),
            )
            for stream, stream_type, version, count, first, last, low, high in rows
        ]
        added = sum(value[3] for value in values)
        top = max((value[5] for value in values), default=None)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_UPSERT, values)
            events = int(self._meta_of(db, "events") or 0) + added
            updates = [("events", str(events))]
            if top is not None:
                # The guard position is the last real row (never a gap), so a later
                # refresh can check it is still there, unchanged.
                updates.append(("last_position", str(top)))
                updates.append(("last_row", orjson.dumps(self._row_at(top)).decode()))
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", updates)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --- reading ------------------------------------------------------------------------
    def event_count(self) -> int:
        """Events counted so far (every stream's count, summed)."""
        with self._lock:
            return int(self._meta_of(self._db, "events") or 0)

    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[CatalogStream]:
        """Streams ordered by id (code-point order), id > after: keyset paging."""
        if limit <= 0:
            return []
        where, params = self._where(stream_type, prefix)
        if after is not None:
            where.append("stream_id > ?")
            params.append(after)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f"{_INFO_SELECT}{clause} ORDER BY stream_id LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [CatalogStream(*row) for row in rows]

    def stream(self, stream_id: str) -> CatalogStream | None:
        """One catalog row, or None."""
        with self._lock:
            row = self._db.execute(f"{_INFO_SELECT} WHERE stream_id = ?", (stream_id,)).fetchone()
        return CatalogStream(*row) if row else None

    def stream_types(self) -> list[tuple[str, int]]:
        """[(stream_type, number_of_streams)], ordered by type."""
        with self._lock:
            rows = self._db.execute(
                "SELECT stream_type, COUNT(*) FROM streams GROUP BY stream_type ORDER BY 1"
            ).fetchall()
        return [(stream_type, int(count)) for stream_type, count in rows]

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        """Number of streams matching."""
        where, params = self._where(stream_type, prefix)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM streams{clause}", params).fetchone()  # noqa: S608
        return int(row[0])

    @staticmethod
    def _where(stream_type: str | None, prefix: str | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if stream_type is not None:
            where.append("stream_type = ?")
            params.append(stream_type)
        if prefix:
            sql, values = prefix_sql("stream_id", prefix)
            where.append(sql)
            params.extend(values)
        return where, params

    def close(self) -> None:
        with self._lock:
            self._db.close()


def as_datetime(micros: int | None) -> datetime | None:
    """A catalog time back as an aware UTC datetime."""
    return from_micros(micros) if micros is not None else None
