"""A Marten event store (PostgreSQL) as a read-only `EventSource`.

Marten's tables are read directly with SQL; Marten itself (a .NET library) is not
needed. What the reader adapts to is found once at open (`layout`): uuid or text stream
ids, conjoined tenancy, the optional metadata and binary columns, and the inline
snapshot document tables.

The global order is `seq_id`. It has gaps (sequence values taken by appends that rolled
back), and the order in which appends *commit* is not the order of their `seq_id`, which
is why Marten's async daemon keeps a high-water mark: below it every `seq_id` that will
ever exist has committed. eventscope reads nothing above the `HighWaterMark` row of
`mt_event_progression` when it exists (every query carries `claims.HORIZON`): an event
there may yet get a neighbour below it, so it is not settled history. Without the row
(no async daemon ever ran) every event is read.

Read-only means read-only: every session has `default_transaction_read_only` on
(`store.sql.postgres`), and this class has no method that writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from eventscope.store.errors import NotAStoreError, StoreError
from eventscope.store.foreign import matches
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.location import Location, parse_location
from eventscope.store.paging import keyset_chunks, position_window
from eventscope.store.records import (
    Digest,
    ProjectionRow,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback
from eventscope.store.sources.marten import claims
from eventscope.store.sources.marten.events import EventDecoder
from eventscope.store.sources.marten.filters import Where, where
from eventscope.store.sources.marten.identity import Identity
from eventscope.store.sources.marten.layout import MartenLayout, read_layout
from eventscope.store.sources.marten.streams import MartenStream, StreamCatalog
from eventscope.store.sql import postgres
from eventscope.store.sql.reader import SqlReader
from sqlalchemy import Connection

_CHUNK = 2000
# One stream is read in larger chunks: a replay is the hot path, and each chunk is a
# round trip (the index range is cheap to resume, so memory is the only limit).
_STREAM_CHUNK = 5000
NO_CHAIN = "Marten keeps no hash chain"


class MartenSource(ClosingContext):
    """Read-only access to one Marten event store (one PostgreSQL schema)."""

    def __init__(self, reader: SqlReader, layout: MartenLayout) -> None:
        self._reader = reader
        self._fetchall = reader.fetchall
        self.layout = layout
        self.identity = Identity(
            uuid_ids=layout.uuid_ids, conjoined=layout.conjoined, tenants=layout.tenants
        )
        self._catalog = StreamCatalog(reader, layout, self.identity)
        self._decode = EventDecoder(layout)
        columns = self._decode.select
        join = "s.id = e.stream_id" + (" AND s.tenant_id = e.tenant_id" if layout.conjoined else "")
        self._all_select = (
            f"SELECT {columns}, s.type FROM mt_events e LEFT JOIN mt_streams s ON {join}"  # noqa: S608
        )
        self._stream_select = f"SELECT {columns} FROM mt_events e"  # noqa: S608
        self._join = join

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, location: str, *, schema: str | None = None) -> MartenSource:
        """Open a PostgreSQL URL (`?schema=` when the store is not in `public`)."""
        return cls.open_location(parse_location(location, schema))

    @classmethod
    def open_location(cls, location: Location) -> MartenSource:
        """`open` for a parsed location (`store.location`)."""
        if location.url is None or location.schema is None:
            raise NotAStoreError("a Marten event store lives in PostgreSQL: give its URL")
        engine = postgres.make_engine(location.url, schema=location.schema, read_only=True)
        postgres.check_connection(engine, location.url)
        reader = SqlReader(engine, location.display())
        try:
            layout = read_layout(reader)
        except StoreError:
            reader.close()
            raise
        return cls(reader, layout)

    def close(self) -> None:
        self._reader.close()

    def connect(self) -> Connection:
        """A connection from the pool every read uses (a read-only session), for
        inspection and for tests that prove writes are refused below the source."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="marten-postgresql",
            location=self._reader.location,
            read_only=True,
            has_hash_chain=False,
        )

    def high_water_mark(self) -> int | None:
        """The async daemon's safe horizon (`HighWaterMark`), None when it never ran."""
        return claims.high_water_mark(self._reader)

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        row = self._reader.fetchone(
            f"SELECT COALESCE(max(seq_id), 0) FROM mt_events WHERE seq_id <= {claims.HORIZON}"  # noqa: S608
        )
        return int(row[0])

    def event_count(self) -> int:
        row = self._reader.fetchone(
            f"SELECT count(*) FROM mt_events WHERE seq_id <= {claims.HORIZON}"  # noqa: S608
        )
        return int(row[0])

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        stream = self._catalog.find(stream_id)
        if stream is None:
            return iter(())
        low = max(from_version, stream.first_version)
        high = stream.last_version if to_version is None else min(to_version, stream.last_version)
        return self._read_stream(stream, low, high, backwards)

    def _read_stream(
        self, stream: MartenStream, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        if low > high:
            return
        # No high-water condition here: Marten appends a stream's versions in seq_id
        # order (the stream row is locked), so the stream's last settled version, which
        # the catalog found below the mark, bounds the read; and a seq_id condition
        # would lead PostgreSQL to walk the global index instead of the stream's.
        tenant = ""
        params: list[Any] = [stream.stored]
        if stream.block.tenant is not None and self.layout.has("tenant_id"):
            tenant = " AND e.tenant_id = ?"
            params.append(stream.block.tenant)
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{self._stream_select} WHERE e.stream_id = {self._catalog.id_cast}{tenant} "
            f"AND e.version >= ? AND e.version <= ? ORDER BY e.version {order} LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (*params, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Sequence[Any], bounds: tuple[int, int]) -> tuple[int, int]:
            return (bounds[0], row[3] - 1) if backwards else (row[3] + 1, bounds[1])

        shown, stream_type, decode = stream.shown, stream.stream_type, self._decode
        for rows in keyset_chunks(fetch, (low, high), _STREAM_CHUNK, advance):
            for row in rows:
                yield decode(row, shown, stream_type)

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """Fold rows from five columns, bounded as `read_stream` bounds its read."""
        stream = self._catalog.find(stream_id)
        if stream is None:
            return iter(())
        low = max(from_version, stream.first_version)
        high = stream.last_version if to_version is None else min(to_version, stream.last_version)
        return self._read_replay(stream, low, high)

    def _read_replay(self, stream: MartenStream, low: int, high: int) -> Iterator[ReplayRow]:
        if low > high:
            return
        tenant = ""
        params: list[Any] = [stream.stored]
        if stream.block.tenant is not None and self.layout.has("tenant_id"):
            tenant = " AND e.tenant_id = ?"
            params.append(stream.block.tenant)
        sql = (
            f"SELECT {self._decode.replay_select} FROM mt_events e "  # noqa: S608
            f"WHERE e.stream_id = {self._catalog.id_cast}{tenant} "
            f"AND e.version >= ? AND e.version <= ? ORDER BY e.version LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (*params, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Sequence[Any], bounds: tuple[int, int]) -> tuple[int, int]:
            return (row[0] + 1, bounds[1])

        for rows in keyset_chunks(fetch, (low, high), _STREAM_CHUNK, advance):
            yield from self._decode.replay_rows(rows)

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
        conditions = where(flt, self.layout, self.identity)
        if conditions is None:
            return
        window = position_window(from_position, to_position, backwards)
        sql = (
            f"{self._all_select} WHERE {window.where('e.seq_id')} "
            f"AND e.seq_id <= {claims.HORIZON}{conditions.sql()} "
            f"ORDER BY e.seq_id {window.order} LIMIT ?"
        )
        # Without a check left for Python, a limit bounds the rows worth fetching.
        size = _CHUNK if limit is None or conditions.in_python else min(_CHUNK, limit)

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *conditions.params, size))

        produced = 0
        present, decode, width = self.identity.present, self._decode, self._decode.width
        for rows in keyset_chunks(fetch, window.cursor, size, _next_position):
            for row in rows:
                event = decode(row, present(row[2], row[1]), row[width] or "")
                if conditions.in_python and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def event_at(self, position: int) -> RecordedEvent | None:
        row = self._reader.fetchone(
            f"{self._all_select} WHERE e.seq_id = ? AND e.seq_id <= {claims.HORIZON}",
            (position,),
        )
        if row is None:
            return None
        return self._decode(row, self.identity.present(row[2], row[1]), row[-1] or "")

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self.event_count()
        conditions = where(filter, self.layout, self.identity)
        if conditions is None:
            return 0
        if conditions.in_python:
            return sum(1 for _ in self._read_all(0, None, filter, None, False))
        row = self._reader.fetchone(self._filtered("count(*)", conditions), conditions.params)
        return int(row[0])

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        conditions = where(filter, self.layout, self.identity)
        if conditions is None:
            return []
        if conditions.in_python:
            events = self._read_all(0, None, filter, None, False)
            return histogram_of_micros([to_micros(e.recorded_at) for e in events], buckets)
        rows = self._fetchall(self._filtered("e.timestamp", conditions), conditions.params)
        return histogram_of_micros([to_micros(row[0]) for row in rows], buckets)

    def _filtered(self, what: str, conditions: Where) -> str:
        return (
            f"SELECT {what} FROM mt_events e LEFT JOIN mt_streams s ON {self._join} "  # noqa: S608
            f"WHERE e.seq_id <= {claims.HORIZON}{conditions.sql()}"
        )

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
        return [s.info() for s in self._catalog.page(stream_type, prefix, after, limit)]

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        stream = self._catalog.find(stream_id)
        return stream.info() if stream is not None else None

    def stream_types(self) -> list[tuple[str, int]]:
        return self._catalog.types()

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        return self._catalog.count(stream_type, prefix)

    def is_archived(self, stream_id: str) -> bool:
        """Whether Marten archived the stream (`mt_streams.is_archived`); its events
        carry ``"is_archived": true`` in their metadata too."""
        for block, stored in self.identity.parse(stream_id):
            sql = f"SELECT is_archived FROM mt_streams s WHERE s.id = {self._catalog.id_cast}"  # noqa: S608
            params: list[Any] = [stored]
            if block.tenant is not None:
                sql += " AND s.tenant_id = ?"
                params.append(block.tenant)
            row = self._reader.fetchone(sql, params)
            if row is not None:
                return bool(row[0])
        return False

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        stream = self._catalog.find(stream_id)
        if stream is None:
            return []
        table = claims.table_for(self.layout, stream.stream_type)
        if table is None:
            return []
        found = claims.snapshot_document(
            self._reader, table, stream.block, stream.stored, stream.shown
        )
        # A document claiming a version above the settled history speaks of events
        # eventscope does not show yet; it is checked once they are settled.
        if found is None or found.version > stream.last_version:
            return []
        return [found]

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        found = [s for s in self.snapshots(stream_id) if s.version <= version]
        return found[-1] if found else None

    def checkpoints(self) -> dict[str, int]:
        return claims.checkpoints(self._reader)

    def projection_names(self) -> list[str]:
        return sorted(self.checkpoints())

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        """Marten keeps a projection's documents in tables named after the document
        type, not the projection, so rows are not attributed to projections."""
        return []

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        return None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check: read every settled event and count payloads that cannot be
        read as a JSON object (binary events are readable, only not JSON)."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason=f"{NO_CHAIN}, so this store cannot be checked against a digest",
            )
        total = self.event_count()
        checked = malformed = binary = 0
        first_bad: int | None = None
        first_reason = ""
        for event in self._read_all(0, None, None, None, False):
            checked += 1
            binary += "bdata" in event.metadata
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
                reason=f"{malformed} payload(s) cannot be read; the first, at position "
                f"{first_bad}: {first_reason}",
                malformed=malformed,
            )
        return VerifyReport(
            ok=True,
            checked=checked,
            reason=f"{NO_CHAIN}, so nothing proves the history unaltered; every payload "
            f"was read ({binary} binary event(s), shown by size)",
        )

    def head_digest(self) -> Digest:
        raise StoreError(
            f"{NO_CHAIN}, so it has no digest to keep; import it into a native store to get one"
        )


def _next_position(row: Sequence[Any], _cursor: int) -> int:
    return int(row[0])
