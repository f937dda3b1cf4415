"""The `eventsourcing` library's stores (SQLite file or PostgreSQL tables) as a read-only
`EventSource`.

The tables are read directly with SQL -- the application's code is not needed:
* `tables.find_tables` finds the application's events table (notification ids are the
  global positions) and its snapshots table, when present;
* states are decoded by `state` (never raising: an encrypted state becomes an event
  with `decode_error` set).

Read-only means read-only: SQLite through a `mode=ro` URI with `PRAGMA query_only`,
PostgreSQL with `default_transaction_read_only` on every session (`store.sql`).

The library keeps no stream catalog, so the first listing runs one GROUP BY over the
events table (using its primary key) and keeps the per-stream numbers in memory; event
payloads are decoded only for the events a view reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from eventscope.store.errors import NotAStoreError, SourceNotFound, StoreError, driver_reason
from eventscope.store.foreign import NoReadModels, derived_event_id, matches
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.location import Location, parse_location
from eventscope.store.paging import (
    END,
    ids_from,
    in_chunks,
    keyset_chunks,
    placeholders,
    position_window,
)
from eventscope.store.records import (
    EPOCH,
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
from eventscope.store.sources.eventsourcing.state import (
    class_name,
    decode,
    decode_object,
    fold_payload,
    parse_timestamp_value,
    split_topic,
)
from eventscope.store.sources.eventsourcing.tables import LibraryTables, find_tables, present_id
from eventscope.store.sql import postgres
from eventscope.store.sql import sqlite as sqlite_sql
from eventscope.store.sql.fragments import quote_identifier
from eventscope.store.sql.reader import SqlReader
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

_CHUNK = 2000
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class _Stream:
    """One aggregate, as the catalog query saw it."""

    stored_id: Any  # the value in originator_id (text, or a UUID on PostgreSQL)
    stream_type: str
    first_version: int  # the library's originator_version of the stream's first event
    last_version: int
    count: int
    first_position: int
    last_position: int


class EventsourcingSource(NoReadModels, ClosingContext):
    """Read-only access to an `eventsourcing` application's stored events."""

    def __init__(self, reader: SqlReader, tables: LibraryTables) -> None:
        self._reader = reader
        self._tables = tables
        self._catalog: dict[str, _Stream] | None = None
        self._sorted_ids: list[str] = []
        self._by_stored: dict[Any, tuple[str, _Stream]] = {}
        self._catalog_lock = threading.Lock()
        self._times: dict[int, datetime | None] = {}  # position -> decoded timestamp
        q = quote_identifier(tables.events)
        pos = tables.position_column
        self._event_select = (
            f"SELECT {pos}, originator_id, originator_version, topic, state FROM {q}"  # noqa: S608
        )
        self._pos = pos
        self._q = q
        self._fetchall = reader.fetchall
        self._fetchone = reader.fetchone

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, location: str | Path, *, schema: str | None = None) -> EventsourcingSource:
        """Open a SQLite file or a SQLAlchemy URL holding the library's tables.

        A URL may end in `#TABLE` to pick one application's events table when several
        share a PostgreSQL schema.
        """
        return cls.open_location(parse_location(location, schema))

    @classmethod
    def open_location(cls, location: Location) -> EventsourcingSource:
        """`open` for a parsed location (`store.location`)."""
        if location.url is not None:
            assert location.schema is not None
            engine = postgres.make_engine(location.url, schema=location.schema, read_only=True)
            postgres.check_connection(engine, location.url)
            return cls._with_tables(engine, location.display(), location.fragment)
        path = location.path
        assert path is not None
        if not path.exists():
            raise SourceNotFound(f"there is no file at {path}")
        if path.is_dir():
            raise NotAStoreError(f"{path} is a directory, not an eventsourcing SQLite store")
        engine = sqlite_sql.make_engine(path, read_only=True)
        return cls._with_tables(engine, str(path), location.fragment)

    @classmethod
    def _with_tables(cls, engine: Engine, location: str, wanted: str | None) -> EventsourcingSource:
        dialect = engine.dialect.name
        try:
            tables = find_tables(engine, dialect, wanted)
        except (DBAPIError, SQLAlchemyError) as exc:
            engine.dispose()
            raise NotAStoreError(
                f"{location} cannot be read as a database ({driver_reason(exc)})"
            ) from None
        except StoreError:
            engine.dispose()
            raise
        if tables is None:
            engine.dispose()
            raise NotAStoreError(f"{location} holds no tables written by the eventsourcing library")
        return cls(SqlReader(engine, location), tables)

    def close(self) -> None:
        self._reader.close()

    def connect(self) -> Connection:
        """A connection from the pool every read of this source uses (a read-only one),
        for inspection and for tests that prove writes are refused below the source."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        location = self._reader.location
        dialect = "postgresql" if self._reader.postgres else "sqlite"
        if self._reader.postgres:
            location = f"{location}#{self._tables.events}"
        return SourceInfo(
            kind=f"eventsourcing-{dialect}",
            location=location,
            read_only=True,
            has_hash_chain=False,
        )

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        row = self._fetchone(f"SELECT COALESCE(MAX({self._pos}), 0) FROM {self._q}")  # noqa: S608
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
        stream = self._streams_by_id().get(stream_id)
        if stream is None:
            return iter(())
        base = stream.first_version - 1
        low = max(from_version, 1) + base
        high = stream.last_version if to_version is None else min(to_version + base, END)
        return self._read_stream(stream_id, stream, low, high, backwards)

    def _read_stream(
        self, stream_id: str, stream: _Stream, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._event_select} WHERE originator_id = ? AND originator_version >= ? "
            f"AND originator_version <= ? ORDER BY originator_version {order} LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream.stored_id, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (bounds[0], row[2] - 1) if backwards else (row[2] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            for row in rows:
                yield self._event(row, stream_id, stream)

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """Fold rows from the same columns, without the timestamps, event ids and
        metadata `read_stream` builds."""
        stream = self._streams_by_id().get(stream_id)
        if stream is None:
            return iter(())
        base = stream.first_version - 1
        low = max(from_version, 1) + base
        high = stream.last_version if to_version is None else min(to_version + base, END)
        return self._read_replay(stream, low, high)

    def _read_replay(self, stream: _Stream, low: int, high: int) -> Iterator[ReplayRow]:
        sql = (
            f"{self._event_select} WHERE originator_id = ? AND originator_version >= ? "
            f"AND originator_version <= ? ORDER BY originator_version LIMIT ?"
        )
        base = stream.first_version - 1
        topics: dict[str, str] = {}

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stream.stored_id, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (row[2] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            for position, _stored, stored_version, topic, state in rows:
                topic = topic or ""
                event_type = topics.get(topic)
                if event_type is None:
                    event_type = topics[topic] = split_topic(topic)[1] or topic
                data, schema_version, error = fold_payload(state)
                yield ReplayRow(
                    stored_version - base, position, event_type, schema_version, data, error
                )

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
        catalog = self._streams_by_id()
        stored_filter = ""
        params: list[Any] = []
        if flt is not None and flt.stream_id is not None:
            stream = catalog.get(flt.stream_id)
            if stream is None:
                return
            stored_filter = " AND originator_id = ?"
            params.append(stream.stored_id)
        window = position_window(from_position, to_position, backwards)
        sql = (
            f"{self._event_select} WHERE {window.where(self._pos)}"
            f"{stored_filter} ORDER BY {self._pos} {window.order} LIMIT ?"
        )
        produced = 0
        by_stored = self._by_stored
        filtering = flt is not None and not flt.is_empty()
        # Without a filter a limit bounds the rows worth fetching (a page of a view).
        size = _CHUNK if limit is None or filtering else min(_CHUNK, limit)

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *params, size))

        for rows in keyset_chunks(fetch, window.cursor, size, _next_position):
            for row in rows:
                known = by_stored.get(row[1])
                stream_id = known[0] if known is not None else present_id(row[1])
                stream = known[1] if known is not None else None
                stream_type = stream.stream_type if stream is not None else ""
                if not _row_may_match(row, stream_id, stream_type, flt):
                    continue
                event = self._event(row, stream_id, stream)
                if flt is not None and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def event_at(self, position: int) -> RecordedEvent | None:
        row = self._fetchone(f"{self._event_select} WHERE {self._pos} = ?", (position,))
        if row is None:
            return None
        stream_id = present_id(row[1])
        return self._event(row, stream_id, self._streams_by_id().get(stream_id))

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
        if limit <= 0:
            return []
        return self._infos(list(islice(self._stream_range(stream_type, prefix, after), limit)))

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        if stream_id not in self._streams_by_id():
            return None
        return self._infos([stream_id])[0]

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
        return self._snapshots(stream_id, None)

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        found = self._snapshots(stream_id, version)
        return found[-1] if found else None

    def _snapshots(self, stream_id: str, up_to: int | None) -> list[Snapshot]:
        table = self._tables.snapshots
        stream = self._streams_by_id().get(stream_id)
        if table is None or stream is None:
            return []
        base = stream.first_version - 1
        sql = (
            f"SELECT originator_version, topic, state FROM {quote_identifier(table)} "  # noqa: S608
            "WHERE originator_id = ?"
        )
        params: list[Any] = [stream.stored_id]
        if up_to is not None:
            sql += " AND originator_version <= ?"
            params.append(up_to + base)
        sql += " ORDER BY originator_version"
        out = []
        for version, topic, state in self._fetchall(sql, params):
            snapshot = self._snapshot(stream_id, version - base, topic, state, stream)
            if snapshot is not None:
                out.append(snapshot)
        return out

    def _snapshot(
        self, stream_id: str, version: int, topic: str, state: Any, stream: _Stream
    ) -> Snapshot | None:
        """The library's Snapshot event: {"timestamp", "topic": aggregate, "state": {...}}.
        An undecodable (encrypted) snapshot is left out: it proves nothing readable."""
        payload, error = decode_object(state)
        if payload is None or error is not None:
            return None
        inner = payload.get("state")
        if not isinstance(inner, dict):
            return None
        aggregate_topic = payload.get("topic")
        aggregate_type = (
            class_name(aggregate_topic) if isinstance(aggregate_topic, str) else stream.stream_type
        )
        created = parse_timestamp_value(payload.get("timestamp")) or EPOCH
        schema_version = payload.get("class_version", 1)
        return Snapshot(
            stream_id=stream_id,
            version=version,
            state=inner,
            aggregate_type=aggregate_type,
            schema_version=schema_version if type(schema_version) is int else 1,
            code_version=topic,
            created_at=created,
        )

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check: read every stored state and count those that cannot be
        decoded (`malformed`); the first one's position is `first_bad_position`."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason="the eventsourcing library keeps no hash chain, so this store "
                "cannot be checked against a digest",
            )
        total = self.event_count()
        checked = 0
        malformed = 0
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
        if malformed:
            return VerifyReport(
                ok=False,
                checked=checked,
                first_bad_position=first_bad,
                reason=f"{malformed} stored state(s) cannot be decoded; the first, at "
                f"position {first_bad}: {first_reason}",
                malformed=malformed,
            )
        return VerifyReport(
            ok=True,
            checked=checked,
            reason="the eventsourcing library keeps no hash chain; every state was decoded",
        )

    def head_digest(self) -> Digest:
        raise StoreError(
            "an eventsourcing store has no hash chain, so it has no digest to keep; "
            "import it into a native store to get one"
        )

    # --- internals ----------------------------------------------------------------------
    def _streams_by_id(self) -> dict[str, _Stream]:
        """The in-memory catalog, built on first use by one GROUP BY query."""
        catalog = self._catalog
        if catalog is not None:
            return catalog
        with self._catalog_lock:
            if self._catalog is None:
                loaded = self._load_catalog()
                self._sorted_ids = sorted(loaded)
                self._by_stored = {s.stored_id: (sid, s) for sid, s in loaded.items()}
                self._catalog = loaded  # last: readers check it without the lock
            return self._catalog

    def _load_catalog(self) -> dict[str, _Stream]:
        q, pos = self._q, self._pos
        sql = (
            "SELECT g.originator_id, g.lo, g.hi, g.n, g.first_pos, g.last_pos, f.topic "  # noqa: S608
            "FROM (SELECT originator_id, MIN(originator_version) AS lo, "
            "MAX(originator_version) AS hi, COUNT(*) AS n, "
            f"MIN({pos}) AS first_pos, MAX({pos}) AS last_pos FROM {q} "
            "GROUP BY originator_id) g "
            f"JOIN {q} f ON f.originator_id = g.originator_id "
            "AND f.originator_version = g.lo"
        )
        catalog: dict[str, _Stream] = {}
        for stored, lo, hi, count, first_pos, last_pos, topic in self._fetchall(sql):
            stream_type, _event_type = split_topic(topic or "")
            if not stream_type:
                stream_type = self._type_from_created_event(stored, lo, topic or "")
            catalog[present_id(stored)] = _Stream(
                stored_id=stored,
                stream_type=stream_type,
                first_version=lo,
                last_version=hi,
                count=count,
                first_position=first_pos,
                last_position=last_pos,
            )
        return catalog

    def _type_from_created_event(self, stored: Any, version: int, topic: str) -> str:
        """For event classes defined outside their aggregate: the created event's
        `originator_topic` names the aggregate class; failing that, the topic's module."""
        row = self._fetchone(
            f"SELECT state FROM {self._q} WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            (stored, version),
        )
        if row is not None:
            decoded = decode(row[0], topic)
            originator_topic = decoded.metadata.get("originator_topic")
            if isinstance(originator_topic, str):
                return class_name(originator_topic)
        module = topic.rpartition(":")[0]
        return module or "unknown"

    def _stream_range(
        self, stream_type: str | None, prefix: str | None, after: str | None
    ) -> Iterator[str]:
        catalog = self._streams_by_id()
        for stream_id in ids_from(self._sorted_ids, prefix, after):
            if stream_type is None or catalog[stream_id].stream_type == stream_type:
                yield stream_id

    def _infos(self, stream_ids: list[str]) -> list[StreamInfo]:
        """Catalog rows; the first/last times come from decoding two states per stream
        (one query for the page)."""
        catalog = self._streams_by_id()
        wanted = []
        for stream_id in stream_ids:
            stream = catalog[stream_id]
            for position in (stream.first_position, stream.last_position):
                if position not in self._times:
                    wanted.append(position)
        for part in in_chunks(wanted, _IN_CHUNK):
            marks = placeholders(len(part))
            sql = f"SELECT {self._pos}, topic, state FROM {self._q} WHERE {self._pos} IN ({marks})"  # noqa: S608
            for position, topic, state in self._fetchall(sql, part):
                self._times[position] = decode(state, topic or "").timestamp
        out = []
        for stream_id in stream_ids:
            stream = catalog[stream_id]
            out.append(
                StreamInfo(
                    stream_id=stream_id,
                    stream_type=stream.stream_type,
                    version=stream.last_version - stream.first_version + 1,
                    event_count=stream.count,
                    first_recorded_at=self._times.get(stream.first_position),
                    last_recorded_at=self._times.get(stream.last_position),
                    first_position=stream.first_position,
                    last_position=stream.last_position,
                )
            )
        return out

    def _event(self, row: Sequence[Any], stream_id: str, stream: _Stream | None) -> RecordedEvent:
        position, _stored, stored_version, topic, state = row
        topic = topic or ""
        _type_from_topic, event_type = split_topic(topic)
        base = stream.first_version - 1 if stream is not None else 0
        version = stored_version - base
        decoded = decode(state, topic)
        moment = decoded.timestamp or EPOCH
        return RecordedEvent(
            position=position,
            stream_id=stream_id,
            stream_type=stream.stream_type if stream is not None else "",
            version=version,
            event_id=derived_event_id(stream_id, version),
            event_type=event_type or topic,
            schema_version=decoded.schema_version,
            data=decoded.data,
            metadata=decoded.metadata,
            occurred_at=moment,
            recorded_at=moment,
            hash="",
            decode_error=decoded.error,
        )


def _row_may_match(
    row: Sequence[Any], stream_id: str, stream_type: str, flt: EventFilter | None
) -> bool:
    """The parts of a filter answerable without decoding the state."""
    if flt is None:
        return True
    if flt.stream_id is not None and stream_id != flt.stream_id:
        return False
    if flt.stream_prefix and not stream_id.startswith(flt.stream_prefix):
        return False
    if flt.stream_type is not None and stream_type != flt.stream_type:
        return False
    if flt.event_types is not None:
        event_type = split_topic(row[3] or "")[1] or (row[3] or "")
        if event_type not in flt.event_types:
            return False
    return True


def _next_position(row: Sequence[Any], _cursor: int) -> int:
    return int(row[0])
