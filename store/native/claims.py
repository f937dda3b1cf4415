"""Derived claims the native store keeps beside its events: snapshots, projection
checkpoints and projection rows -- stored, read back, and checked against a replay by the
layers above (they are claims, never truth).

Documents are stored as canonical JSON, so a stored claim compares byte for byte with a
recomputed one. Writes run under the store's write lock like appends; rows and their
checkpoint move together in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from eventscope.store.errors import InvalidEvent
from eventscope.store.native.appending import now_text
from eventscope.store.native.canonical import canonical_json
from eventscope.store.native.database import NativeDatabase, Writer
from eventscope.store.native.rows import snapshot_from_row, ts
from eventscope.store.records import ProjectionRow, Snapshot

_loads = orjson.loads

SNAPSHOT_COLUMNS = (
    "stream_id, version, state, aggregate_type, schema_version, code_version, created_at"
)


# --- snapshots --------------------------------------------------------------------------
def snapshots(db: NativeDatabase, stream_id: str) -> list[Snapshot]:
    sql = f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE stream_id = ? ORDER BY version"  # noqa: S608
    return [snapshot_from_row(row) for row in db.fetchall(sql, (stream_id,))]


def snapshot_at(db: NativeDatabase, stream_id: str, version: int) -> Snapshot | None:
    row = db.fetchone(
        f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots "  # noqa: S608
        "WHERE stream_id = ? AND version <= ? ORDER BY version DESC LIMIT 1",
        (stream_id, version),
    )
    return snapshot_from_row(row) if row else None


def save_snapshot(
    db: NativeDatabase,
    stream_id: str,
    version: int,
    state: dict[str, Any],
    aggregate_type: str,
    schema_version: int = 1,
    code_version: str = "",
) -> Snapshot:
    """Store (or replace) the snapshot of a stream at a version."""
    db.require_writable("save a snapshot")
    if not isinstance(state, dict):
        raise InvalidEvent("a snapshot's state must be a JSON object")
    state_text = canonical_json(state).decode()
    created = now_text()
    with db.writing() as writer:
        writer.execute(
            (
                "INSERT INTO snapshots (stream_id, version, state, aggregate_type, "
                "schema_version, code_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (stream_id, version) DO UPDATE SET state = excluded.state, "
                "aggregate_type = excluded.aggregate_type, "
                "schema_version = excluded.schema_version, "
                "code_version = excluded.code_version, created_at = excluded.created_at"
            ),
            (stream_id, version, state_text, aggregate_type, schema_version, code_version, created),
        )
    return Snapshot(
        stream_id,
        version,
        _loads(state_text),
        aggregate_type,
        schema_version,
        code_version,
        ts(created),
    )


# --- checkpoints and projection rows ------------------------------------------------------
def checkpoints(db: NativeDatabase) -> dict[str, int]:
    rows = db.fetchall("SELECT name, position FROM checkpoints ORDER BY name")
    return {name: position for name, position in rows}


def projection_names(db: NativeDatabase) -> list[str]:
    rows = db.fetchall(
        "SELECT name FROM checkpoints UNION SELECT DISTINCT projection FROM projection_rows"
    )
    return sorted(row[0] for row in rows)


def projection_rows(
    db: NativeDatabase, projection: str, after: str | None = None, limit: int = 100
) -> list[ProjectionRow]:
    sql = "SELECT projection, key, document, position FROM projection_rows WHERE projection = ?"
    params: list[Any] = [projection]
    if after is not None:
        sql += " AND key > ?"
        params.append(after)
    sql += " ORDER BY key LIMIT ?"
    params.append(limit)
    return [_projection_row(row) for row in db.fetchall(sql, params)]


def projection_row(db: NativeDatabase, projection: str, key: str) -> ProjectionRow | None:
    row = db.fetchone(
        "SELECT projection, key, document, position FROM projection_rows "
        "WHERE projection = ? AND key = ?",
        (projection, key),
    )
    return _projection_row(row) if row else None


def _projection_row(row: Sequence[Any]) -> ProjectionRow:
    return ProjectionRow(row[0], row[1], _loads(row[2]), row[3])


def save_checkpoint(db: NativeDatabase, name: str, position: int) -> None:
    """Record that projection `name` has applied every event up to `position`."""
    db.require_writable("save a checkpoint")
    with db.writing() as writer:
        _upsert_checkpoint(writer, name, position)


def put_projection_rows(
    db: NativeDatabase,
    name: str,
    rows: Sequence[tuple[str, dict[str, Any], int]],
    checkpoint: int | None = None,
) -> None:
    """Upsert projection documents and (optionally) the checkpoint, atomically."""
    db.require_writable("write projection rows")
    params = []
    for key, document, position in rows:
        if not isinstance(document, dict):
            raise InvalidEvent(f"projection row {key!r} must be a JSON object")
        params.append((name, key, canonical_json(document).decode(), position))
    with db.writing() as writer:
        if params:
            writer.executemany(
                "INSERT INTO projection_rows (projection, key, document, position) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (projection, key) DO UPDATE SET "
                "document = excluded.document, position = excluded.position",
                params,
            )
        if checkpoint is not None:
            _upsert_checkpoint(writer, name, checkpoint)


def clear_projection(db: NativeDatabase, name: str) -> None:
    """Forget a projection's rows and checkpoint (before a rebuild)."""
    db.require_writable("clear a projection")
    with db.writing() as writer:
        writer.execute("DELETE FROM projection_rows WHERE projection = ?", (name,))
        writer.execute("DELETE FROM checkpoints WHERE name = ?", (name,))


def _upsert_checkpoint(writer: Writer, name: str, position: int) -> None:
    writer.execute(
        "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        (name, position),
    )


# --- labels -----------------------------------------------------------------------------
def set_label(db: NativeDatabase, key: str, value: str) -> None:
    """Record a documented label about the store (`store_labels`; e.g. the demo's
    ``eventscope.demo`` marker). Creates the table in a store made before it existed."""
    from eventscope.store.native.schema import store_labels

    db.require_writable("set a store label")
    with db.writing_sa() as conn:
        store_labels.create(conn, checkfirst=True)
        conn.exec_driver_sql(
            db.q(
                "INSERT INTO store_labels (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            (key, value),
        )


def label(db: NativeDatabase, key: str) -> str | None:
    """The value of a store label, or None (also for a store without labels)."""
    probe = (
        "SELECT to_regclass('store_labels') IS NOT NULL"
        if db.postgres
        else "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'store_labels'"
    )
    if not db.fetchone(probe)[0]:
        return None
    row = db.fetchone("SELECT value FROM store_labels WHERE key = ?", (key,))
    return None if row is None else str(row[0])
