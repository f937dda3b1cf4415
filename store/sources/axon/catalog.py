"""The stream catalog of an Axon store. Axon keeps no streams table, so the per-aggregate
numbers come from the shared cached catalog (`store.sql.stream_catalog`: a SQLite file in
eventscope's cache folder, never the audited database, extended from the last global
index it saw), and a streams page at 100k aggregates is a keyset query on that file.

Events not applied by an aggregate (published on the event bus) are stored one per
"aggregate" keyed by their own id; listed naively they would be thousands of one-event
streams. They are gathered into one stream, `NO_AGGREGATE_STREAM`, whose versions are
their order by global index (those indexes are read when first needed, sorted).

Axon's trap for an incremental catalog: with Hibernate's block allocation a lower global
index can commit after a higher one was counted. So every refresh also counts the rows at
or below the catalog's last index; a count that differs from the catalog's means a late
commit landed below it, and the catalog is rebuilt.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from pathlib import Path

from eventscope.store.records import EPOCH, StreamInfo
from eventscope.store.sources.axon.layout import Layout
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.stream_catalog import (
    CatalogSource,
    CatalogStream,
    StreamCatalog,
    as_datetime,
)

NO_AGGREGATE_STREAM = "(no aggregate)"
NO_AGGREGATE_TYPE = "(no aggregate)"


# Text that starts like an ISO-8601 date and time; anything else is not cast (one stray
# value must not make the whole catalog query fail), so its time is unknown.
_ISO_START = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"


def catalog_selectable(layout: Layout) -> str:
    """Axon's events as the catalog's columns; the recorded time is cast in SQL so that
    MIN/MAX order instants, not text (old formats and offsets sort wrong as text)."""
    without = layout.without_aggregate
    group = f"'{NO_AGGREGATE_STREAM}'"
    stamp = layout.column(7)
    return (
        f"SELECT {layout.position} AS global_position, "  # noqa: S608 - names from the catalog
        f"CASE WHEN {without} THEN {group} ELSE {layout.aggregate} END AS stream, "
        f"CASE WHEN {without} THEN 0 ELSE {layout.sequence} + 1 END AS version, "
        f"CASE WHEN {stamp} ~ '{_ISO_START}' THEN CAST({stamp} AS timestamptz) END AS recorded, "
        f"CASE WHEN {without} THEN {group} ELSE {layout.aggregate_type} END AS stream_type "
        f"FROM {layout.table}"
    )


class AxonCatalog:
    """The cached catalog plus the sorted positions of the no-aggregate group."""

    def __init__(self, reader: SqlReader, layout: Layout, identity: str) -> None:
        self._reader = reader
        self._layout = layout
        self._source = CatalogSource(reader, catalog_selectable(layout), identity)
        self._catalog = StreamCatalog(self._source)
        self._group: list[int] | None = None
        self._lock = threading.Lock()
        self._refresh()

    def _refresh(self) -> None:
        self._catalog.refresh()
        last = self._catalog.last_position
        layout = self._layout
        counted = self._reader.fetchone(
            f"SELECT count(*) FROM {layout.table} WHERE {layout.position} <= ?",  # noqa: S608
            (last,),
        )
        if int(counted[0]) != self._catalog.event_count():
            self._rebuild()

    def _rebuild(self) -> None:
        """Start the cache file over: a commit landed below the last counted index."""
        path = self._catalog.path
        self._catalog.close()
        if path is not None:
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
        self._catalog = StreamCatalog(self._source)
        self._catalog.refresh()

    # --- the group of events without an aggregate ----------------------------------------
    def group_positions(self) -> list[int]:
        found = self._group
        if found is not None:
            return found
        with self._lock:
            if self._group is None:
                layout = self._layout
                rows = self._reader.fetchall(
                    f"SELECT {layout.position} FROM {layout.table} "  # noqa: S608
                    f"WHERE {layout.without_aggregate} ORDER BY {layout.position}"
                )
                self._group = [int(row[0]) for row in rows]
            return self._group

    def group_version(self, position: int) -> int:
        """The version of a non-aggregate event within `NO_AGGREGATE_STREAM`."""
        return bisect_left(self.group_positions(), position) + 1

    # --- reads --------------------------------------------------------------------------
    @property
    def event_count(self) -> int:
        return self._catalog.event_count()

    def stream(self, stream_id: str) -> StreamInfo | None:
        row = self._catalog.stream(stream_id)
        return None if row is None else _info(row)

    def streams(
        self, stream_type: str | None, prefix: str | None, after: str | None, limit: int
    ) -> list[StreamInfo]:
        return [_info(row) for row in self._catalog.streams(stream_type, prefix, after, limit)]

    def stream_types(self) -> list[tuple[str, int]]:
        return self._catalog.stream_types()

    def count_streams(self, stream_type: str | None, prefix: str | None) -> int:
        return self._catalog.count_streams(stream_type, prefix)

    def close(self) -> None:
        self._catalog.close()


def _info(row: CatalogStream) -> StreamInfo:
    """A catalog row as the protocol's record; the group's version is its event count
    (its versions are ranks, not stored numbers)."""
    group = row.stream_id == NO_AGGREGATE_STREAM
    return StreamInfo(
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.event_count if group else row.version,
        event_count=row.event_count,
        first_recorded_at=as_datetime(row.first_micros) or EPOCH,
        last_recorded_at=as_datetime(row.last_micros) or EPOCH,
        first_position=row.first_position,
        last_position=row.last_position,
    )
