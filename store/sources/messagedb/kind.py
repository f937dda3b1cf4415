"""Message DB as a source kind: recognised by the table its installer creates,
`message_store.messages`, in a PostgreSQL database (whatever schema the URL selects)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables

SCHEMA = "message_store"
TABLE = "messages"
# The columns the source reads (Message DB 1.x writes exactly these).
COLUMNS = frozenset(
    {"global_position", "position", "time", "stream_name", "type", "data", "metadata", "id"}
)


def _has_message_store(tables: Tables) -> bool:
    return TABLE in tables.names(SCHEMA) and COLUMNS <= tables.columns(TABLE, SCHEMA)


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.messagedb.source import MessageDbSource

    return MessageDbSource.open_location(location, request.progress)


KIND = SourceKind(
    name="messagedb",
    open=_open,
    noun="a Message DB store",
    dialects=("postgresql",),
    in_database=_has_message_store,
)
