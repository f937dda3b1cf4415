"""A Message DB store (PostgreSQL, schema `message_store`) as a read-only `EventSource`.

Why it reads the table and not Message DB's functions: the functions resolve
`messages`, `category` and `is_category` through `search_path` (as `postgres` they fail)
and return payloads as varchar. So every query names `message_store.messages` itself,
on a session with `default_transaction_read_only` (`store.sql.postgres`); nothing is
ever written, not even a catalog: Message DB has no streams table, so the stream
catalog is built in eventscope's cache folder (`store.sql.stream_catalog`), once, and
extended from the last global position it saw on every later open.

Rows become events in `mapping` (versions from 1, category as stream type, Eventide
correlation/causation keys mapped, NULL payloads shown as such).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from eventscope.store.errors import StoreError
from eventscope.store.foreign import NoReadModels, matches
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.location import Location
from eventscope.store.paging import END, in_chunks, keyset_chunks, placeholders, position_window
from eventscope.store.records import (
    Digest,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback
from eventscope.store.sources.messagedb.kind import SCHEMA
from eventscope.store.sources.messagedb.mapping import (
    COLUMNS,
    Mapper,
    causation_position,
    decode_json,
    parse_actor_path,
    replay_rows,
)
from eventscope.store.sql import postgres
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.stream_catalog import (
    CatalogSource,
    CatalogStream,
    StreamCatalog,
    as_datetime,
)
from eventscope.store.times import naive_utc
from sqlalchemy import Connection

TABLE = f"{SCHEMA}.messages"
_CHUNK = 2000
_STREAM_CHUNK = 5000  # a replay reads whole streams: fewer round trips
_IN_CHUNK = 500
_CATALOG_SELECTABLE = (
    "SELECT global_position, stream_name AS stream, position + 1 AS version,"  # noqa: S608
    f" time AS recorded, split_part(stream_name, '-', 1) AS stream_type FROM {TABLE}"
)
_REFRESH_EVERY_S = 2.0  # how stale the catalog may get while a session stays open
_CAUSE_CACHE = 100_000


class MessageDbSource(NoReadModels, ClosingContext):
    """Read-only access to `message_store.messages`."""

    def __init__(self, reader: SqlReader, actor_path: tuple[str, ...] | None) -> None:
        self._reader = reader
        self._fetchall = reader.fetchall
        self._fetchone = reader.fetchone
        self._mapper = Mapper(actor_path)
        self._select = f"SELECT {COLUMNS} FROM {TABLE}"  # noqa: S608
        self._cause_ids: dict[int, str] = {}
        identity = self._identity()
        self._catalog = StreamCatalog(CatalogSource(reader, _CATALOG_SELECTABLE, identity))
        self._refreshed = 0.0

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open_location(
        cls, location: Location, progress: ProgressCallback | None = None
    ) -> MessageDbSource:
        """Open the Message DB at a PostgreSQL URL; ``?actor=a.b`` names the metadata
        path of the actor. The catalog is brought up to date now, with `progress`."""
        if location.url is None:
            raise StoreError("a Message DB source is a PostgreSQL URL, not a file")
        engine = postgres.make_engine(location.url, schema=SCHEMA, read_only=True)
        postgres.check_connection(engine, location.url)
        source = cls(
            SqlReader(engine, location.display()), parse_actor_path(location.option("actor"))
        )
        try:
            source.refresh_catalog(progress)
        except BaseException:
            source.close()
            raise
        return source

    def _identity(self) -> str:
        """Server, database and table identity: a recreated table is another source."""
        row = self._fetchone(
            "SELECT current_database(), (SELECT oid FROM pg_database"
            " WHERE datname = current_database()), to_regclass(?)::oid",
            (TABLE,),
        )
        url = self._reader.engine.url
        return f"messagedb\n{url.host}:{url.port}\n{row[0]}\n{row[1]}\n{row[2]}"

    def refresh_catalog(self, progress: ProgressCallback | None = None) -> None:
        """Count the messages added since the catalog last looked (all, the first time)."""
        self._catalog.refresh(progress)
        self._refreshed = time.monotonic()

    def _fresh_catalog(self) -> StreamCatalog:
        if time.monotonic() - self._refreshed > _REFRESH_EVERY_S:
            self.refresh_catalog()
        return self._catalog

    def close(self) -> None:
        self._catalog.close()
        self._reader.close()

    def connect(self) -> Connection:
        """A connection from the pool every read uses (a read-only one), for inspection
        and for tests that prove writes are refused below the source."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="messagedb",
            location=self._reader.location,
            read_only=True,
            has_hash_chain=False,
        )

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        row = self._fetchone(f"SELECT COALESCE(MAX(global_position), 0) FROM {TABLE}")  # noqa: S608
        return int(row[0])

    def event_count(self) -> int:
        return self._fresh_catalog().event_count()

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        low = max(from_version, 1) - 1
        high = END if to_version is None else to_version - 1
        if high < low:
            return iter(())
        return self._read_stream(stream_id, low, high, backwards)

    def _read_stream(
        self, stream_id: str, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._select} WHERE stream_name = ? AND position >= ? AND position <= ?"
            f" ORDER BY position {order} LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream_id, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (bounds[0], row[1] - 1) if backwards else (row[1] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _STREAM_CHUNK, advance):
            yield from self._events(rows)

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """Fold rows from four columns: no metadata, so no causation look-ups either."""
        low = max(from_version, 1) - 1
        high = END if to_version is None else to_version - 1
        if high < low:
            return iter(())
        return self._read_replay(stream_id, low, high)

    def _read_replay(self, stream_id: str, low: int, high: int) -> Iterator[ReplayRow]:
        sql = (
            f"SELECT position, global_position, type, data::text FROM {TABLE}"  # noqa: S608
            " WHERE stream_name = ? AND position >= ? AND position <= ?"
            " ORDER BY position LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream_id, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (row[0] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _STREAM_CHUNK, advance):
            yield from replay_rows(rows)

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        return self._read_all(from_position, to_position, filter, limit, backwards)

    def _read_all(
        self,
        from_position: int,
        to_position: int | None,
        flt: EventFilter | None,
        limit: int | None,
        backwards: bool,
    ) -> Iterator[RecordedEvent]:
        if limit is not None and limit <= 0:
            return
        if flt is not None and flt.event_types is not None and not flt.event_types:
            return
        window = position_window(from_position, to_position, backwards)
        where, params = _pushdown(flt, self._mapper.actor_path)
        sql = (
            f"{self._select} WHERE {window.where('global_position')}{where}"
            f" ORDER BY global_position {window.order} LIMIT ?"
        )
        filtering = flt is not None and not flt.is_empty()
        size = _CHUNK if limit is None or filtering else min(_CHUNK, limit)

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *params, size))

        produced = 0
        for rows in keyset_chunks(fetch, window.cursor, size, _next_position):
            for event in self._events(rows):
                if filtering and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def event_at(self, position: int) -> RecordedEvent | None:
        rows = self._fetchall(f"{self._select} WHERE global_position = ?", (position,))
        return next(self._events(rows), None)

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self.event_count()
        if _exact_in_sql(filter):
            if filter.event_types is not None and not filter.event_types:
                return 0
            where, params = _pushdown(filter, None)
            row = self._fetchone(f"SELECT COUNT(*) FROM {TABLE} WHERE TRUE{where}", params)  # noqa: S608
            return int(row[0])
        return sum(1 for _ in self._read_all(0, None, filter, None, False))

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        if filter is None or _exact_in_sql(filter):
            if filter is not None and filter.event_types is not None and not filter.event_types:
                return []
            where, params = _pushdown(filter, None)
            rows = self._fetchall(f"SELECT time FROM {TABLE} WHERE TRUE{where}", params)  # noqa: S608
            return histogram_of_micros([to_micros(row[0]) for row in rows], buckets)
        values = [to_micros(e.recorded_at) for e in self._read_all(0, None, filter, None, False)]
        return histogram_of_micros(values, buckets)

    # --- streams ------------------------------------------------------------------------
    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        found = self._fresh_catalog().streams(stream_type, prefix, after, limit)
        return [_info(stream) for stream in found]

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        found = self._fresh_catalog().stream(stream_id)
        return _info(found) if found is not None else None

    def stream_types(self) -> list[tuple[str, int]]:
        return self._fresh_catalog().stream_types()

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        return self._fresh_catalog().count_streams(stream_type, prefix)

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        """Eventide keeps snapshots as ordinary `:snapshot` streams (shown as streams)."""
        return []

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        return None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check. What is checked instead: in global order, every stream's
        positions run 0, 1, 2, ... (no gap, no repeat), and the cached catalog agrees with
        the messages (count and version of every stream)."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason="Message DB keeps no hash chain, so this store cannot be checked "
                "against a digest",
            )
        from eventscope.store.sources.messagedb.verify import walk_positions

        catalog = self._fresh_catalog()
        return walk_positions(self._reader, TABLE, catalog, progress)

    def head_digest(self) -> Digest:
        raise StoreError(
            "a Message DB store has no hash chain, so it has no digest to keep; "
            "import it into a native store to get one"
        )

    # --- internals ----------------------------------------------------------------------
    def _events(self, rows: Sequence[Any]) -> Iterator[RecordedEvent]:
        """Events of fetched rows, causations resolved to message ids in one query."""
        metas = [decode_json(row[6]) for row in rows]
        self._resolve_causes(metas, rows)
        event = self._mapper.event
        cause_ids = self._cause_ids
        for row, metadata in zip(rows, metas, strict=True):
            yield event(row, metadata, cause_ids)

    def _resolve_causes(self, metas: list[Any], rows: Sequence[Any]) -> None:
        known = self._cause_ids
        if len(known) > _CAUSE_CACHE:
            known.clear()
        for row in rows:
            known[row[0]] = row[7]
        wanted = sorted(
            {p for p in (causation_position(m) for m in metas) if p is not None} - known.keys()
        )
        for part in in_chunks(wanted, _IN_CHUNK):
            sql = (
                f"SELECT global_position, id::text FROM {TABLE}"  # noqa: S608
                f" WHERE global_position IN ({placeholders(len(part))})"
            )
            for position, message_id in self._fetchall(sql, part):
                known[position] = message_id


