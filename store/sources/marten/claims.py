"""Marten's derived claims: inline snapshot documents and projection progress.

* An inline snapshot (`opts.Projections.Snapshot<T>(SnapshotLifecycle.Inline)`) is one
  document per aggregate in `mt_doc_<alias>`: `data` is the aggregate's state and
  `mt_version` the stream version it claims to reflect. There is no history of
  snapshots, so a stream has at most one. Its `aggregate_type` is left empty so the
  generic fold checks it (the CLR type is kept as `code_version`): Marten's aggregates
  are .NET code eventscope cannot run, and the fixture's and many real aggregates' state
  is the merge of their events.
* `mt_event_progression` rows other than the high-water mark are the async daemon's
  shards (`OrderSummary:All`): checkpoints, whose lag is the distance to the head.
* The `HighWaterMark` row is the daemon's safe horizon: events above it may still have
  gaps below them that a slow transaction will fill, so eventscope reads nothing past it
  (`HORIZON`, used in every event query).
"""

from __future__ import annotations

from typing import Any

from eventscope.store.records import EPOCH, Snapshot
from eventscope.store.sources.marten.events import loads_json, utc
from eventscope.store.sources.marten.identity import Block
from eventscope.store.sources.marten.layout import HIGH_WATER_MARK, MartenLayout, SnapshotTable
from eventscope.store.sql.fragments import quote_identifier
from eventscope.store.sql.reader import SqlReader

# The highest seq_id eventscope may read: the high-water mark, or no bound (the largest
# bigint) without one. Fixed text: an uncorrelated subquery PostgreSQL runs once per query.
HORIZON = (
    "(SELECT COALESCE(max(last_seq_id), 9223372036854775807) FROM mt_event_progression "
    "WHERE name = 'HighWaterMark')"
)


def high_water_mark(reader: SqlReader) -> int | None:
    """The `HighWaterMark` row's seq_id, or None when the daemon never ran."""
    row = reader.fetchone(
        "SELECT last_seq_id FROM mt_event_progression WHERE name = ?", (HIGH_WATER_MARK,)
    )
    return None if row is None or row[0] is None else int(row[0])


def checkpoints(reader: SqlReader) -> dict[str, int]:
    """Projection shard -> last seq_id applied (the high-water marks left out)."""
    rows = reader.fetchall(
        "SELECT name, COALESCE(last_seq_id, 0) FROM mt_event_progression "
        "WHERE split_part(name, ':', 1) <> 'HighWaterMark' ORDER BY name"
    )
    return {name: int(position) for name, position in rows}


def table_for(layout: MartenLayout, stream_type: str) -> SnapshotTable | None:
    """The snapshot document table of a stream type: Marten names both after the
    aggregate (`order` streams, `mt_doc_order`), in lower case."""
    if not stream_type:
        return None
    wanted = {stream_type.lower(), stream_type.lower().replace("_", "")}
    for table in layout.snapshot_tables:
        if table.alias in wanted:
            return table
    return None


def snapshot_document(
    reader: SqlReader,
    table: SnapshotTable,
    block: Block,
    stored: str,
    shown: str,
) -> Snapshot | None:
    """The one snapshot document of a stream, or None."""
    dotnet = "mt_dotnet_type" if table.has_dotnet_type else "NULL"
    modified = "mt_last_modified" if table.has_last_modified else "NULL"
    sql = (
        f"SELECT mt_version, data::text, {dotnet}, {modified} "  # noqa: S608
        f"FROM {quote_identifier(table.table)} WHERE id = {'?::uuid' if table.uuid_ids else '?'}"
    )
    params: list[Any] = [stored]
    if table.has_tenant and block.tenant is not None:
        sql += " AND tenant_id = ?"
        params.append(block.tenant)
    row = reader.fetchone(sql, params)
    if row is None:
        return None
    version, data_text, dotnet_type, last_modified = row
    state = loads_json(data_text)
    if type(state) is not dict:
        return None
    return Snapshot(
        stream_id=shown,
        version=int(version),
        state=state,
        aggregate_type="",
        schema_version=1,
        code_version=dotnet_type or table.table,
        created_at=utc(last_modified) if last_modified is not None else EPOCH,
    )
