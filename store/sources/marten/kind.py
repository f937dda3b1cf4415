"""Marten's event store as a source kind: recognised in one PostgreSQL schema by the
three tables every Marten event store has (`mt_events`, `mt_streams`,
`mt_event_progression`), whatever optional columns its version and settings added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables

MARTEN_TABLES = frozenset({"mt_events", "mt_streams", "mt_event_progression"})
# Columns every Marten version since 4.x writes in mt_events.
EVENT_COLUMNS = frozenset({"seq_id", "id", "stream_id", "version", "data", "type", "timestamp"})


def _has_marten_tables(tables: Tables) -> bool:
    return MARTEN_TABLES <= tables.names() and EVENT_COLUMNS <= tables.columns("mt_events")


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.marten.source import MartenSource

    return MartenSource.open_location(location)


KIND = SourceKind(
    name="marten",
    open=_open,
    noun="one written by Marten",
    dialects=("postgresql",),
    in_database=_has_marten_tables,
)
