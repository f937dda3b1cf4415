"""Where Axon Framework keeps its history in one PostgreSQL schema, in whichever of its
three naming schemes the tables were created.

Axon's tables are generated, not fixed: Spring Boot's JPA naming gives snake_case
(`domain_event_entry.global_index`), the JDBC engine's unquoted camelCase folds to
lowercase run-together names (`domainevententry.globalindex`), and Axon 5 has one
`aggregate_event_entry` table with renamed columns. Hibernate stores `@Lob byte[]` as
`oid` large objects unless the installation overrides it to `bytea`, per column. So the
layout is read from the catalog (`information_schema.columns`) once at open time, and
every query is built from it; nothing else in this package knows a column name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventscope.store.sql.fragments import quote_identifier

# scheme -> (events table, the columns in this order: global index, aggregate id,
#   sequence, aggregate type, event id, payload type, revision, timestamp, payload, metadata)
EVENT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "jpa": (
        "domain_event_entry",
        (
            "global_index",
            "aggregate_identifier",
            "sequence_number",
            "type",
            "event_identifier",
            "payload_type",
            "payload_revision",
            "time_stamp",
            "payload",
            "meta_data",
        ),
    ),
    "jdbc": (
        "domainevententry",
        (
            "globalindex",
            "aggregateidentifier",
            "sequencenumber",
            "type",
            "eventidentifier",
            "payloadtype",
            "payloadrevision",
            "timestamp",
            "payload",
            "metadata",
        ),
    ),
    "axon5": (
        "aggregate_event_entry",
        (
            "global_index",
            "aggregate_identifier",
            "aggregate_sequence_number",
            "aggregate_type",
            "identifier",
            "type",
            "version",
            "timestamp",
            "payload",
            "metadata",
        ),
    ),
}
# Axon 4 snapshot tables carry the events table's column names.
SNAPSHOT_TABLES = {"jpa": "snapshot_event_entry", "jdbc": "snapshotevententry"}
# scheme -> (token table, processor name, segment, token, token type)
TOKEN_TABLES = {
    "jpa": ("token_entry", "processor_name", "segment", "token", "token_type"),
    "jdbc": ("tokenentry", "processorname", "segment", "token", "tokentype"),
    "axon5": ("token_entry", "processor_name", "segment", "token", "token_type"),
}


def scheme_of(tables: set[str], columns_of: Callable[[str], set[str]]) -> str | None:
    """The naming scheme whose events table (with its key columns) is present, or None.
    `columns_of(table)` gives a table's column names."""
    for scheme, (table, columns) in EVENT_TABLES.items():
        key = {columns[0], columns[1], columns[2], columns[5], columns[8]}
        if table in tables and key <= columns_of(table):
            return scheme
    return None


@dataclass(frozen=True, slots=True)
class Layout:
    """The tables and columns of one Axon store, and which blob columns are large objects."""

    scheme: str
    events: str
    columns: tuple[str, ...]
    oid_columns: frozenset[str]  # "events.payload", "snapshots.meta_data", "tokens.token"
    snapshots: str | None
    tokens: str | None

    @property
    def axon5(self) -> bool:
        return self.scheme == "axon5"

    def column(self, index: int) -> str:
        return self.columns[index]

    @property
    def table(self) -> str:
        return quote_identifier(self.events)

    @property
    def position(self) -> str:
        return self.columns[0]

    @property
    def aggregate(self) -> str:
        return self.columns[1]

    @property
    def sequence(self) -> str:
        return self.columns[2]

    @property
    def aggregate_type(self) -> str:
        return self.columns[3]

    def blob(self, table: str, column: str) -> str:
        """A blob column as SQL that yields its bytes (`lo_get` for an `oid` column)."""
        if f"{table}.{column}" in self.oid_columns:
            return f"lo_get({column})"
        return column

    @property
    def has_large_objects(self) -> bool:
        return bool(self.oid_columns)

    @property
    def event_select(self) -> str:
        """SELECT of every event column in `EVENT_TABLES` order, FROM the events table."""
        cols = list(self.columns)
        cols[8] = self.blob("events", cols[8])
        cols[9] = self.blob("events", cols[9])
        return f"SELECT {', '.join(cols)} FROM {self.table}"  # noqa: S608 - names from the catalog

    @property
    def without_aggregate(self) -> str:
        """The condition of events not applied by an aggregate: Axon 4 stores them with
        `type` NULL (and their own id as aggregate id, sequence 0); Axon 5 with NULL
        aggregate columns."""
        if self.axon5:
            return f"{self.aggregate} IS NULL"
        return f"{self.aggregate_type} IS NULL"

    @property
    def with_aggregate(self) -> str:
        if self.axon5:
            return f"{self.aggregate} IS NOT NULL"
        return f"{self.aggregate_type} IS NOT NULL"


def read_layout(scheme: str, catalog: dict[str, dict[str, str]]) -> Layout:
    """The layout of a store of `scheme`, from {table: {column: data_type}} of its schema."""
    events, columns = EVENT_TABLES[scheme]
    oid: set[str] = set()
    for column in (columns[8], columns[9]):
        if catalog.get(events, {}).get(column) == "oid":
            oid.add(f"events.{column}")
    snapshots = SNAPSHOT_TABLES.get(scheme)
    if snapshots is not None and not {columns[1], columns[2], columns[8]} <= set(
        catalog.get(snapshots, {})
    ):
        snapshots = None
    if snapshots is not None:
        for column in (columns[8], columns[9]):
            if catalog[snapshots].get(column) == "oid":
                oid.add(f"snapshots.{column}")
    token_table, name, segment, token, _token_type = TOKEN_TABLES[scheme]
    tokens: str | None = token_table
    if not {name, segment, token} <= set(catalog.get(token_table, {})):
        tokens = None
    elif catalog[token_table].get(token) == "oid":
        oid.add(f"tokens.{token}")
    return Layout(scheme, events, columns, frozenset(oid), snapshots, tokens)
