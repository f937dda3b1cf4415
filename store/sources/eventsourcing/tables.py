"""Where the `eventsourcing` library keeps an application's history in a database, and
how its stream ids are shown.

The events table is the one the library's *application recorder* writes (columns
originator_id, originator_version, topic, state, plus notification ids: the SQLite
rowid, or PostgreSQL's `notification_id`), which give the global order; the snapshots
table beside it (`stored_snapshots` in SQLite, `<app>_snapshots` in PostgreSQL) is
optional. Several applications may share a PostgreSQL schema.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventscope.store.errors import NotAStoreError
from eventscope.store.sources.eventsourcing.kind import EVENTS_TABLE_COLUMNS
from eventscope.store.sql.fragments import quote_identifier
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True, slots=True)
class LibraryTables:
    """Where the library's data lives in one database."""

    events: str
    snapshots: str | None
    position_column: str  # "rowid" (SQLite) or "notification_id" (PostgreSQL)


def present_id(stored: Any) -> str:
    """How a stream id is shown: UUIDs as text with dashes on every backend (the SQLite
    recorder stores them as 32 hex digits, PostgreSQL as a uuid)."""
    if isinstance(stored, uuid.UUID):
        return str(stored)
    text = str(stored)
    if len(text) == 32:
        try:
            return str(uuid.UUID(hex=text))
        except ValueError:
            return text
    return text


def find_tables(engine: Engine, dialect: str, wanted: str | None = None) -> LibraryTables | None:
    """The library's events (and snapshots) tables in this database, or None.

    Several applications may share a PostgreSQL schema (`<app>_events` each); then
    `wanted` picks one, and without it the choice is refused with the names to pick from.
    """
    inspector = inspect(engine)
    candidates: list[str] = []
    with_positions: list[str] = []
    for name in inspector.get_table_names():
        columns = {column["name"] for column in inspector.get_columns(name)}
        if not EVENTS_TABLE_COLUMNS <= columns:
            continue
        candidates.append(name)
        if dialect == "postgresql":
            if "notification_id" in columns:
                with_positions.append(name)
        elif _has_rowid(engine, name):
            with_positions.append(name)
    if not candidates:
        return None
    if wanted is not None:
        if wanted not in with_positions:
            raise NotAStoreError(
                f"there is no eventsourcing events table named {wanted!r} here "
                f"(found: {', '.join(sorted(with_positions)) or 'none'})"
            )
        events = wanted
    elif len(with_positions) == 1:
        events = with_positions[0]
    elif not with_positions:
        raise NotAStoreError(
            "this database holds the eventsourcing library's tables but none with "
            "notification ids (only an application's events table has a global order)"
        )
    else:
        names = ", ".join(sorted(with_positions))
        raise NotAStoreError(
            f"this database holds several eventsourcing applications ({names}); "
            "name one after a '#', e.g. eventsourcing:URL#" + sorted(with_positions)[0]
        )
    prefix = events[: -len("_events")] if events.endswith("_events") else events
    snapshot_name = f"{prefix}_snapshots"
    snapshots = snapshot_name if snapshot_name in candidates else None
    position = "notification_id" if dialect == "postgresql" else "rowid"
    return LibraryTables(events=events, snapshots=snapshots, position_column=position)


def _has_rowid(engine: Engine, table: str) -> bool:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT rowid FROM {quote_identifier(table)} LIMIT 0")  # noqa: S608
        return True
    except DBAPIError:
        return False
