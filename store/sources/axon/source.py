"""An Axon Framework event store on PostgreSQL as a read-only `EventSource`.

The tables are read directly with SQL (Axon cannot run here, and an auditor needs no
JVM): `layout` finds which of Axon's naming schemes and column types the schema uses,
`catalog` builds the stream list, `rows` turns a row into a `RecordedEvent` (payloads by
`payloads`, XStream XML by `xstream`), `claims` reads snapshots and the processors'
tokens (`tokens`).

**What the global order means here.** Positions are Axon's `global_index`. It is not
gap-free (rolled-back inserts, sequences shared with sagas, Hibernate's pooled blocks
left unused by a restart), and with Hibernate's block allocation (increment 50, one
block per application node) it is *not* commit order or time order, and not even
sequence order within one aggregate: node B may commit index 60 before node A commits
index 12. So `read_all` is "in the order of the ids Axon handed out", which is exactly
what Axon's own tracking processors follow (their `GapAwareTrackingToken` waits for the
gaps); per-aggregate order is `read_stream`, by sequence number.

Read-only means read-only: every session has `default_transaction_read_only`, and
nothing here writes. Large objects (`oid` columns) are read with `lo_get`, which needs
SELECT on them; a role without it gets one sentence saying so at open time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from eventscope.store.errors import NotAStoreError, StoreError, driver_reason
from eventscope.store.foreign import matches, needs_payload
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.location import Location
from eventscope.store.paging import keyset_chunks, position_window
from eventscope.store.records import (
    EPOCH,
    Digest,
    ProjectionRow,
    RecordedEvent,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback, ReplayFromRecords
from eventscope.store.sources.axon import claims
from eventscope.store.sources.axon import rows as row_mapping
from eventscope.store.sources.axon.catalog import (
    NO_AGGREGATE_STREAM,
    NO_AGGREGATE_TYPE,
    AxonCatalog,
)
from eventscope.store.sources.axon.layout import Layout, read_layout, scheme_of
from eventscope.store.sources.axon.tokens import Checkpoint
from eventscope.store.sql import postgres
from eventscope.store.sql.reader import SqlReader
from sqlalchemy import Connection

_CHUNK = 5000
_LARGE_OBJECT_DENIED = "permission denied for large object"


class AxonReader(SqlReader):
    """`SqlReader` whose one sentence for a missing large-object privilege says what it
    means and what would fix it."""

    def __init__(self, engine: Any, location: str, role: str | None) -> None:
        super().__init__(engine, location)
        self.role = role or "this role"

    def read_error(self, exc: BaseException) -> StoreError:
        reason = driver_reason(exc)
        if _LARGE_OBJECT_DENIED in reason:
            return StoreError(
                f"{self.location} keeps Axon's payloads in PostgreSQL large objects (oid "
                f"columns), which {self.role} may not read: grant SELECT on them, or read "
                f"as their owner ({reason})"
            )
        return super().read_error(exc)


class AxonSource(ReplayFromRecords, ClosingContext):
    """Read-only access to Axon Framework's event tables in one PostgreSQL schema."""

    def __init__(self, reader: SqlReader, layout: Layout, identity: str) -> None:
        self._reader = reader
        self._layout = layout
        self._identity = identity
        self._fetchall = reader.fetchall
        self._catalog: AxonCatalog | None = None
        self._catalog_lock = threading.Lock()
        self._select = layout.event_select
        cols = list(layout.columns)
        cols[8] = cols[9] = "NULL"
        self._light_select = f"SELECT {', '.join(cols)} FROM {layout.table}"  # noqa: S608

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open_location(cls, location: Location) -> AxonSource:
        """Open the Axon tables in the location's PostgreSQL schema."""
        if location.url is None or location.schema is None:
            raise NotAStoreError("an Axon store is read from PostgreSQL (a postgresql:// URL)")
        engine = postgres.make_engine(location.url, schema=location.schema, read_only=True)
        postgres.check_connection(engine, location.url)
        reader = AxonReader(engine, location.display(), location.url.username)
        try:
            layout = _find_layout(reader, location)
            if layout.has_large_objects:
                column = layout.blob("events", layout.column(8))
                reader.fetchall(f"SELECT {column} FROM {layout.table} LIMIT 1")  # noqa: S608
            identity = _identity(reader, location, layout)
        except StoreError:
            reader.close()
            raise
        return cls(reader, layout, identity)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
        self._reader.close()

    def connect(self) -> Connection:
        """A connection from the (read-only) pool every read uses, for inspection and for
        tests that prove writes are refused below the source."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="axon-postgresql",
            location=self._reader.location,
            read_only=True,
            has_hash_chain=False,
        )

    @property
    def layout(self) -> Layout:
        """The naming scheme and column types found (for the detail and the docs)."""
        return self._layout

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        pos = self._layout.position
        row = self._fetchall(f"SELECT COALESCE(MAX({pos}), 0) FROM {self._layout.table}")  # noqa: S608
        return int(row[0][0])

    def event_count(self) -> int:
        return self._streams().event_count

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        catalog = self._streams()
        stream = catalog.stream(stream_id)
        if stream is None:
            return iter(())
        low = max(from_version, 1)
        high = stream.version if to_version is None else min(to_version, stream.version)
        if low > high:
            return iter(())
        if stream_id == NO_AGGREGATE_STREAM:
            positions = catalog.group_positions()
            where = self._layout.without_aggregate
            return self._read_by_position(
                where, (), positions[low - 1], positions[high - 1], backwards
            )
        return self._read_aggregate(stream_id, low - 1, high - 1, backwards)

    def _read_aggregate(
        self, stream_id: str, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        layout = self._layout
        seq = layout.sequence
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._select} WHERE {layout.aggregate} = ? AND {layout.with_aggregate} "
            f"AND {seq} >= ? AND {seq} <= ? ORDER BY {seq} {order} LIMIT ?"
        )
        catalog = self._streams()

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            if bounds[0] > bounds[1]:
                return []  # the last chunk ended on the bound: no query for nothing
            return self._fetchall(sql, (stream_id, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            at = row[row_mapping.SEQUENCE]
            return (bounds[0], at - 1) if backwards else (at + 1, bounds[1])

        to_event = row_mapping.to_event
        for chunk in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            for row in chunk:
                yield to_event(row, catalog)

    def _read_by_position(
        self, where: str, params: Sequence[Any], low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        """Events matching `where` with low <= position <= high, in position order."""
        pos = self._layout.position
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._select} WHERE {where} AND {pos} >= ? AND {pos} <= ? "
            f"ORDER BY {pos} {order} LIMIT ?"
        )
        catalog = self._streams()

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            if bounds[0] > bounds[1]:
                return []
            return self._fetchall(sql, (*params, bounds[0], bounds[1], _CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            at = row[row_mapping.POSITION]
            return (bounds[0], at - 1) if backwards else (at + 1, bounds[1])

        for chunk in keyset_chunks(fetch, (low, high), _CHUNK, advance):
            for row in chunk:
                yield row_mapping.to_event(row, catalog)

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        return self._read_all(from_position, to_position, filter, limit, backwards, light=False)

    def _read_all(
        self,
        from_position: int,
        to_position: int | None,
        flt: EventFilter | None,
        limit: int | None,
        backwards: bool,
        *,
        light: bool,
    ) -> Iterator[RecordedEvent]:
        """Events in position order; `light` leaves payload and metadata unread (for
        counts and histograms of filters that do not look inside them)."""
        if limit is not None and limit <= 0:
            return
        catalog = self._streams()
        pushed, params = self._pushed_down(flt)
        window = position_window(from_position, to_position, backwards)
        pos = self._layout.position
        select = self._light_select if light else self._select
        sql = f"{select} WHERE {window.where(pos)}{pushed} ORDER BY {pos} {window.order} LIMIT ?"
        filtering = flt is not None and not flt.is_empty()
        size = _CHUNK if limit is None or filtering else min(_CHUNK, limit)
        decode = row_mapping.to_event
        deep = needs_payload(flt)
        produced = 0

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *params, size))

        def advance(row: Any, _cursor: int) -> int:
            return int(row[row_mapping.POSITION])

        for chunk in keyset_chunks(fetch, window.cursor, size, advance):
            for row in chunk:
                if filtering and not _row_may_match(row, catalog, flt):
                    continue
                event = decode(row, catalog)
                if deep and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def _pushed_down(self, flt: EventFilter | None) -> tuple[str, list[Any]]:
        """The stream and stream-type parts of a filter as SQL (indexed for a stream)."""
        if flt is None:
            return "", []
        layout = self._layout
        parts: list[str] = []
        params: list[Any] = []
        for wanted, group, column in (
            (flt.stream_id, NO_AGGREGATE_STREAM, layout.aggregate),
            (flt.stream_type, NO_AGGREGATE_TYPE, layout.aggregate_type),
        ):
            if wanted is None:
                continue
            if wanted == group:
                parts.append(layout.without_aggregate)
            else:
                parts.append(f"{column} = ? AND {layout.with_aggregate}")
                params.append(wanted)
        return "".join(f" AND {part}" for part in parts), params

    def event_at(self, position: int) -> RecordedEvent | None:
        rows = self._fetchall(f"{self._select} WHERE {self._layout.position} = ?", (position,))
        return row_mapping.to_event(rows[0], self._streams()) if rows else None

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self.event_count()
        light = not needs_payload(filter)
        return sum(1 for _ in self._read_all(0, None, filter, None, False, light=light))

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        light = not needs_payload(filter)
        events = self._read_all(0, None, filter, None, False, light=light)
        return histogram_of_micros([to_micros(e.recorded_at) for e in events], buckets)

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
        return self._streams().streams(stream_type, prefix or None, after, limit)

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        return self._streams().stream(stream_id)

    def stream_types(self) -> list[tuple[str, int]]:
        return self._streams().stream_types()

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        return self._streams().count_streams(stream_type, prefix or None)

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        return self._snapshots(stream_id, None)

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        found = self._snapshots(stream_id, version)
        return found[-1] if found else None

    def _snapshots(self, stream_id: str, up_to: int | None) -> list[Snapshot]:
        stream = self._streams().stream(stream_id)
        if stream is None or stream_id == NO_AGGREGATE_STREAM:
            return []
        return claims.snapshots(self._reader, self._layout, stream, up_to)

    def processor_checkpoints(self) -> list[Checkpoint]:
        """Each event processor segment's token (`token_entry`), as a global index."""
        return claims.processor_checkpoints(self._reader, self._layout)

    def checkpoints(self) -> dict[str, int]:
        return {c.name: c.position for c in self.processor_checkpoints()}

    def processor_lags(self) -> dict[str, int]:
        """Processor checkpoint -> events stored after it (the lag; global indexes have
        gaps, so this counts rows, not the difference of positions)."""
        layout = self._layout
        sql = f"SELECT count(*) FROM {layout.table} WHERE {layout.position} > ?"  # noqa: S608
        return {
            c.name: int(self._fetchall(sql, (c.position,))[0][0])
            for c in self.processor_checkpoints()
        }

    def projection_names(self) -> list[str]:
        return sorted(self.checkpoints())

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        return []  # Axon's read models live in the application's own tables

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        return None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check: decode every stored payload and count those that cannot be
        read (`malformed`); the first one's position is `first_bad_position`."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason="Axon keeps no hash chain, so this store cannot be checked against a digest",
            )
        total = self.event_count()
        checked = malformed = 0
        first_bad: int | None = None
        first_reason = ""
        for event in self.read_all():
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
                reason=f"{malformed} stored payload(s) cannot be decoded; the first, at "
                f"position {first_bad}: {first_reason}",
                malformed=malformed,
            )
        return VerifyReport(
            ok=True,
            checked=checked,
            reason="Axon keeps no hash chain, so nothing proves the history unaltered; "
            "every payload was decoded",
        )

    def head_digest(self) -> Digest:
        raise StoreError(
            "an Axon store has no hash chain, so it has no digest to keep; "
            "import it into a native store to get one"
        )

    # --- internals ----------------------------------------------------------------------
    def _streams(self) -> AxonCatalog:
        """The stream catalog, brought up to date once, on first use."""
        catalog = self._catalog
        if catalog is not None:
            return catalog
        with self._catalog_lock:
            if self._catalog is None:
                self._catalog = AxonCatalog(self._reader, self._layout, self._identity)
            return self._catalog


