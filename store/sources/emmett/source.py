"""Emmett's event store (PostgreSQL or SQLite) as a read-only `EventSource`.

Emmett's tables are read with plain SQL (`dialect` says what differs): only events
(commands in the same table are left out and counted, `describe()` and `verify()` say
so), versions and counts from `emt_messages` -- never from `emt_streams`, whose
position runs ahead on emmett-sqlite 0.38.5 -- and on PostgreSQL only settled rows.
Positions are `global_position`. The per-stream numbers come from one GROUP BY over
`emt_messages` on first use and are kept in memory; payloads are decoded only for the
events a view reads. Checkpoints, Pongo read models and the catalog are `claims`.

Read-only: SQLite through a `mode=ro` URI with `PRAGMA query_only`, PostgreSQL with
`default_transaction_read_only` (`store.sql`); nothing here writes.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from eventscope.store.errors import NotAStoreError, SourceNotFound, StoreError
from eventscope.store.foreign import matches
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.location import Location, parse_location
from eventscope.store.paging import END, ids_from, keyset_chunks, position_window
from eventscope.store.records import (
    Digest,
    ProjectionRow,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    replay_row,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback
from eventscope.store.sources.emmett.claims import CatalogClaim, Claims
from eventscope.store.sources.emmett.dialect import (
    event_columns,
    event_rows,
    recorded_time,
    stream_type_of,
)
from eventscope.store.sources.emmett.kind import EMMETT_TABLES
from eventscope.store.sources.emmett.mapping import replay_rows, to_event
from eventscope.store.sql import postgres
from eventscope.store.sql import sqlite as sqlite_sql
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.tables import SqliteTables, sqlite_tables

_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class _Stream:
    """One stream as the catalog query saw its events. `regular`: its events sit at
    stream positions 1..count, so versions are the stream positions themselves."""

    stream_type: str
    first_native: int  # Emmett's stream_position of the first and last event
    last_native: int
    count: int
    first_position: int
    last_position: int
    first_recorded_at: datetime
    last_recorded_at: datetime

    @property
    def regular(self) -> bool:
        return self.first_native == 1 and self.last_native == self.count


class EmmettSource(ClosingContext):
    """Read-only access to the events of an Emmett store."""

    def __init__(self, reader: SqlReader) -> None:
        self._reader = reader
        self._postgres = reader.postgres
        self._events = event_rows(self._postgres)
        self._select = f"SELECT {event_columns(self._postgres)} FROM emt_messages"  # noqa: S608
        self.claims = Claims(reader)
        self._catalog: dict[str, _Stream] | None = None
        self._sorted_ids: list[str] = []
        self._lock = threading.Lock()
        self._natives: dict[str, list[int]] = {}  # irregular streams: event positions
        self._fetchall = reader.fetchall

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, location: str | Path, *, schema: str | None = None) -> EmmettSource:
        """Open a SQLite file or a PostgreSQL URL (`?schema=` picks the schema)."""
        return cls.open_location(parse_location(location, schema))

    @classmethod
    def open_location(cls, location: Location) -> EmmettSource:
        if location.url is not None:
            assert location.schema is not None
            engine = postgres.make_engine(location.url, schema=location.schema, read_only=True)
            postgres.check_connection(engine, location.url)
            source = cls(SqlReader(engine, location.display()))
            source._require_tables()
            return source
        path = location.path
        assert path is not None
        if not path.exists():
            raise SourceNotFound(f"there is no file at {path}")
        if path.is_dir():
            raise NotAStoreError(f"{path} is a directory, not an Emmett SQLite store")
        with sqlite_tables(path) as tables:
            _check_sqlite(tables, path)
        return cls(SqlReader(sqlite_sql.make_engine(path, read_only=True), str(path)))

    def _require_tables(self) -> None:
        rows = self._fetchall(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name IN (?, ?)",
            sorted(EMMETT_TABLES),
        )
        if len(rows) < len(EMMETT_TABLES):
            self.close()
            raise NotAStoreError(f"{self._reader.location} holds no tables written by Emmett")

    def close(self) -> None:
        self._reader.close()

    def connect(self) -> Any:
        """A connection from the (read-only) pool, for inspection and tests."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="emmett-postgresql" if self._postgres else "emmett-sqlite",
            location=self._reader.location,
            read_only=True,
            has_hash_chain=False,
        )

    def left_out(self) -> str:
        """What eventscope does not show of this store, as one sentence."""
        commands = self.claims.commands()
        sentence = f"{commands} command(s) stored among the events were left out"
        if self._postgres:
            waiting = self.claims.unsettled()
            sentence += "; only settled transactions are shown"
            if waiting:
                sentence += (
                    f" ({waiting} newer message(s) wait for an older transaction still "
                    "open on the server)"
                )
        return sentence

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        row = self._reader.fetchone(
            f"SELECT COALESCE(MAX(global_position), 0) FROM emt_messages WHERE {self._events}"  # noqa: S608
        )
        return int(row[0])

    def event_count(self) -> int:
        return sum(stream.count for stream in self._streams_by_id().values())

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        low = max(from_version, 1)
        high = END if to_version is None else min(to_version, END)
        if low > high:
            return iter(())
        stream = self._streams_by_id().get(stream_id)
        if stream is None or stream.regular:
            return self._read_stream(stream_id, low, high, backwards, None)
        natives = self._natives_of(stream_id, refresh=False)
        if low > len(natives):
            return iter(())
        high = min(high, len(natives))
        bounds = (natives[low - 1], natives[high - 1])
        return self._read_stream(stream_id, *bounds, backwards, (low, high))

    def _read_stream(
        self,
        stream_id: str,
        low: int,
        high: int,
        backwards: bool,
        versions: tuple[int, int] | None,
    ) -> Iterator[RecordedEvent]:
        """Events with low <= stream_position <= high; `versions` (first, last) numbers
        them for an irregular stream, whose versions are not its stream positions."""
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._select} WHERE stream_id = ? AND stream_position >= ? "
            f"AND stream_position <= ? AND {self._events} "
            f"ORDER BY stream_position {order} LIMIT ?"
        )
        postgres_ = self._postgres

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream_id, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (bounds[0], row[2] - 1) if backwards else (row[2] + 1, bounds[1])

        if versions is None:
            for rows in keyset_chunks(fetch, (low, high), _CHUNK, advance):
                for row in rows:
                    yield to_event(row, postgres_, row[2])
            return
        version, step = (versions[1], -1) if backwards else (versions[0], 1)
        for rows in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            for row in rows:
                yield to_event(row, postgres_, version)
                version += step

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """A regular stream's fold rows from five columns; an irregular one (versions
        that are not its stream positions) through `read_stream`."""
        low = max(from_version, 1)
        high = END if to_version is None else min(to_version, END)
        if low > high:
            return iter(())
        stream = self._streams_by_id().get(stream_id)
        if stream is not None and not stream.regular:
            return map(replay_row, self.read_stream(stream_id, from_version, to_version))
        return self._read_replay(stream_id, low, high)

    def _read_replay(self, stream_id: str, low: int, high: int) -> Iterator[ReplayRow]:
        json = "::text" if self._postgres else ""
        sql = (
            f"SELECT stream_position, global_position, message_type, "  # noqa: S608
            f"message_data{json}, message_schema_version FROM emt_messages "
            f"WHERE stream_id = ? AND stream_position >= ? AND stream_position <= ? "
            f"AND {self._events} ORDER BY stream_position LIMIT ?"
        )
        postgres_ = self._postgres

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream_id, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (row[0] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            yield from replay_rows(rows, postgres_)

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
        extra = ""
        params: list[Any] = []
        if flt is not None and flt.stream_id is not None:
            extra = " AND stream_id = ?"
            params.append(flt.stream_id)
        window = position_window(from_position, to_position, backwards)
        sql = (
            f"{self._select} WHERE {window.where('global_position')} AND {self._events}"
            f"{extra} ORDER BY global_position {window.order} LIMIT ?"
        )
        filtering = flt is not None and not flt.is_empty()
        size = _CHUNK if limit is None or filtering else min(_CHUNK, limit)
        produced = 0
        postgres_ = self._postgres
        version_of = self._version_of

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *params, size))

        for rows in keyset_chunks(fetch, window.cursor, size, lambda row, _c: int(row[0])):
            for row in rows:
                if filtering and not _may_match(row, flt):
                    continue
                event = to_event(row, postgres_, version_of(row[1], row[2]))
                if filtering and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def event_at(self, position: int) -> RecordedEvent | None:
        rows = self._fetchall(
            f"{self._select} WHERE global_position = ? AND {self._events}", (position,)
        )
        if not rows:
            return None
        return to_event(rows[0], self._postgres, self._version_of(rows[0][1], rows[0][2]))

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self.event_count()
        return sum(1 for _ in self._read_all(0, None, filter, None, False))

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        if filter is None or filter.is_empty():
            sql = f"SELECT created FROM emt_messages WHERE {self._events}"  # noqa: S608
            values = [to_micros(recorded_time(row[0])) for row in self._fetchall(sql)]
        else:
            values = [
                to_micros(e.recorded_at) for e in self._read_all(0, None, filter, None, False)
            ]
        return histogram_of_micros(values, buckets)

    # --- streams ------------------------------------------------------------------------
    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        if limit <= 0:
            return []
        return [
            self._info(s) for s in islice(self._stream_range(stream_type, prefix, after), limit)
        ]

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        return self._info(stream_id) if stream_id in self._streams_by_id() else None

    def stream_types(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for stream in self._streams_by_id().values():
            counts[stream.stream_type] = counts.get(stream.stream_type, 0) + 1
        return sorted(counts.items())

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        if stream_type is None and not prefix:
            return len(self._streams_by_id())
        return sum(1 for _ in self._stream_range(stream_type, prefix, None))

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        return []  # Emmett keeps no snapshots

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        return None

    def checkpoints(self) -> dict[str, int]:
        return self.claims.checkpoints()

    def projection_names(self) -> list[str]:
        return sorted(set(self.claims.checkpoints()) | set(self.claims.pongo_tables()))

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        return self.claims.projection_rows(projection, after, limit)

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        found = self.claims.projection_rows(projection, None, 1, key=key)
        return found[0] if found else None

    def catalog_disagreements(self) -> list[CatalogClaim]:
        """Streams whose `emt_streams` position disagrees with their messages."""
        return self.claims.catalog_disagreements()

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check: decode every event, count the undecodable ones, and say
        what disagrees among the derived claims (the catalog, PostgreSQL's order)."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason="Emmett keeps no hash chain, so this store cannot be checked "
                "against a digest",
            )
        total = self.event_count()
        checked = malformed = 0
        first_bad: int | None = None
        first_reason = ""
        for event in self._read_all(0, None, None, None, False):
            checked += 1
            if event.decode_error is not None:
                malformed += 1
                if first_bad is None:
                    first_bad, first_reason = event.position, event.decode_error
            if progress is not None and checked % _CHUNK == 0:
                progress(checked, total)
        if progress is not None:
            progress(checked, total)
        notes = [self.left_out()]
        disagreements = self.claims.catalog_disagreements()
        if disagreements:
            shown = "; ".join(c.sentence() for c in disagreements[:3])
            notes.append(
                f"the stream catalog (a derived claim) disagrees for {len(disagreements)} "
                f"stream(s), versions are taken from the messages: {shown}"
            )
        inversions = self.claims.order_inversions()
        if inversions:
            notes.append(
                f"{inversions} event(s) were committed out of global_position order "
                "(overlapping appends); shown in global_position order"
            )
        if malformed:
            return VerifyReport(
                ok=False,
                checked=checked,
                first_bad_position=first_bad,
                reason=f"{malformed} stored payload(s) cannot be decoded; the first, at "
                f"position {first_bad}: {first_reason}; " + "; ".join(notes),
                malformed=malformed,
            )
        return VerifyReport(
            ok=True,
            checked=checked,
            reason="Emmett keeps no hash chain; every payload was decoded; " + "; ".join(notes),
        )

    def head_digest(self) -> Digest:
        raise StoreError(
            "an Emmett store has no hash chain, so it has no digest to keep; "
            "import it into a native store to get one"
        )

    # --- internals ----------------------------------------------------------------------
    def _streams_by_id(self) -> dict[str, _Stream]:
        catalog = self._catalog
        if catalog is not None:
            return catalog
        with self._lock:
            if self._catalog is None:
                loaded = self._load_catalog()
                self._sorted_ids = sorted(loaded)
                self._catalog = loaded
            return self._catalog

    def _load_catalog(self) -> dict[str, _Stream]:
        sql = (
            "SELECT stream_id, MIN(stream_position), MAX(stream_position), COUNT(*), "  # noqa: S608
            "MIN(global_position), "
            f"MAX(global_position), MIN(created), MAX(created) FROM emt_messages "
            f"WHERE {self._events} GROUP BY stream_id"
        )
        catalog: dict[str, _Stream] = {}
        rows = self._fetchall(sql)
        for stream_id, first, last, count, first_pos, last_pos, first_at, last_at in rows:
            catalog[stream_id] = _Stream(
                stream_type=stream_type_of(stream_id),
                first_native=int(first),
                last_native=int(last),
                count=int(count),
                first_position=int(first_pos),
                last_position=int(last_pos),
                first_recorded_at=recorded_time(first_at),
                last_recorded_at=recorded_time(last_at),
            )
        return catalog

    def _version_of(self, stream_id: str, native: int) -> int:
        """The version of the event at Emmett's `native` stream position."""
        stream = self._streams_by_id().get(stream_id)
        if stream is not None and stream.regular and native <= stream.last_native:
            return native
        for refresh in (False, True):  # a stream may have grown since it was read
            natives = self._natives_of(stream_id, refresh)
            index = bisect_left(natives, native)
            if index < len(natives) and natives[index] == native:
                return index + 1
        return native

    def _natives_of(self, stream_id: str, refresh: bool) -> list[int]:
        """The stream positions of a stream's events, in order (kept for streams whose
        versions differ from their stream positions)."""
        natives = None if refresh else self._natives.get(stream_id)
        if natives is None:
            sql = (
                "SELECT stream_position FROM emt_messages "  # noqa: S608
                f"WHERE stream_id = ? AND {self._events} ORDER BY stream_position"
            )
            natives = [int(row[0]) for row in self._fetchall(sql, (stream_id,))]
            self._natives[stream_id] = natives
        return natives

    def _stream_range(
        self, stream_type: str | None, prefix: str | None, after: str | None
    ) -> Iterator[str]:
        catalog = self._streams_by_id()
        for stream_id in ids_from(self._sorted_ids, prefix, after):
            if stream_type is None or catalog[stream_id].stream_type == stream_type:
                yield stream_id

    def _info(self, stream_id: str) -> StreamInfo:
        stream = self._streams_by_id()[stream_id]
        return StreamInfo(
            stream_id=stream_id,
            stream_type=stream.stream_type,
            version=stream.count,
            event_count=stream.count,
            first_recorded_at=stream.first_recorded_at,
            last_recorded_at=stream.last_recorded_at,
            first_position=stream.first_position,
            last_position=stream.last_position,
        )


def _may_match(row: Any, flt: EventFilter | None) -> bool:
    """The parts of a filter answerable from the row's columns, before decoding."""
    if flt is None:
        return True
    stream_id = row[1]
    if flt.stream_prefix and not stream_id.startswith(flt.stream_prefix):
        return False
    if flt.stream_type is not None and stream_type_of(stream_id) != flt.stream_type:
        return False
    return flt.event_types is None or row[3] in flt.event_types


def _check_sqlite(tables: SqliteTables, path: Path) -> None:
    if not EMMETT_TABLES <= tables.names():
        raise NotAStoreError(f"{path} holds no tables written by Emmett")
