"""The native event store on SQLite or PostgreSQL: append-only events with a hash chain,
a stream catalog, snapshots, checkpoints and projection rows.

Design choices (why):
* one SQL text for both backends, written with ``?`` placeholders and translated to
  ``%s`` for psycopg; all user text travels as bound parameters, never in SQL text;
* appends run in one transaction under the write lock (SQLite ``BEGIN IMMEDIATE``,
  PostgreSQL ``pg_advisory_xact_lock``): the head row gives the next position and the
  previous hash, so positions are contiguous and commit order equals position order;
* payloads are validated and canonicalised *before* the lock is taken, and the insert
  is a driver-level ``executemany`` of tuples (the budget in DESIGN.md);
* idempotency rests on the UNIQUE(event_id) constraint: the fast path just inserts, and
  only a constraint violation or a version mismatch looks the ids up to decide between
  "return the original records" and a clear error;
* reads fetch in keyset chunks and decode after the connection is returned, so an
  abandoned iterator never pins a connection or a long read transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from store import postgres_backend, sqlite_backend
from store.appending import (
    PreparedBatch,
    StreamState,
    VersionMismatch,
    check_prepared,
    now_text,
    prepare_batches,
    same_content,
    write_prepared,
)
from store.canonical import GENESIS_HASH, canonical_json
from store.chain import ProgressCallback, walk, walk_in_two, worth_two
from store.errors import (
    ConcurrencyError,
    IdempotencyConflict,
    InvalidEvent,
    NotAStoreError,
    ReadOnlyError,
    SourceNotFound,
    StoreError,
)
from store.filters import filter_sql, stream_where
from store.records import (
    ANY,
    Digest,
    ExpectedVersion,
    NewEvent,
    ProjectionRow,
    RecordedEvent,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    format_timestamp,
)
from store.rows import (
    STREAM_EVENT_COLUMNS,
    event_from_row,
    snapshot_from_row,
    stream_events,
    stream_from_row,
    ts,
)
from store.schema import (
    EVENT_COLUMNS,
    HASH_ALGORITHM,
    SCHEMA_VERSION,
    VERIFY_COLUMNS_POSTGRES,
    VERIFY_COLUMNS_SQLITE,
    metadata,
)
from store.source import EventFilter

_loads = orjson.loads

READ_CHUNK = 5000  # read_all: keyset chunks over the whole log
# read_all with a filter: when more than 1 in DENSE_SHARE positions match, walking the
# log in order beats the filter's index (measured on a 1M-event demo).
DENSE_SHARE = 8
STREAM_CHUNK = 20_000  # read_stream: most streams in one query (the 1.3x budget)
VERIFY_CHUNK = 20000
IN_CHUNK = 500
DEFAULT_MAX_PAYLOAD = 1_048_576

_STATE_SQL = (
    "SELECT stream_id, stream_type, version, first_recorded_at, first_position, last_position "
    "FROM streams WHERE stream_id IN "
)


class _Writer:
    """A driver cursor inside the store's write transaction, with ``?`` placeholders
    translated for the backend."""

    __slots__ = ("_cursor", "_q")

    def __init__(self, cursor: Any, translate: Callable[[str], str]) -> None:
        self._cursor = cursor
        self._q = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cursor.execute(self._q(sql), params)
        return self._cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(self._q(sql), rows)


class EventStore:
    """A native eventscope store; implements `store.source.EventSource` plus the writes.

    `read_all(backwards=True)` yields positions below `from_position` (0 = from the head)
    in descending order, down to and including `to_position` when given.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        dialect: str,
        location: str,
        read_only: bool,
        lock_key: int = 0,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self._engine = engine
        self._dialect = dialect
        self._location = location
        self._read_only = read_only
        self._lock_key = lock_key
        self._max_payload = max_payload_bytes
        self._pg = dialect == "postgresql"
        self._sql_cache: dict[str, str] = {}
        driver = engine.dialect.loaded_dbapi
        # Raw driver errors (the hot paths use driver cursors) and SQLAlchemy's wrappers.
        self._integrity_errors: tuple[type[BaseException], ...] = (
            IntegrityError,
            driver.IntegrityError,
        )
        self._driver_errors: tuple[type[BaseException], ...] = (DBAPIError, driver.Error)

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        location: str | Path,
        read_only: bool = False,
        *,
        schema: str | None = None,
        synchronous: str = "FULL",
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> EventStore:
        """Open (or create, unless `read_only`) a store at a path or SQLAlchemy URL.

        A PostgreSQL store lives in `schema` (default "public"; a URL may also say
        ``?schema=NAME``). A SQLite file that is not a store raises NotAStoreError, a
        missing one is created unless `read_only` (then SourceNotFound).
        """
        text = str(location)
        if "://" in text:
            try:
                url = make_url(text)
            except ArgumentError:
                raise SourceNotFound(f"{text!r} is not a valid database URL") from None
            backend = url.get_backend_name()
            if backend == "sqlite":
                if not url.database or url.database == ":memory:":
                    raise SourceNotFound("an eventscope store on SQLite needs a file path")
                return cls._open_sqlite(
                    Path(url.database), read_only, synchronous, max_payload_bytes
                )
            if backend == "postgresql":
                # `?schema=NAME` selects a schema from the command line (not a libpq key).
                url_schema = url.query.get("schema")
                url = url.difference_update_query(["schema"])
                if isinstance(url_schema, tuple):
                    url_schema = url_schema[-1]
                chosen = schema or url_schema or "public"
                return cls._open_postgres(url, read_only, chosen, max_payload_bytes)
            raise SourceNotFound(
                f"eventscope stores live in SQLite or PostgreSQL, not {backend!r} databases"
            )
        return cls._open_sqlite(Path(text).expanduser(), read_only, synchronous, max_payload_bytes)

    @classmethod
    def _open_sqlite(
        cls, path: Path, read_only: bool, synchronous: str, max_payload: int
    ) -> EventStore:
        mode = synchronous.upper()
        if mode not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        if path.exists():
            state = sqlite_backend.probe(path)
            if state == "empty" and read_only:
                raise NotAStoreError(f"{path} is an empty SQLite database, not an eventscope store")
        else:
            if read_only:
                raise SourceNotFound(f"there is no file at {path}")
            if not path.parent.is_dir():
                raise SourceNotFound(
                    f"cannot create {path}: the directory {path.parent} does not exist"
                )
            state = "new"
        engine = sqlite_backend.make_engine(path, read_only=read_only, synchronous=mode)
        store = cls(
            engine,
            dialect="sqlite",
            location=str(path),
            read_only=read_only,
            max_payload_bytes=max_payload,
        )
        if state != "store":
            try:
                sqlite_backend.enable_wal(engine)
                store._initialise()
            except DBAPIError as exc:
                engine.dispose()
                raise SourceNotFound(f"cannot create a store at {path}: {exc.orig}") from None
        return store

    @classmethod
    def _open_postgres(cls, url: Any, read_only: bool, schema: str, max_payload: int) -> EventStore:
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        postgres_backend.validate_schema(schema)
        engine = postgres_backend.make_engine(url, schema=schema, read_only=read_only)
        postgres_backend.check_connection(engine, url)
        location = postgres_backend.safe_location(url)
        if schema != "public":
            location = f"{location} (schema {schema})"
        store = cls(
            engine,
            dialect="postgresql",
            location=location,
            read_only=read_only,
            lock_key=postgres_backend.lock_key(schema),
            max_payload_bytes=max_payload,
        )
        with engine.connect() as conn:
            exists = conn.exec_driver_sql("SELECT to_regclass('store_info')").scalar()
            version = None
            if exists:
                version = conn.exec_driver_sql("SELECT schema_version FROM store_info").scalar()
        if exists:
            sqlite_backend.check_schema_version(version, location)
        elif read_only:
            engine.dispose()
            raise NotAStoreError(f"{location} holds no eventscope store")
        else:
            with engine.connect() as conn, conn.begin():
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            store._initialise()
        return store

    def _initialise(self) -> None:
        """Create the tables and the two one-row tables, once, under the write lock."""
        with self._writing_sa() as conn:
            metadata.create_all(conn)
            conn.exec_driver_sql(
                self._q(
                    "INSERT INTO store_info (id, schema_version, hash_algorithm, created_at) "
                    "VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
                ),
                (SCHEMA_VERSION, HASH_ALGORITHM, now_text()),
            )
            conn.exec_driver_sql(
                "INSERT INTO chain_head (id, position, hash, recorded_at) "
                "VALUES (1, 0, NULL, NULL) ON CONFLICT (id) DO NOTHING"
            )

    # --- plumbing -----------------------------------------------------------------------
    def _q(self, sql: str) -> str:
        """Translate ``?`` placeholders for psycopg (cached)."""
        if not self._pg:
            return sql
        cached = self._sql_cache.get(sql)
        if cached is None:
            cached = self._sql_cache[sql] = sql.replace("?", "%s")
        return cached

    @contextmanager
    def _writing(self) -> Iterator[_Writer]:
        """A write transaction holding the store's write lock, on the driver connection.

        The hot write path skips SQLAlchemy's execution layer (about a third of a
        single-event append otherwise); SQLAlchemy still pools the connections.
        """
        with self._engine.connect() as conn:
            dbapi = conn.connection
            cursor = dbapi.cursor()
            try:
                if self._pg:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                else:
                    cursor.execute("BEGIN IMMEDIATE")
                yield _Writer(cursor, self._q)
                dbapi.commit()
            except BaseException as exc:
                dbapi.rollback()
                if isinstance(exc, self._integrity_errors):
                    raise  # append decides: an idempotent retry, or a clear error
                if isinstance(exc, self._driver_errors):
                    raise StoreError(
                        f"the database refused the write: {_first_line(exc)}"
                    ) from None
                raise
            finally:
                cursor.close()

    @contextmanager
    def _writing_sa(self) -> Iterator[Connection]:
        """A write transaction through SQLAlchemy (for DDL), under the same lock."""
        with self._engine.connect() as conn:
            if self._pg:
                with conn.begin():
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    yield conn
            else:
                conn.execution_options(**{sqlite_backend.WRITE_OPTION: True})
                with conn.begin():
                    yield conn

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one SELECT through the driver's cursor: plain tuples, no result-object
        layer (a quarter of `read_stream`'s time otherwise). One statement is its own
        read transaction; the pool rolls the connection back on return."""
        try:
            with self._engine.connect() as conn:
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(self._q(sql), tuple(params))
                    return cursor.fetchall()
                finally:
                    cursor.close()
        except DBAPIError as exc:
            raise self._read_error(exc.orig) from None
        except self._engine.dialect.loaded_dbapi.Error as exc:
            raise self._read_error(exc) from None

    def _read_error(self, exc: BaseException) -> StoreError:
        """A driver error while reading (a damaged file, a lost server) as one sentence:
        evidence that cannot be read is reported, never shown as a traceback."""
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = lines[0].rstrip(".") if lines else type(exc).__name__
        return StoreError(f"cannot read the store at {self._location}: {reason}")

    def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    def _require_writable(self, action: str) -> None:
        if self._read_only:
            raise ReadOnlyError(f"this store was opened read-only, so it cannot {action}")

    def close(self) -> None:
        """Release connections and files."""
        self._engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> SourceInfo:
        kind = "native-postgresql" if self._pg else "native-sqlite"
        return SourceInfo(
            kind=kind, location=self._location, read_only=self._read_only, has_hash_chain=True
        )

    # --- appending ----------------------------------------------------------------------
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion | int = ANY,
        stream_type: str | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one stream atomically; see `append_streams`."""
        return self.append_streams([(stream_id, events, expected_version, stream_type)])[0]

    def append_streams(
        self, batches: Iterable[Sequence[Any]], *, return_records: bool = True
    ) -> list[list[RecordedEvent]]:
        """Append to several streams in one atomic transaction.

        Each item is ``(stream_id, events, expected_version=ANY, stream_type=None)``. If
        every event id is already stored with identical content the original records are
        returned and nothing is written (a safe retry); otherwise a version mismatch
        raises ConcurrencyError and nothing of any batch is stored. With
        ``return_records=False`` nothing is decoded back into records and each batch's
        list is empty unless the append was such a retry (bulk loads: `head_position()`
        says where the chain ends).
        """
        self._require_writable("append events")
        return self.append_prepared(
            prepare_batches(batches, self._max_payload), return_records=return_records
        )

    def append_prepared(
        self, batches: list[PreparedBatch], *, return_records: bool = True
    ) -> list[list[RecordedEvent]]:
        """`append_streams` for items already validated and canonicalised by
        `store.appending.prepare_batch` (pure code, so it may run in another process);
        the size limit and duplicate ids are checked again here."""
        self._require_writable("append events")
        if not check_prepared(batches, self._max_payload):
            return [[] for _ in batches]
        try:
            return write_prepared(self, batches, records=return_records)
        except VersionMismatch as mismatch:
            originals = self._originals(batches)
            if originals is not None:
                return originals
            raise ConcurrencyError(*mismatch.args_) from None
        except self._integrity_errors as exc:
            originals = self._originals(batches)
            if originals is not None:
                return originals
            raise StoreError(f"the database refused the append: {_first_line(exc)}") from None

    def _stream_states(self, writer: _Writer, stream_ids: set[str]) -> dict[str, StreamState]:
        states: dict[str, StreamState] = {}
        ids = sorted(stream_ids)
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            result = writer.execute(_STATE_SQL + f"({marks})", tuple(chunk)).fetchall()
            for stream_id, stream_type, version, first_at, first_pos, last_pos in result:
                states[stream_id] = StreamState(
                    stream_type, version, first_at, first_pos, True, last_pos
                )
        return states

    def _save_streams(
        self, writer: _Writer, touched: dict[str, StreamState], recorded_at: str
    ) -> None:
        new_rows = []
        updates = []
        for stream_id, state in touched.items():
            # A stream's last event is the batch's last for it; positions only grow.
            last_recorded_at = state.last_recorded_at or recorded_at
            if state.exists:
                updates.append(
                    (state.version, state.version, last_recorded_at, state.last_position, stream_id)
                )
            else:
                new_rows.append(
                    (
                        stream_id,
                        state.stream_type,
                        state.version,
                        state.version,
                        state.first_recorded_at,
                        last_recorded_at,
                        state.first_position,
                        state.last_position,
                    )
                )
        if new_rows:
            writer.executemany(
                "INSERT INTO streams (stream_id, stream_type, version, event_count, "
                "first_recorded_at, last_recorded_at, first_position, last_position) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                new_rows,
            )
        if updates:
            writer.executemany(
                "UPDATE streams SET version = ?, event_count = ?, last_recorded_at = ?, "
                "last_position = ? WHERE stream_id = ?",
                updates,
            )

    def _originals(self, batches: list[PreparedBatch]) -> list[list[RecordedEvent]] | None:
        """After a failed write: if the events are already stored identically, their
        records (a retry); None if none of them is stored; else a clear error."""
        wanted = [event.event_id for _s, events, _e, _t in batches for event in events]
        found: dict[str, RecordedEvent] = {}
        stored_json: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id IN ({marks})"  # noqa: S608
            for row in self._fetchall(sql, chunk):
                found[row[4]] = event_from_row(row)
                stored_json[row[4]] = (row[7], row[8])
        if not found:
            return None
        results: list[list[RecordedEvent]] = []
        missing: str | None = None
        for stream_id, events, _expected, _type in batches:
            out = []
            for event in events:
                original = found.get(event.event_id)
                if original is None:
                    missing = missing or event.event_id
                    continue
                if not same_content(original, stored_json[event.event_id], stream_id, event):
                    raise IdempotencyConflict(event.event_id, original.position)
                out.append(original)
            results.append(out)
        if missing is not None:
            first = next(iter(found.values()))
            raise InvalidEvent(
                f"this append mixes events already stored (event id {first.event_id} at "
                f"position {first.position}) with new ones such as {missing}; "
                "send the new events on their own"
            )
        return results

    # --- derived data (writes) ----------------------------------------------------------
    def save_snapshot(
        self,
        stream_id: str,
        version: int,
        state: dict[str, Any],
        aggregate_type: str,
        schema_version: int = 1,
        code_version: str = "",
    ) -> Snapshot:
        """Store (or replace) the snapshot of a stream at a version."""
        self._require_writable("save a snapshot")
        if not isinstance(state, dict):
            raise InvalidEvent("a snapshot's state must be a JSON object")
        state_text = canonical_json(state).decode()
        created = now_text()
        with self._writing() as writer:
            writer.execute(
                (
                    "INSERT INTO snapshots (stream_id, version, state, aggregate_type, "
                    "schema_version, code_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (stream_id, version) DO UPDATE SET state = excluded.state, "
                    "aggregate_type = excluded.aggregate_type, "
                    "schema_version = excluded.schema_version, "
                    "code_version = excluded.code_version, created_at = excluded.created_at"
                ),
                (
                    stream_id,
                    version,
                    state_text,
                    aggregate_type,
                    schema_version,
                    code_version,
                    created,
                ),
            )
        return Snapshot(
            stream_id,
            version,
            _loads(state_text),
            aggregate_type,
            schema_version,
            code_version,
            ts(created),
        )

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that projection `name` has applied every event up to `position`."""
        self._require_writable("save a checkpoint")
        with self._writing() as writer:
            self._upsert_checkpoint(writer, name, position)

    def _upsert_checkpoint(self, writer: _Writer, name: str, position: int) -> None:
        writer.execute(
            "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )

    def put_projection_rows(
        self,
        name: str,
        rows: Sequence[tuple[str, dict[str, Any], int]],
        checkpoint: int | None = None,
    ) -> None:
        """Upsert projection documents and (optionally) the checkpoint, atomically."""
        self._require_writable("write projection rows")
        params = []
        for key, document, position in rows:
            if not isinstance(document, dict):
                raise InvalidEvent(f"projection row {key!r} must be a JSON object")
            params.append((name, key, canonical_json(document).decode(), position))
        with self._writing() as writer:
            if params:
                writer.executemany(
                    "INSERT INTO projection_rows (projection, key, document, position) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (projection, key) DO UPDATE SET "
                    "document = excluded.document, position = excluded.position",
                    params,
                )
            if checkpoint is not None:
                self._upsert_checkpoint(writer, name, checkpoint)

    def clear_projection(self, name: str) -> None:
        """Forget a projection's rows and checkpoint (before a rebuild)."""
        self._require_writable("clear a projection")
        with self._writing() as writer:
            writer.execute("DELETE FROM projection_rows WHERE projection = ?", (name,))
            writer.execute("DELETE FROM checkpoints WHERE name = ?", (name,))

    # --- reading events -----------------------------------------------------------------
    def head_position(self) -> int:
        return self._fetchone("SELECT COALESCE(MAX(position), 0) FROM events")[0]

    def event_count(self) -> int:
        """Positions are contiguous from 1, so the head position is the count."""
        return self.head_position()

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        high = to_version if to_version is not None else 2**62
        low = from_version
        order = "DESC" if backwards else "ASC"
        sql = (
            f"SELECT {STREAM_EVENT_COLUMNS} FROM events WHERE stream_id = ? "  # noqa: S608
            f"AND version >= ? AND version <= ? ORDER BY version {order} LIMIT ?"
        )
        while True:
            rows = self._fetchall(sql, (stream_id, low, high, STREAM_CHUNK))
            yield from stream_events(rows, stream_id)
            if len(rows) < STREAM_CHUNK:
                return
            if backwards:
                high = rows[-1][2] - 1
            else:
                low = rows[-1][2] + 1

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        where, params = filter_sql(filter)
        if backwards:
            cursor = from_position if from_position > 0 else 2**62
            end = to_position if to_position is not None else 0
            order = "DESC"
            bounds = "position < ? AND position >= ?"
        else:
            cursor = from_position
            end = to_position if to_position is not None else 2**62
            order = "ASC"
            bounds = "position > ? AND position <= ?"
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {bounds}{where} "  # noqa: S608
            f"ORDER BY position {order} LIMIT ?"
        )
        # The same query walking the log in position order instead of an index (a unary
        # `+` hides a column from SQLite's planner): cheaper than sorting once most of
        # the positions in a window match. PostgreSQL's planner weighs this itself.
        dense_sql = sql if self._pg else sql.replace(" AND event_type IN", " AND +event_type IN")
        dense = False
        remaining = limit
        # With a filter, each query looks at a window of positions, not everything past
        # the cursor: SQLite serves `event_type IN (...)` from its index and sorts the
        # matches by position, so an unbounded query re-sorted every remaining match per
        # chunk (a projection's replay of 1M events: 120 queries of ~46 ms). The window
        # doubles while it yields less than a chunk (rare matches) and halves when it
        # fills one (common matches), so each query's work stays near one chunk.
        span = READ_CHUNK * 4 if where else 0
        head = self.head_position() if where else 0
        if span and backwards:
            cursor = min(cursor, head + 1)
        while remaining is None or remaining > 0:
            size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
            if not span:
                edge = end
            elif backwards:
                edge = max(end, cursor - span)
            else:
                # Past the head (read when the walk began) the rest is one last query,
                # which also picks up events appended meanwhile.
                edge = cursor + span if cursor + span < min(end, head) else end
            rows = self._fetchall(dense_sql if dense else sql, (cursor, edge, *params, size))
            yield from map(event_from_row, rows)
            if remaining is not None:
                remaining -= len(rows)
            if span and rows:
                covered = abs((rows[-1][0] if len(rows) == size else edge) - cursor)
                dense = len(rows) * DENSE_SHARE > covered
            if len(rows) == size:
                cursor = rows[-1][0]
                if span:
                    span = max(READ_CHUNK, span // 2)
                continue
            if edge == end:
                return
            # The window is exhausted: the next one starts where it ended (its `edge`
            # was included, so `position > edge` / `position < edge` continues exactly).
            cursor = edge
            span *= 2

    def event_at(self, position: int) -> RecordedEvent | None:
        row = self._fetchone(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ?",  # noqa: S608
            (position,),
        )
        return event_from_row(row) if row else None

    def event_by_id(self, event_id: str) -> RecordedEvent | None:
        """The event with this id, or None."""
        row = self._fetchone(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?",  # noqa: S608
            (str(event_id),),
        )
        return event_from_row(row) if row else None

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self.head_position()
        where, params = filter_sql(filter)
        sql = f"SELECT COUNT(*) FROM events WHERE 1 = 1{where}"  # noqa: S608
        return self._fetchone(sql, params)[0]

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        """Counts in `buckets` equal slices of recorded_at, in exact integer microseconds:
        event at t is in bucket ``(t - lo) * buckets // (hi - lo)`` (the last bucket
        includes hi). A MIN/MAX query, then one GROUP BY over that index computed in SQL
        (unfiltered: position ranges, see `_histogram_by_position`)."""
        if buckets < 1:
            raise ValueError("a histogram needs at least one bucket")
        where, params = filter_sql(filter)
        lo_text, hi_text = self._fetchone(
            f"SELECT MIN(recorded_at), MAX(recorded_at) FROM events WHERE 1 = 1{where}",  # noqa: S608
            params,
        )
        if lo_text is None:
            return []
        lo, hi = ts(lo_text), ts(hi_text)
        span = max(_micros(hi - lo), 1)
        # Bucket i starts at the first microsecond whose index is i: lo + ceil(i*span/b).
        starts = [lo + timedelta(microseconds=-(-i * span // buckets)) for i in range(buckets)]
        if filter is None or filter.is_empty():
            counts = self._histogram_by_position(starts)
            return list(zip(starts, counts, strict=True))
        micros = _EPOCH_MICROS_PG if self._pg else _EPOCH_MICROS_SQLITE
        sql = (
            f"SELECT (({micros} - ?) * ?) / ? AS bucket, COUNT(*) "  # noqa: S608
            f"FROM events WHERE 1 = 1{where} GROUP BY bucket"
        )
        counts = [0] * buckets
        lo_micros = _micros(lo - _EPOCH)
        for bucket, count in self._fetchall(sql, (lo_micros, buckets, span, *params)):
            counts[min(max(int(bucket), 0), buckets - 1)] += count
        return list(zip(starts, counts, strict=True))

    def _histogram_by_position(self, starts: list[datetime]) -> list[int]:
        """The unfiltered histogram without touching every row: recorded_at never
        decreases along positions and positions are contiguous (both store invariants,
        which `verify` checks), so a bucket's count is the distance between the first
        positions at its two boundaries -- one index seek per boundary, milliseconds on
        1M events where the GROUP BY parses every timestamp."""
        head = self.head_position()
        # The first position at or after a boundary: an index seek for the time, then the
        # smallest position among events sharing it (a batch shares one recorded_at).
        seek = (
            "SELECT MIN(position) FROM events WHERE recorded_at = "
            "(SELECT MIN(recorded_at) FROM events WHERE recorded_at >= ?)"
        )
        firsts = [1]
        for start in starts[1:]:
            first = self._fetchone(seek, (format_timestamp(start),))[0]
            firsts.append(first if first is not None else head + 1)
        firsts.append(head + 1)
        return [max(firsts[i + 1] - firsts[i], 0) for i in range(len(starts))]

    # --- streams ------------------------------------------------------------------------
    _STREAM_COLUMNS = (
        "stream_id, stream_type, version, event_count, first_recorded_at, last_recorded_at, "
        "first_position, last_position"
    )

    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        where, params = stream_where(stream_type, prefix)
        if after is not None:
            where += " AND stream_id > ?"
            params.append(after)
        sql = (
            f"SELECT {self._STREAM_COLUMNS} FROM streams WHERE 1 = 1{where} "  # noqa: S608
            "ORDER BY stream_id LIMIT ?"
        )
        return [stream_from_row(row) for row in self._fetchall(sql, (*params, limit))]

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        row = self._fetchone(
            f"SELECT {self._STREAM_COLUMNS} FROM streams WHERE stream_id = ?",  # noqa: S608
            (stream_id,),
        )
        return stream_from_row(row) if row else None

    def stream_types(self) -> list[tuple[str, int]]:
        rows = self._fetchall(
            "SELECT stream_type, COUNT(*) FROM streams GROUP BY stream_type ORDER BY stream_type"
        )
        return [(row[0], row[1]) for row in rows]

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        where, params = stream_where(stream_type, prefix)
        return self._fetchone(f"SELECT COUNT(*) FROM streams WHERE 1 = 1{where}", params)[0]  # noqa: S608

    # --- derived claims (reads) ---------------------------------------------------------
    _SNAPSHOT_COLUMNS = (
        "stream_id, version, state, aggregate_type, schema_version, code_version, created_at"
    )

    def snapshots(self, stream_id: str) -> list[Snapshot]:
        sql = f"SELECT {self._SNAPSHOT_COLUMNS} FROM snapshots WHERE stream_id = ? ORDER BY version"  # noqa: S608
        return [snapshot_from_row(row) for row in self._fetchall(sql, (stream_id,))]

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        row = self._fetchone(
            f"SELECT {self._SNAPSHOT_COLUMNS} FROM snapshots "  # noqa: S608
            "WHERE stream_id = ? AND version <= ? ORDER BY version DESC LIMIT 1",
            (stream_id, version),
        )
        return snapshot_from_row(row) if row else None

    def checkpoints(self) -> dict[str, int]:
        return {
            name: position
            for name, position in self._fetchall(
                "SELECT name, position FROM checkpoints ORDER BY name"
            )
        }

    def projection_names(self) -> list[str]:
        rows = self._fetchall(
            "SELECT name FROM checkpoints UNION SELECT DISTINCT projection FROM projection_rows"
        )
        return sorted(row[0] for row in rows)

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        sql = "SELECT projection, key, document, position FROM projection_rows WHERE projection = ?"
        params: list[Any] = [projection]
        if after is not None:
            sql += " AND key > ?"
            params.append(after)
        sql += " ORDER BY key LIMIT ?"
        params.append(limit)
        return [
            ProjectionRow(row[0], row[1], _loads(row[2]), row[3])
            for row in self._fetchall(sql, params)
        ]

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        row = self._fetchone(
            "SELECT projection, key, document, position FROM projection_rows "
            "WHERE projection = ? AND key = ?",
            (projection, key),
        )
        return ProjectionRow(row[0], row[1], _loads(row[2]), row[3]) if row else None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """Walk the whole chain in O(1) memory (keyset chunks); see `store.chain`."""
        head_row = self._fetchone("SELECT position FROM chain_head WHERE id = 1")
        # A damaged file can lose the head record; the events are still walked, but the
        # report cannot vouch that nothing was cut from the tail (see below).
        recorded_head = head_row[0] if head_row and isinstance(head_row[0], int) else 0
        total = max(recorded_head, self.head_position())
        columns = VERIFY_COLUMNS_POSTGRES if self._pg else VERIFY_COLUMNS_SQLITE
        sql = (
            f"SELECT {columns} FROM events "  # noqa: S608 -- constant columns
            "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )

        def chunks(after: int = 0, through: int = 1 << 62) -> Iterator[list[Any]]:
            while True:
                rows = self._fetchall(sql, (after, through, VERIFY_CHUNK))
                if rows:
                    yield rows
                if len(rows) < VERIFY_CHUNK:
                    return
                after = rows[-1][0]

        if not self._pg and worth_two(Path(self._location), total):
            # A second process checks the later half of a large file (`store.chain`).
            report = walk_in_two(
                Path(self._location),
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
        if report.ok and not self._pg:
            return self._check_wal(report)
        return report

    def _check_wal(self, report: VerifyReport) -> VerifyReport:
        """A damaged WAL makes SQLite show an earlier, consistent state; say so instead of
        "ok". Checked twice, with a fresh read between, so a commit landing during the
        first look (frames written, index not yet updated) is not mistaken for damage."""
        path = Path(self._location)
        if not sqlite_backend.lost_wal_commits(path):
            return report
        self.head_position()  # a new read transaction refreshes the WAL index
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

    def head_digest(self) -> Digest:
        row = self._fetchone("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        if row is None:
            return Digest(0, GENESIS_HASH.hex())
        return Digest(row[0], row[1])


# --- helpers ---------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    """The driver's first line (its reason); later lines are generic hints."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(orig).__name__


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Microseconds since 1970 of a stored timestamp text, exactly (no floating point), from
# its fixed-width parts: YYYY-MM-DDTHH:MM:SS (seconds) and the six fractional digits.
_EPOCH_MICROS_SQLITE = (
    "(CAST(strftime('%s', substr(recorded_at, 1, 19)) AS INTEGER) * 1000000 "
    "+ CAST(substr(recorded_at, 21, 6) AS INTEGER))"
)
_EPOCH_MICROS_PG = (
    "(CAST(EXTRACT(EPOCH FROM CAST(substr(recorded_at, 1, 19) AS TIMESTAMP)) AS BIGINT) "
    "* 1000000 + CAST(substr(recorded_at, 21, 6) AS BIGINT))"
)


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
