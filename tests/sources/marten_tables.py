"""Writing a history into Marten's tables, for tests and benchmarks of the Marten source.

Marten is a .NET library and cannot run here, so its tables are made from the published
DDL (tests/fixtures/foreign/marten/ddl.py) and filled the way Marten's quick append fills
them: `seq_id` from `mt_events_sequence` with gaps, versions from 1, the stream row's
version kept current, the optional metadata columns when asked for. These tables were
NOT written by Marten.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.fixtures.foreign.marten.ddl import events_ddl, snapshot_document_ddl
from tests.fixtures.foreign.pg import libpq_url


@dataclass(frozen=True)
class MartenEvent:
    """One event to write: its stream key (tenant, id), type and payload."""

    tenant: str
    stream: Any  # uuid.UUID or str
    stream_type: str | None
    event_type: str
    data: dict[str, Any]
    at: datetime
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    binary: bytes | None = None


def create_tables(
    conn: psycopg.Connection, schema: str, *, uuid_ids: bool, conjoined: bool, metadata: bool
) -> None:
    conn.execute(
        events_ddl(
            schema,
            stream_id_type="uuid" if uuid_ids else "varchar",
            conjoined=conjoined,
            metadata_columns=metadata,
            bdata=metadata,
            vestigial_snapshot_columns=False,
        )
    )


def append(
    conn: psycopg.Connection,
    schema: str,
    events: Sequence[MartenEvent],
    *,
    metadata: bool,
    gap_every: int = 0,
    versions: dict[tuple[str, Any], int] | None = None,
) -> list[int]:
    """Append events one session each (the stream row created on its first event);
    every `gap_every`-th append burns a sequence value first (a rolled-back append).
    `versions` (stream key -> version) carries on from an earlier call. Returns the
    seq_ids given."""
    versions = {} if versions is None else versions
    positions = []
    for n, event in enumerate(events):
        if gap_every and n % gap_every == gap_every - 1:
            conn.execute(f"SELECT nextval('{schema}.mt_events_sequence')")
        key = (event.tenant, event.stream)
        version = versions.get(key, 0) + 1
        versions[key] = version
        if version == 1:
            conn.execute(
                f"INSERT INTO {schema}.mt_streams (tenant_id, id, type, version, timestamp, "
                "created) VALUES (%s, %s, %s, 0, %s, %s)",
                (event.tenant, event.stream, event.stream_type, event.at, event.at),
            )
        row = conn.execute(f"SELECT nextval('{schema}.mt_events_sequence')").fetchone()
        assert row is not None
        seq = int(row[0])
        positions.append(seq)
        columns = "seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type"
        values: list[Any] = [seq, uuid.uuid4(), event.stream, version]
        values += [Jsonb({} if event.binary is not None else event.data), event.event_type]
        values += [event.at, event.tenant, f"Contract.{event.event_type}, Contract"]
        if metadata:
            columns += ", correlation_id, causation_id, user_name, bdata"
            values += [event.correlation_id, event.causation_id, event.actor, event.binary]
        marks = ", ".join(["%s"] * len(values))
        conn.execute(f"INSERT INTO {schema}.mt_events ({columns}) VALUES ({marks})", values)
        conn.execute(
            f"UPDATE {schema}.mt_streams SET version = %s, timestamp = %s "
            "WHERE id = %s AND tenant_id = %s",
            (version, event.at, event.stream, event.tenant),
        )
    return positions


def mark_progression(conn: psycopg.Connection, schema: str, name: str, seq_id: int) -> None:
    conn.execute(f"SELECT {schema}.mt_mark_event_progression(%s, %s)", (name, seq_id))


def snapshot_document(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    *,
    stream: Any,
    tenant: str | None,
    version: int,
    data: dict[str, Any],
    at: datetime,
) -> None:
    """One inline snapshot document (the table made on first use)."""
    exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.{table}",)).fetchone()
    if exists is None or exists[0] is None:
        id_type = "uuid" if isinstance(stream, uuid.UUID) else "varchar"
        conn.execute(
            snapshot_document_ddl(schema, table, id_type=id_type, conjoined=tenant is not None)
        )
    columns = "id, data, mt_last_modified, mt_version, mt_dotnet_type"
    values: list[Any] = [stream, Jsonb(data), at, version, f"Contract.{table}"]
    if tenant is not None:
        columns += ", tenant_id"
        values.append(tenant)
    marks = ", ".join(["%s"] * len(values))
    conn.execute(f"INSERT INTO {schema}.{table} ({columns}) VALUES ({marks})", values)


def connect(url: str) -> psycopg.Connection:
    """A plain psycopg connection to a SQLAlchemy URL (what the writer uses)."""
    return psycopg.connect(libpq_url(url))


# --- the read contract's history ----------------------------------------------------------
# Two tenants, one the other's prefix: "acme-eu/..." sorts before "acme/..." ('-' < '/'),
# so the tenant blocks are visited in shown order, not tenant order.
CONTRACT_TENANTS = ("acme", "acme-eu")
CONTRACT_PROJECTIONS = {"Totals:All": 0, "Audit:All": 5}  # name -> seq_id, 0 = the head


@dataclass(frozen=True)
class WrittenContract:
    """What the contract history became in Marten's tables."""

    stream_ids: dict[str, str]  # the history's stream id -> the id eventscope shows
    snapshots: dict[str, list[int]]  # shown stream id -> versions
    checkpoints: dict[str, int]


