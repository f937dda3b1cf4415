"""Which schema of a PostgreSQL database holds the Eventuous store a location means.

Eventuous creates its tables in `eventuous` unless configured with `new Schema("name")`;
eventscope's locations default to `public`. So a plain URL (schema `public`) whose
`public` schema has no Eventuous tables is read from `eventuous`, and `?schema=NAME`
reads NAME. Only table and column names are looked at, in a read-only session.
"""

from __future__ import annotations

from eventscope.store.errors import NotAStoreError
from eventscope.store.location import Location
from eventscope.store.sources.eventuous.kind import DEFAULT_SCHEMA, has_eventuous_tables
from eventscope.store.sql.tables import postgres_tables


def find_schema(location: Location) -> str:
    """The schema to read, or NotAStoreError naming where eventscope looked."""
    assert location.schema is not None
    with postgres_tables(location) as tables:
        if has_eventuous_tables(tables):
            return location.schema
        if location.schema == "public" and has_eventuous_tables(tables, DEFAULT_SCHEMA):
            return DEFAULT_SCHEMA
    looked = location.schema
    if looked == "public":
        looked = f"public or {DEFAULT_SCHEMA}"
    raise NotAStoreError(
        f"{location.display()} holds no Eventuous tables (streams, messages, checkpoints) "
        f"in schema {looked}; name the schema with ?schema=NAME"
    )