def _find_layout(reader: SqlReader, location: Location) -> Layout:
    rows = reader.fetchall(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    catalog: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        catalog.setdefault(table, {})[column] = data_type
    scheme = scheme_of(set(catalog), lambda table: set(catalog.get(table, {})))
    if scheme is None:
        raise NotAStoreError(
            f"{location.display(with_schema=True)} holds no Axon Framework event table "
            "(domain_event_entry, domainevententry or aggregate_event_entry)"
        )
    return read_layout(scheme, catalog)


def _identity(reader: SqlReader, location: Location, layout: Layout) -> str:
    """What names this store for the catalog cache: server, database, schema, and the
    events table's oid (a dropped and recreated table is another store)."""
    assert location.url is not None
    row = reader.fetchone("SELECT to_regclass(?)::oid, current_database()", (layout.events,))
    url = location.url
    return f"axon|{url.host}:{url.port or 5432}|{row[1]}|{location.schema}|{layout.events}|{row[0]}"


def _row_may_match(row: Sequence[Any], catalog: AxonCatalog, flt: EventFilter | None) -> bool:
    """The parts of a filter answerable from the row's plain columns (no decoding)."""
    if flt is None:
        return True
    stream_id, stream_type, _version = row_mapping.stream_of(row, catalog)
    if flt.stream_id is not None and stream_id != flt.stream_id:
        return False
    if flt.stream_prefix and not stream_id.startswith(flt.stream_prefix):
        return False
    if flt.stream_type is not None and stream_type != flt.stream_type:
        return False
    if flt.event_types is not None:
        if row_mapping.event_type_of(row[row_mapping.PAYLOAD_TYPE]) not in flt.event_types:
            return False
    if flt.since is not None or flt.until is not None:
        moment = row_mapping.parse_time(row[row_mapping.TIME]) or EPOCH
        probe = RecordedEvent(
            0, "", "", 0, "", "", 1, {}, {}, moment, moment, ""
        )  # only the times are compared
        return matches(probe, EventFilter(since=flt.since, until=flt.until))
    return True
