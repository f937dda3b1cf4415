"""The `eventsourcing` library's stores as a source kind: recognised by a table with the
library's event columns, in a SQLite file or one schema of a PostgreSQL database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables

# The columns of the library's stored-events tables (its recorders write these).
EVENTS_TABLE_COLUMNS = frozenset({"originator_id", "originator_version", "topic", "state"})


def _has_library_tables(tables: Tables) -> bool:
    return any(EVENTS_TABLE_COLUMNS <= tables.columns(name) for name in sorted(tables.names()))


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.eventsourcing.source import EventsourcingSource

    return EventsourcingSource.open_location(location)


KIND = SourceKind(
    name="eventsourcing",
    open=_open,
    noun="one written by the eventsourcing library",
    file_noun="an eventsourcing SQLite file",
    dialects=("sqlite", "postgresql"),
    in_database=_has_library_tables,
)