def write_contract(
    conn: psycopg.Connection, schema: str, history: Sequence[Any], *, tenants: bool
) -> WrittenContract:
    """The contract history (`contract_sources.contract_history`) in Marten's tables.

    Without `tenants`: varchar ids as given (hostile ones included), one tenant. With
    it: uuid ids under conjoined tenancy with two tenants, two streams sharing one uuid.
    Both: gaps in seq_id, the metadata columns, a high-water mark in a gap right after
    the history with two unsettled events and a whole unsettled stream above it, two
    projection shards and one inline snapshot document."""
    create_tables(conn, schema, uuid_ids=tenants, conjoined=tenants, metadata=True)
    keys: dict[str, tuple[str, Any]] = {}
    for index, stream_id in enumerate(dict.fromkeys(e.stream_id for e in history)):
        if tenants:
            shared = uuid.uuid5(uuid.NAMESPACE_URL, f"marten/{index // 2}")
            keys[stream_id] = (CONTRACT_TENANTS[index % 2], shared)
        else:
            keys[stream_id] = ("*DEFAULT*", stream_id)
    events = [
        MartenEvent(
            tenant=keys[e.stream_id][0],
            stream=keys[e.stream_id][1],
            stream_type=e.stream_type,
            event_type=e.event_type,
            data=e.data,
            at=e.recorded_at,
            actor=e.metadata["actor"],
            correlation_id=e.metadata["correlation_id"],
            causation_id=e.metadata["causation_id"],
        )
        for e in history
    ]
    versions: dict[tuple[str, Any], int] = {}
    positions = append(conn, schema, events, metadata=True, gap_every=4, versions=versions)
    head = positions[-1]
    conn.execute(f"SELECT nextval('{schema}.mt_events_sequence')")  # the mark lies in a gap
    mark_progression(conn, schema, "HighWaterMark", head + 1)
    first_tenant, first_stream = keys[history[0].stream_id]
    late_stream = uuid.uuid4() if tenants else "late-stream"
    unsettled = [
        MartenEvent(
            first_tenant,
            first_stream,
            history[0].stream_type,
            "Unsettled",
            {},
            history[-1].recorded_at,
        ),
        MartenEvent(first_tenant, late_stream, "odd", "Unsettled", {}, history[-1].recorded_at),
    ]
    append(conn, schema, unsettled, metadata=True, versions=versions)
    checkpoints = {}
    for name, position in CONTRACT_PROJECTIONS.items():
        checkpoints[name] = position or head
        mark_progression(conn, schema, name, checkpoints[name])
    snapshot_stream = "acct-1"
    tenant, stored = keys[snapshot_stream]
    snapshot_document(
        conn,
        schema,
        "mt_doc_account",
        stream=stored,
        tenant=tenant if tenants else None,
        version=3,
        data={"amount": 1},
        at=history[-1].recorded_at,
    )
    shown = {
        stream_id: f"{tenant}/{stored}" if tenants else stored
        for stream_id, (tenant, stored) in keys.items()
    }
    return WrittenContract(shown, {shown[snapshot_stream]: [3]}, checkpoints)
