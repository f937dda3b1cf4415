"""Axon Framework's event store as a source kind: recognised in one schema of a
PostgreSQL database by an events table in any of Axon's naming schemes (JPA's
`domain_event_entry`, the JDBC engine's `domainevententry`, Axon 5's
`aggregate_event_entry`) with its key columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.store.kinds import OpenRequest, SourceKind
from eventscope.store.sources.axon.layout import scheme_of

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource
    from eventscope.store.sql.tables import Tables


def _has_axon_tables(tables: Tables) -> bool:
    return scheme_of(tables.names(), tables.columns) is not None


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.axon.source import AxonSource

    return AxonSource.open_location(location)


KIND = SourceKind(
    name="axon",
    open=_open,
    noun="one written by Axon Framework",
    dialects=("postgresql",),
    in_database=_has_axon_tables,
)
