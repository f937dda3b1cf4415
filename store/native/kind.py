"""The native store as a source kind: recognised by its `store_info` table, in a SQLite
file or one schema of a PostgreSQL database, and the one kind that can be written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables


def _is_native(tables: Tables) -> bool:
    return "store_info" in tables.names()


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.native.event_store import EventStore
    from eventscope.store.native.opening import open_database

    return EventStore(open_database(location, read_only=request.read_only))


KIND = SourceKind(
    name="native",
    open=_open,
    noun="an eventscope store",
    file_noun="an eventscope store",
    dialects=("sqlite", "postgresql"),
    in_database=_is_native,
    writable=True,
)
