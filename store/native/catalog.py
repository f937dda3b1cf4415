"""The native stream catalog: the `streams` table, written in the same transaction as
each append, so listing, counting and paging streams never scans `events`."""

from __future__ import annotations

from collections.abc import Iterable

from eventscope.store.native.database import NativeDatabase
from eventscope.store.native.filters import stream_where
from eventscope.store.native.rows import stream_from_row
from eventscope.store.paging import in_chunks, placeholders
from eventscope.store.records import StreamInfo

IN_CHUNK = 500
"""Ids per `IN (...)` list: well under SQLite's variable limit."""

STREAM_COLUMNS = (
    "stream_id, stream_type, version, event_count, first_recorded_at, last_recorded_at, "
    "first_position, last_position"
)


def streams(
    db: NativeDatabase,
    stream_type: str | None = None,
    prefix: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[StreamInfo]:
    """Catalog rows ordered by stream_id after `after` (keyset paging on the primary key)."""
    where, params = stream_where(stream_type, prefix)
    if after is not None:
        where += " AND stream_id > ?"
        params.append(after)
    sql = (
        f"SELECT {STREAM_COLUMNS} FROM streams WHERE 1 = 1{where} "  # noqa: S608
        "ORDER BY stream_id LIMIT ?"
    )
    return [stream_from_row(row) for row in db.fetchall(sql, (*params, limit))]


def stream_info(db: NativeDatabase, stream_id: str) -> StreamInfo | None:
    row = db.fetchone(
        f"SELECT {STREAM_COLUMNS} FROM streams WHERE stream_id = ?",  # noqa: S608
        (stream_id,),
    )
    return stream_from_row(row) if row else None


def stream_versions(db: NativeDatabase, stream_ids: Iterable[str]) -> dict[str, int]:
    """Stream id -> catalog version for those of `stream_ids` that exist, a few queries
    for many ids (an import asks this of every stream it meets)."""
    versions: dict[str, int] = {}
    for chunk in in_chunks(sorted(set(stream_ids)), IN_CHUNK):
        sql = f"SELECT stream_id, version FROM streams WHERE stream_id IN ({placeholders(len(chunk))})"  # noqa: S608
        versions.update((row[0], row[1]) for row in db.fetchall(sql, chunk))
    return versions


def stream_types(db: NativeDatabase) -> list[tuple[str, int]]:
    rows = db.fetchall(
        "SELECT stream_type, COUNT(*) FROM streams GROUP BY stream_type ORDER BY stream_type"
    )
    return [(row[0], row[1]) for row in rows]


def count_streams(
    db: NativeDatabase, stream_type: str | None = None, prefix: str | None = None
) -> int:
    where, params = stream_where(stream_type, prefix)
    row = db.fetchone(f"SELECT COUNT(*) FROM streams WHERE 1 = 1{where}", params)  # noqa: S608
    return int(row[0])
