"""Message DB histories for tests, written by Message DB's own code.

Why from the committed dump: it holds what the real installer (npm
`@eventide/message-db@1.3.1`) created -- the table, its indexes and the
`message_store.write_message` function. A fresh database gets the dump, its messages are
emptied (TRUNCATE, sequence restarted), and new histories are written by calling
`write_message` itself, so versions, the advisory lock and the expected-version check are
Message DB's. Only `time` is then set by hand where a test needs exact recorded times
(`write_message` stamps `now()`, the same for a whole transaction).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from tests.fixtures.foreign.committed import MESSAGEDB_DUMP
from tests.fixtures.foreign.pg import libpq_url, loaded_dump


@dataclass(frozen=True)
class Message:
    """One `write_message` call (and, optionally, the recorded time to give it)."""

    stream_name: str
    type: str
    data: Any
    metadata: Any = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime | None = None


def empty_message_db(admin_url: str, add_finalizer: Callable[[Callable[[], None]], None]) -> str:
    """A new database holding Message DB's schema and functions and no messages; dropped by
    the finalizer. Returns its SQLAlchemy URL."""
    stack = ExitStack()
    url = stack.enter_context(loaded_dump(admin_url, MESSAGEDB_DUMP, prefix="es_mdb_test"))
    add_finalizer(stack.close)
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("TRUNCATE message_store.messages")
        conn.execute("ALTER SEQUENCE message_store.messages_global_position_seq RESTART WITH 1")
    return url


def write_messages(url: str, messages: Iterable[Message], *, batch: int = 500) -> list[int]:
    """Write through `message_store.write_message` (as a Message DB client does, with the
    search path its functions need); returns the stream positions it assigned."""
    positions: list[int] = []
    timed: list[tuple[datetime, str]] = []
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET search_path = message_store, public")
        pending = 0
        for message in messages:
            row = conn.execute(
                "SELECT message_store.write_message(%s, %s, %s, %s::jsonb, %s::jsonb)",
                (
                    message.id,
                    message.stream_name,
                    message.type,
                    None if message.data is None else json.dumps(message.data),
                    None if message.metadata is None else json.dumps(message.metadata),
                ),
            ).fetchone()
            assert row is not None
            positions.append(int(row[0]))
            if message.time is not None:
                moment = message.time.astimezone(UTC).replace(tzinfo=None)
                timed.append((moment, message.id))
            pending += 1
            if pending >= batch:
                conn.commit()
                pending = 0
        conn.commit()
        if timed:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "UPDATE message_store.messages SET time = %s WHERE id = %s::uuid", timed
                )
            conn.commit()
    return positions


def query_one(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(sql, params or None).fetchone()
    return row[0] if row else None


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """A write by "another program" (the test), on a connection of its own."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(sql, params or None)
