"""Emmett's stores as a source kind: recognised by Emmett's `emt_messages` and
`emt_streams` tables, in a SQLite file or one schema of a PostgreSQL database.

Detection asks for table names only, never column types: PostgreSQL's `xid8` columns
(`transaction_id`) are unknown to SQLAlchemy's reflection, which warns on stderr about
each one it sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables

EMMETT_TABLES = frozenset({"emt_messages", "emt_streams"})


def _has_emmett_tables(tables: Tables) -> bool:
    return EMMETT_TABLES <= tables.names()


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.emmett.source import EmmettSource

    return EmmettSource.open_location(location)


KIND = SourceKind(
    name="emmett",
    open=_open,
    # No `noun`/`file_noun` yet: they would change the "neither ... nor ..." sentences
    # that tests/sources/test_open_detection.py pins while several kinds are merged;
    # the coordinator adds "one written by Emmett" when composing them.
    dialects=("sqlite", "postgresql"),
    in_database=_has_emmett_tables,
)
