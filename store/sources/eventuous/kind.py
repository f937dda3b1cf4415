"""Eventuous's PostgreSQL store as a source kind: recognised by its three tables
(`streams`, `messages`, `checkpoints`) with Eventuous's columns, in the selected schema
or, for a plain URL, in Eventuous's default schema `eventuous`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables

# `Schema.DefaultSchema` in Eventuous.Postgresql.
DEFAULT_SCHEMA = "eventuous"
TABLES = frozenset({"streams", "messages", "checkpoints"})
# Columns `1_Schema.sql` creates; checked so another program's `messages` table is not ours.
MESSAGE_COLUMNS = frozenset(
    {"message_id", "message_type", "stream_id", "stream_position", "global_position"}
    | {"json_data", "json_metadata", "created"}
)
STREAM_COLUMNS = frozenset({"stream_name", "stream_id", "version"})


def has_eventuous_tables(tables: Tables, schema: str | None = None) -> bool:
    """Whether `schema` (None: the selected one) holds Eventuous's tables."""
    if not TABLES <= tables.names(schema):
        return False
    return MESSAGE_COLUMNS <= tables.columns("messages", schema) and (
        STREAM_COLUMNS <= tables.columns("streams", schema)
    )


def _detect(tables: Tables) -> bool:
    return has_eventuous_tables(tables) or has_eventuous_tables(tables, DEFAULT_SCHEMA)


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.eventuous.source import EventuousSource

    return EventuousSource.open_location(location)


KIND = SourceKind(
    name="eventuous",
    open=_open,
    noun="one written by Eventuous",
    dialects=("postgresql",),
    in_database=_detect,
)
