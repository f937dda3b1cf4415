"""Helpers for the demo tests: build demo stores in a folder and read them back raw."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

ROW_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, hash"
)


def raw_rows(path: Path, table: str, columns: str, order: str) -> list[tuple[Any, ...]]:
    """Rows exactly as stored, through the stdlib driver (no eventscope code involved)."""
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
    finally:
        connection.close()


def event_rows(path: Path) -> list[tuple[Any, ...]]:
    return raw_rows(path, "events", ROW_COLUMNS, "position")


def anomalies(manifest: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in manifest["anomalies"] if item["kind"] == kind]
