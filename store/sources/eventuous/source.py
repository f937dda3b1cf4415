"""Eventuous's PostgreSQL store as a read-only `EventSource`.

The tables are read directly (never Eventuous's functions, which a read-only role may not
run and which resolve names through `search_path`): `messages` in `global_position`
order, a stream's messages by `(stream_id, stream_position)` -- both unique indexes
Eventuous creates -- and `streams` for names. Sessions are read-only
(`default_transaction_read_only`, `store.sql.postgres`), and this class has no writing
method at all.

Where the work is done: stream names in memory (`catalog`, for code-point keyset
paging), versions from positions (`numbering`), rows to records (`rows`), filters in SQL
(`filters`), checkpoints and their lag (`checkpoints`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from eventscope.store.errors import StoreError
from eventscope.store.foreign import matches
from eventscope.store.histogram import check_buckets, histogram_of_micros, slices
from eventscope.store.location import Location, parse_location
from eventscope.store.paging import keyset_chunks, position_window
from eventscope.store.records import (
    Digest,
    ProjectionRow,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    VerifyReport,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback
from eventscope.store.sources.eventuous import checkpoints as claims
from eventscope.store.sources.eventuous.catalog import StreamCatalog
from eventscope.store.sources.eventuous.filters import sql_filter
from eventscope.store.sources.eventuous.layout import find_schema
from eventscope.store.sources.eventuous.numbering import EMPTY, Numbering, Numberings
from eventscope.store.sources.eventuous.rows import (
    EVENT_COLUMNS,
    EventuousStreamInfo,
    event,
    replay_rows,
)
from eventscope.store.sql import postgres
from eventscope.store.sql.reader import SqlReader
from eventscope.store.times import as_utc
from sqlalchemy import Connection

_CHUNK = 2000
_STREAM_CHUNK = 5000
_EVENT_SELECT = f"SELECT {EVENT_COLUMNS} FROM messages m"  # noqa: S608 - fixed text
_STREAM_ENDS = (
    "SELECT s.stream_id, "
    "(SELECT min(m.stream_position) FROM messages m WHERE m.stream_id = s.stream_id), "
    "(SELECT max(m.stream_position) FROM messages m WHERE m.stream_id = s.stream_id) "
    "FROM streams s WHERE s.stream_name = ?"
)
_PAGE_SQL = (
    "SELECT s.id, f.global_position, f.created, f.stream_position, "
    "l.global_position, l.created, l.stream_position, "
    "CASE WHEN s.id = ANY(?::int[]) THEN NULL "
    "ELSE (SELECT count(*) FROM messages c WHERE c.stream_id = s.id) END "
    "FROM unnest(?::int[]) AS s(id) "
    "LEFT JOIN LATERAL (SELECT global_position, created, stream_position FROM messages m "
    "WHERE m.stream_id = s.id ORDER BY stream_position LIMIT 1) f ON TRUE "
    "LEFT JOIN LATERAL (SELECT global_position, created, stream_position FROM messages m "
    "WHERE m.stream_id = s.id ORDER BY stream_position DESC LIMIT 1) l ON TRUE"
)
# Microseconds since 1970 of the zone-less `created` (UTC), exactly: whole seconds plus
# the fraction, both integers (no floating point), as `store.histogram` requires.
_CREATED_MICROS = (
    "CAST(EXTRACT(EPOCH FROM date_trunc('second', m.created)) AS BIGINT) * 1000000 "
    "+ mod(CAST(EXTRACT(MICROSECONDS FROM m.created) AS BIGINT), 1000000)"
)
# How often a listing looks for streams created since the last look.
_REFRESH_EVERY_S = 1.0
NO_CHAIN = "Eventuous keeps no hash chain, so nothing here is proven unchanged"


class EventuousSource(ClosingContext):
    """Read-only access to one Eventuous store (one PostgreSQL schema)."""

    def __init__(self, reader: SqlReader, schema: str) -> None:
        self._reader = reader
        self._schema = schema
        self._fetchall = reader.fetchall
        self._catalog = StreamCatalog(reader)
        self._numberings = Numberings(reader)
        self._refreshed = -_REFRESH_EVERY_S  # time.monotonic() of the last catalog look

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, location: str, *, schema: str | None = None) -> EventuousSource:
        """Open a PostgreSQL URL holding Eventuous's tables (`?schema=` for another schema
        than `eventuous`)."""
        return cls.open_location(parse_location(location, schema))

    @classmethod
    def open_location(cls, location: Location) -> EventuousSource:
        if location.url is None:
            raise StoreError("Eventuous keeps its events in PostgreSQL; give a postgresql:// URL")
        schema = find_schema(location)
        engine = postgres.make_engine(location.url, schema=schema, read_only=True)
        postgres.check_connection(engine, location.url)
        shown = postgres.safe_location(location.url)
        return cls(SqlReader(engine, f"{shown} (schema {schema})"), schema)

    def close(self) -> None:
        self._reader.close()

    def connect(self) -> Connection:
        """A connection from the pool every read uses (a read-only one), for inspection
        and for tests that prove writes are refused below the source."""
        return self._reader.connect()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="eventuous-postgresql",
            location=self._reader.location,
            read_only=True,
            has_hash_chain=False,
        )

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        row = self._fetchall("SELECT COALESCE(max(global_position), 0) FROM messages")
        return int(row[0][0])

    def event_count(self) -> int:
        return int(self._fetchall("SELECT count(*) FROM messages")[0][0])

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        found = self._fetchall(_STREAM_ENDS, (stream_id,))
        if not found:
            return iter(())
        stored, low_end, high_end = found[0]
        numbering = self._numberings.for_ends({stored: (low_end, high_end)})[stored]
        low = max(from_version, 1)
        high = numbering.count if to_version is None else min(to_version, numbering.count)
        if low > high:
            return iter(())
        return self._read_stream(stream_id, stored, numbering, low, high, backwards)

    def _read_stream(
        self, name: str, stored: int, numbering: Numbering, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        order = "DESC" if backwards else "ASC"
        sql = (
            f"{_EVENT_SELECT} WHERE m.stream_id = ? AND m.stream_position >= ? "
            f"AND m.stream_position <= ? ORDER BY m.stream_position {order} LIMIT ?"
        )
        stream_type = self._catalog.stream_type(name)

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stored, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (bounds[0], row[2] - 1) if backwards else (row[2] + 1, bounds[1])

        start = (numbering.position_of(low), numbering.position_of(high))
        for rows in keyset_chunks(fetch, start, _STREAM_CHUNK, advance):
            for row in rows:
                yield event(row, name, stream_type, numbering)

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """Fold rows from four columns: no metadata document, no times."""
        found = self._fetchall(_STREAM_ENDS, (stream_id,))
        if not found:
            return iter(())
        stored, low_end, high_end = found[0]
        numbering = self._numberings.for_ends({stored: (low_end, high_end)})[stored]
        low = max(from_version, 1)
        high = numbering.count if to_version is None else min(to_version, numbering.count)
        if low > high:
            return iter(())
        return self._read_replay(stored, numbering, low, high)

    def _read_replay(
        self, stored: int, numbering: Numbering, low: int, high: int
    ) -> Iterator[ReplayRow]:
        sql = (
            "SELECT m.stream_position, m.global_position, m.message_type, m.json_data::text "
            "FROM messages m WHERE m.stream_id = ? AND m.stream_position >= ? "
            "AND m.stream_position <= ? ORDER BY m.stream_position LIMIT ?"
        )

        def fetch(bounds: tuple[int, int]) -> list[Any]:
            return self._fetchall(sql, (stored, bounds[0], bounds[1], _STREAM_CHUNK))

        def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
            return (row[0] + 1, bounds[1])

        start = (numbering.position_of(low), numbering.position_of(high))
        for rows in keyset_chunks(fetch, start, _STREAM_CHUNK, advance):
            yield from replay_rows(rows, numbering)

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
        where = sql_filter(flt)
        window = position_window(from_position, to_position, backwards)
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM {where.source_sql()} "  # noqa: S608 - fixed text
            f"WHERE {window.where('m.global_position')} AND {where.where()} "
            f"ORDER BY m.global_position {window.order} LIMIT ?"
        )
        size = _CHUNK if limit is None or not where.exact else min(_CHUNK, limit)
        numberings: dict[int, Numbering] = {}
        produced = 0

        def fetch(cursor: int) -> list[Any]:
            return self._fetchall(sql, (cursor, window.bound, *where.params, size))

        for rows in keyset_chunks(fetch, window.cursor, size, _next_position):
            for item in self._events(rows, numberings):
                if not where.exact and not matches(item, flt):
                    continue
                yield item
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def _events(
        self, rows: Sequence[Any], numberings: dict[int, Numbering]
    ) -> Iterator[RecordedEvent]:
        """Rows of several streams as records (their numberings looked up once per call)."""
        unseen = {row[1] for row in rows} - numberings.keys()
        if unseen:
            numberings.update(self._numberings.for_streams(unseen))
        catalog = self._catalog
        for row in rows:
            name = catalog.name_of(row[1])
            yield event(row, name, catalog.stream_type(name), numberings.get(row[1], EMPTY))

    def event_at(self, position: int) -> RecordedEvent | None:
        rows = self._fetchall(f"{_EVENT_SELECT} WHERE m.global_position = ?", (position,))
        if not rows:
            return None
        return next(self._events(rows, {}))

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        where = sql_filter(filter)
        if not where.exact:
            return sum(1 for _ in self._read_all(0, None, filter, None, False))
        sql = f"SELECT count(*) FROM {where.source_sql()} WHERE {where.where()}"  # noqa: S608
        return int(self._fetchall(sql, where.params)[0][0])

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        where = sql_filter(filter)
        if not where.exact:
            events = self._read_all(0, None, filter, None, False)
            return histogram_of_micros([to_micros(e.recorded_at) for e in events], buckets)
        source, condition = where.source_sql(), where.where()
        ends = f"SELECT min(m.created), max(m.created) FROM {source} WHERE {condition}"  # noqa: S608
        low, high = self._fetchall(ends, where.params)[0]
        if low is None:
            return []
        cut = slices(to_micros(as_utc(low)), to_micros(as_utc(high)), buckets)
        index_sql, index_params = cut.sql_index(_CREATED_MICROS)
        sql = (
            f"SELECT {index_sql} AS bucket, count(*) FROM {source} "  # noqa: S608
            f"WHERE {condition} GROUP BY bucket"
        )
        counts = [0] * buckets
        for bucket, count in self._fetchall(sql, (*index_params, *where.params)):
            counts[cut.clamp(int(bucket))] += count
        return cut.histogram(counts)

    # --- streams ------------------------------------------------------------------------
    def _names(self) -> StreamCatalog:
        """The catalog, looked at for new streams at most every `_REFRESH_EVERY_S`."""
        now = time.monotonic()
        if now - self._refreshed >= _REFRESH_EVERY_S:
            self._catalog.refresh()
            self._refreshed = now
        return self._catalog

    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[EventuousStreamInfo]:
        if limit <= 0:
            return []
        names = list(islice(self._names().names(stream_type, prefix, after), limit))
        return self._infos(names)

    def stream_info(self, stream_id: str) -> EventuousStreamInfo | None:
        catalog = self._catalog
        if stream_id not in catalog.by_name:
            catalog.refresh()
            if stream_id not in catalog.by_name:
                return None
        return self._infos([stream_id])[0]

    def stream_types(self) -> list[tuple[str, int]]:
        return self._names().types()

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        catalog = self._names()
        if stream_type is None and not prefix:
            return len(catalog)
        return sum(1 for _ in catalog.names(stream_type, prefix, None))

    def _infos(self, names: list[str]) -> list[EventuousStreamInfo]:
        """Catalog rows for a page: the first and last message of each stream (two index
        probes each, one query) and its numbering."""
        if not names:
            return []
        catalog = self._catalog
        ids = [catalog.by_name[name] for name in names]
        # One query: both ends of each stream, and the count of those whose numbering is
        # not remembered (a remembered one is reused while its ends are unchanged).
        known = list(self._numberings.known_streams().intersection(ids))
        rows = {row[0]: row for row in self._fetchall(_PAGE_SQL, (known, ids))}
        numberings: dict[int, Numbering] = {}
        recount: dict[int, tuple[int | None, int | None]] = {}
        for stored in ids:
            row = rows[stored]
            low, high, count = row[3], row[6], row[7]
            found = self._numberings.cached(stored, low, high)
            if found is not None:
                numberings[stored] = found
            elif count is not None:
                numberings[stored] = self._numberings.counted(stored, low, high, int(count))
            else:
                recount[stored] = (low, high)  # appended to or truncated since
        if recount:
            numberings.update(self._numberings.for_ends(recount))
        out = []
        for name, stored in zip(names, ids, strict=True):
            _id, first_pos, first_at, _low, last_pos, last_at, _high, _count = rows[stored]
            numbering = numberings[stored]
            out.append(
                EventuousStreamInfo(
                    stream_id=name,
                    stream_type=catalog.stream_type(name),
                    version=numbering.count,
                    event_count=numbering.count,
                    first_recorded_at=as_utc(first_at) if first_at is not None else None,
                    last_recorded_at=as_utc(last_at) if last_at is not None else None,
                    first_position=first_pos,
                    last_position=last_pos,
                    truncated_before=numbering.first_position,
                    missing_positions=numbering.missing if numbering.count else 0,
                )
            )
        return out

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        """Eventuous keeps no snapshots (its aggregates are always replayed)."""
        return []

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        return None

    def checkpoints(self) -> dict[str, int]:
        return claims.read_checkpoints(self._reader)

    def checkpoint_lags(self) -> list[claims.CheckpointLag]:
        """Every subscription's checkpoint with its lag in events (see `checkpoints`)."""
        return claims.lags(self._reader)

    def projection_names(self) -> list[str]:
        return sorted(self.checkpoints())

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        """Eventuous's read models live in the application's own database, not here."""
        return []

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        return None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """No chain to check: read every message and count those that cannot be decoded
        (`malformed`). The report says plainly that nothing was proven."""
        if against is not None:
            return VerifyReport(
                ok=False,
                checked=0,
                reason=f"{NO_CHAIN}: this store cannot be checked against a digest",
            )
        total = self.event_count()
        checked = malformed = 0
        first_bad: int | None = None
        first_reason = ""
        for item in self._read_all(0, None, None, None, False):
            checked += 1
            if item.decode_error is not None:
                malformed += 1
                if first_bad is None:
                    first_bad, first_reason = item.position, item.decode_error
            if progress is not None and checked % _CHUNK == 0:
                progress(checked, total)
        if progress is not None:
            progress(checked, total)
        if malformed:
            return VerifyReport(
                ok=False,
                checked=checked,
                first_bad_position=first_bad,
                reason=f"{malformed} message(s) cannot be decoded; the first, at position "
                f"{first_bad}: {first_reason}. {NO_CHAIN}",
                malformed=malformed,
            )
        return VerifyReport(
            ok=True,
            checked=checked,
            reason=f"{NO_CHAIN}; every message was read and decoded",
        )

    def head_digest(self) -> Digest:
        raise StoreError(
            "an Eventuous store has no hash chain, so it has no digest to keep; "
            "import it into a native store to get one"
        )


def _next_position(row: Sequence[Any], _cursor: int) -> int:
    return int(row[0])
