"""What one Marten store looks like, found by introspection once at open.

Why introspection: Marten's tables differ by version and by settings. The metadata
columns (`correlation_id`, `causation_id`, `user_name`, `headers`) exist only when
`Events.MetadataConfig` enables them, `bdata` only from 9.3 (right after `data` in a
fresh table, last in one upgraded from 8.x), `is_skipped` only with event skipping;
stream ids are `uuid` (`StreamIdentity.AsGuid`, the default) or `varchar` (`AsString`);
conjoined tenancy puts `tenant_id` first in the streams key. So every column is read by
name and every optional one is replaced by NULL when absent.

Inline snapshot documents are tables `mt_doc_<alias>` with a numeric `mt_version` (an
integer for a single-stream projection, a bigint for a multi-stream one; a uuid
`mt_version` is an optimistic-concurrency token, not a stream version, and is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope.store.errors import NotAStoreError
from eventscope.store.sql.reader import SqlReader

OPTIONAL_EVENT_COLUMNS = (
    "tenant_id",
    "mt_dotnet_type",
    "bdata",
    "correlation_id",
    "causation_id",
    "user_name",
    "headers",
    "is_archived",
    "is_skipped",
)
# Collations whose order is code-point order for UTF-8 text: the order of Python's str,
# so an index on the id column pages streams exactly as eventscope sorts their ids.
CODE_POINT_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic", "pg_c_utf8"})
HIGH_WATER_MARK = "HighWaterMark"
DOC_PREFIX = "mt_doc_"
_NUMERIC = frozenset({"integer", "bigint", "smallint"})


@dataclass(frozen=True, slots=True)
class SnapshotTable:
    """An inline snapshot document table whose `mt_version` is a stream version."""

    table: str
    alias: str  # the document alias, e.g. "order" for mt_doc_order
    has_tenant: bool
    uuid_ids: bool
    has_dotnet_type: bool
    has_last_modified: bool


@dataclass(frozen=True, slots=True)
class MartenLayout:
    """The parts of a Marten store the reader adapts to."""

    uuid_ids: bool  # stream ids are uuid (else varchar)
    conjoined: bool  # tenant_id is part of the stream key
    tenants: tuple[str, ...]  # distinct tenant ids of mt_streams (conjoined only)
    event_columns: frozenset[str]
    code_point_ids: bool  # the id column's collation sorts like Python's str
    snapshot_tables: tuple[SnapshotTable, ...]

    def has(self, column: str) -> bool:
        return column in self.event_columns


def read_layout(reader: SqlReader) -> MartenLayout:
    """Introspect the schema the reader's sessions see first (`search_path`)."""
    events = _columns(reader, "mt_events")
    streams = _columns(reader, "mt_streams")
    if not events or not streams:
        raise NotAStoreError(f"{reader.location} holds no Marten event store tables")
    if "tenant_id" in _primary_key(reader, "mt_events"):
        raise NotAStoreError(
            "this Marten store partitions its events per tenant (each tenant has its own "
            "seq_id sequence), so there is no one global order to read; eventscope reads "
            "Marten stores with one mt_events_sequence"
        )
    conjoined = "tenant_id" in _primary_key(reader, "mt_streams")
    id_type, id_collation = streams.get("id", ("character varying", None))
    return MartenLayout(
        uuid_ids=id_type == "uuid",
        conjoined=conjoined,
        tenants=_tenants(reader) if conjoined else (),
        event_columns=frozenset(events),
        code_point_ids=id_type == "uuid"
        or _collation(reader, id_collation) in CODE_POINT_COLLATIONS,
        snapshot_tables=_snapshot_tables(reader),
    )


def _columns(reader: SqlReader, table: str) -> dict[str, tuple[str, str | None]]:
    rows = reader.fetchall(
        "SELECT column_name, data_type, collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ?",
        (table,),
    )
    return {name: (data_type, collation) for name, data_type, collation in rows}


def _primary_key(reader: SqlReader, table: str) -> set[str]:
    rows = reader.fetchall(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indisprimary AND i.indrelid = to_regclass(?)",
        (table,),
    )
    return {row[0] for row in rows}


def _collation(reader: SqlReader, declared: str | None) -> str:
    """The id column's effective collation (the database's when none is declared)."""
    if declared and declared != "default":
        return declared
    row = reader.fetchone("SELECT datcollate FROM pg_database WHERE datname = current_database()")
    return str(row[0]) if row else ""


def _tenants(reader: SqlReader) -> tuple[str, ...]:
    """Distinct tenants by walking the streams key (tenant_id first): one index probe
    per tenant, not a scan of every stream."""
    rows = reader.fetchall(
        "WITH RECURSIVE t(tenant_id) AS ("
        "(SELECT tenant_id FROM mt_streams ORDER BY tenant_id LIMIT 1) UNION ALL "
        "SELECT (SELECT s.tenant_id FROM mt_streams s WHERE s.tenant_id > t.tenant_id "
        "ORDER BY s.tenant_id LIMIT 1) FROM t WHERE t.tenant_id IS NOT NULL) "
        "SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL"
    )
    return tuple(row[0] for row in rows)


def _snapshot_tables(reader: SqlReader) -> tuple[SnapshotTable, ...]:
    rows = reader.fetchall(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND left(table_name, 7) = 'mt_doc_' "
        "AND column_name IN ('id', 'data', 'mt_version', 'tenant_id', 'mt_dotnet_type', "
        "'mt_last_modified')"
    )
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    found = []
    for table, columns in sorted(tables.items()):
        if not {"id", "data"} <= set(columns) or columns.get("mt_version") not in _NUMERIC:
            continue
        found.append(
            SnapshotTable(
                table=table,
                alias=table[len(DOC_PREFIX) :],
                has_tenant="tenant_id" in columns,
                uuid_ids=columns["id"] == "uuid",
                has_dotnet_type="mt_dotnet_type" in columns,
                has_last_modified="mt_last_modified" in columns,
            )
        )
    return tuple(found)
