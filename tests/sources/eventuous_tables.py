"""Writing a history into Eventuous's tables, for tests and benchmarks of the Eventuous
source.

Eventuous is a .NET library and cannot run here, so its tables are made from the
published DDL (tests/fixtures/foreign/eventuous/ddl.py: the objects `Schema.CreateSchema`
creates) and filled through that file's `append_events`, called as `PostgresStore` calls
it: one call per append, the client's UTC time as `created`, Eventuous's metadata keys.
These tables were NOT written by Eventuous.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.fixtures.foreign.eventuous.ddl import schema_ddl
from tests.fixtures.foreign.pg import libpq_url

CORRELATION_KEY = "eventuous.correlation-id"
CAUSATION_KEY = "eventuous.causation-id"
MESSAGE_ID_KEY = "eventuous.message-id"


@dataclass(frozen=True)
class Message:
    """One message of an append: what `PostgresStore` passes for it."""

    message_id: str
    message_type: str
    data: dict[str, Any]
    metadata: dict[str, Any] | None = field(default_factory=dict)


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection whose session is UTC (as an Eventuous writer's should be:
    the `created` column keeps the session's wall-clock time)."""
    conn = psycopg.connect(libpq_url(url), autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def create_tables(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(schema_ddl(schema))


def append(
    conn: psycopg.Connection,
    schema: str,
    stream: str,
    messages: Sequence[Message],
    created: datetime,
    expected_version: int = -2,
) -> None:
    """One `append_events` call (expected version -2 = Any)."""
    rows = [
        (uuid.UUID(m.message_id), m.message_type, Jsonb(m.data), _jsonb_or_none(m.metadata))
        for m in messages
    ]
    conn.execute(
        f"SELECT * FROM {schema}.append_events(%s, %s, %s, %s::{schema}.stream_message[])",
        (stream, expected_version, created, rows),
    )


def _jsonb_or_none(value: dict[str, Any] | None) -> Jsonb | None:
    return Jsonb(value) if value is not None else None


def eventuous_metadata(
    message_id: str, correlation: str | None, causation: str | None, **own: Any
) -> dict[str, Any]:
    """Metadata as Eventuous writes it: its dotted keys, then the application's own."""
    out: dict[str, Any] = {MESSAGE_ID_KEY: message_id}
    if correlation is not None:
        out[CORRELATION_KEY] = correlation
    if causation is not None:
        out[CAUSATION_KEY] = causation
    out.update(own)
    return out


def set_checkpoint(conn: psycopg.Connection, schema: str, name: str, position: int | None) -> None:
    """What `PostgresCheckpointStore` leaves: a row per subscription (NULL: not started)."""
    conn.execute(
        f"INSERT INTO {schema}.checkpoints (id, position) VALUES (%s, %s)", (name, position)
    )


def truncate(conn: psycopg.Connection, schema: str, stream: str, position: int) -> None:
    """`truncate_stream(name, Any, position)`: deletes the messages below `position`."""
    conn.execute(f"SELECT * FROM {schema}.truncate_stream(%s, -2, %s)", (stream, position))


def create_empty_stream(conn: psycopg.Connection, schema: str, stream: str) -> None:
    """What a stream subscription's `check_stream(name, -2)` does before any append."""
    conn.execute(f"SELECT * FROM {schema}.check_stream(%s, -2)", (stream,))