def _info(stream: CatalogStream) -> StreamInfo:
    return StreamInfo(
        stream_id=stream.stream_id,
        stream_type=stream.stream_type,
        version=stream.version,
        event_count=stream.event_count,
        first_recorded_at=as_datetime(stream.first_micros),
        last_recorded_at=as_datetime(stream.last_micros),
        first_position=stream.first_position,
        last_position=stream.last_position,
    )


def _exact_in_sql(flt: EventFilter) -> bool:
    """Whether SQL alone answers the filter exactly (no metadata or prefix test)."""
    return flt.stream_prefix is None and flt.correlation_id is None and flt.actor is None


def _pushdown(flt: EventFilter | None, actor_path: tuple[str, ...] | None) -> tuple[str, list[Any]]:
    """The filter as SQL conditions (``AND ...``): exact for types, stream, stream type
    and times; a superset for correlation and actor (the mapping decides, in Python).
    A stream prefix is tested in Python only (text comparison in SQL follows the
    database's collation, not code points)."""
    if flt is None:
        return "", []
    sql: list[str] = []
    params: list[Any] = []
    if flt.event_types is not None and flt.event_types:
        sql.append(f"type IN ({placeholders(len(flt.event_types))})")
        params.extend(flt.event_types)
    if flt.stream_id is not None:
        sql.append("stream_name = ?")
        params.append(flt.stream_id)
    if flt.stream_type is not None:
        sql.append("split_part(stream_name, '-', 1) = ?")
        params.append(flt.stream_type)
    if flt.since is not None:
        sql.append("time >= ?")
        params.append(naive_utc(flt.since))  # `time` has no zone: UTC wall time
    if flt.until is not None:
        sql.append("time < ?")
        params.append(naive_utc(flt.until))
    if flt.correlation_id is not None:
        sql.append(
            "(metadata->>'correlationStreamName' = ? OR metadata->>'replyStreamName' = ?"
            " OR metadata->>'correlation_id' = ?)"
        )
        params.extend([flt.correlation_id] * 3)
    if flt.actor is not None:
        if actor_path is not None:
            sql.append("(metadata #>> ? = ? OR metadata->>'actor' = ?)")
            params.extend([list(actor_path), flt.actor, flt.actor])
        else:
            sql.append("metadata->>'actor' = ?")
            params.append(flt.actor)
    return "".join(f" AND {part}" for part in sql), params


def _next_position(row: Sequence[Any], _cursor: int) -> int:
    return int(row[0])
