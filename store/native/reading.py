"""Reading the native store's events: one stream, the whole log, one event, counts.

Reads fetch in keyset chunks (`store.paging`) and decode after the connection is
returned (`store.native.rows`), so an abandoned iterator never pins a connection or a
long read transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventscope.store.native.database import NativeDatabase
from eventscope.store.native.filters import filter_sql
from eventscope.store.native.rows import (
    STREAM_EVENT_COLUMNS,
    event_from_row,
    replay_rows,
    stream_events,
)
from eventscope.store.native.schema import EVENT_COLUMNS
from eventscope.store.paging import END, keyset_chunks, position_window
from eventscope.store.records import RecordedEvent, ReplayRow
from eventscope.store.source import EventFilter

READ_CHUNK = 5000  # read_all: keyset chunks over the whole log
# read_all with a filter: when more than 1 in DENSE_SHARE positions match, walking the
# log in order beats the filter's index (measured on a 1M-event demo).
DENSE_SHARE = 8
STREAM_CHUNK = 20_000  # read_stream: most streams in one query (the 1.3x budget)


def head_position(db: NativeDatabase) -> int:
    """The highest position (positions are contiguous from 1, so also the count)."""
    return int(db.fetchone("SELECT COALESCE(MAX(position), 0) FROM events")[0])


def read_stream(
    db: NativeDatabase,
    stream_id: str,
    from_version: int = 1,
    to_version: int | None = None,
    backwards: bool = False,
) -> Iterator[RecordedEvent]:
    """Events of one stream between two versions, in version order (or reversed)."""
    order = "DESC" if backwards else "ASC"
    sql = (
        f"SELECT {STREAM_EVENT_COLUMNS} FROM events WHERE stream_id = ? "  # noqa: S608
        f"AND version >= ? AND version <= ? ORDER BY version {order} LIMIT ?"
    )
    size = STREAM_CHUNK

    def fetch(bounds: tuple[int, int]) -> list[Any]:
        return db.fetchall(sql, (stream_id, bounds[0], bounds[1], size))

    def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
        return (bounds[0], row[2] - 1) if backwards else (row[2] + 1, bounds[1])

    start = (from_version, to_version if to_version is not None else END)
    for rows in keyset_chunks(fetch, start, size, advance):
        yield from stream_events(rows, stream_id)


def read_replay(
    db: NativeDatabase,
    stream_id: str,
    from_version: int = 1,
    to_version: int | None = None,
) -> Iterator[ReplayRow]:
    """What a fold reads of one stream, in version order: five columns instead of
    eleven, one JSON decode per event instead of two, no timestamps parsed."""
    sql = (
        "SELECT version, position, event_type, schema_version, data FROM events "
        "WHERE stream_id = ? AND version >= ? AND version <= ? ORDER BY version LIMIT ?"
    )
    size = STREAM_CHUNK

    def fetch(bounds: tuple[int, int]) -> list[Any]:
        return db.fetchall(sql, (stream_id, bounds[0], bounds[1], size))

    def advance(row: Any, bounds: tuple[int, int]) -> tuple[int, int]:
        return (row[0] + 1, bounds[1])

    start = (from_version, to_version if to_version is not None else END)
    for rows in keyset_chunks(fetch, start, size, advance):
        yield from replay_rows(rows)


def read_all(
    db: NativeDatabase,
    from_position: int = 0,
    to_position: int | None = None,
    *,
    flt: EventFilter | None = None,
    limit: int | None = None,
    backwards: bool = False,
) -> Iterator[RecordedEvent]:
    """The log in position order (exclusive start), optionally filtered and limited."""
    where, params = filter_sql(flt)
    window = position_window(from_position, to_position, backwards)
    cursor, end = window.cursor, window.bound
    sql = (
        f"SELECT {EVENT_COLUMNS} FROM events WHERE {window.where('position')}{where} "  # noqa: S608
        f"ORDER BY position {window.order} LIMIT ?"
    )
    # The same query walking the log in position order instead of an index (a unary
    # `+` hides a column from SQLite's planner): cheaper than sorting once most of
    # the positions in a window match. PostgreSQL's planner weighs this itself.
    dense_sql = sql if db.postgres else sql.replace(" AND event_type IN", " AND +event_type IN")
    dense = False
    remaining = limit
    # With a filter, each query looks at a window of positions, not everything past
    # the cursor: SQLite serves `event_type IN (...)` from its index and sorts the
    # matches by position, so an unbounded query re-sorted every remaining match per
    # chunk (a projection's replay of 1M events: 120 queries of ~46 ms). The window
    # doubles while it yields less than a chunk (rare matches) and halves when it
    # fills one (common matches), so each query's work stays near one chunk.
    span = READ_CHUNK * 4 if where else 0
    head = head_position(db) if where else 0
    if span and backwards:
        cursor = min(cursor, head + 1)
    while remaining is None or remaining > 0:
        size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
        if not span:
            edge = end
        elif backwards:
            edge = max(end, cursor - span)
        else:
            # Past the head (read when the walk began) the rest is one last query,
            # which also picks up events appended meanwhile.
            edge = cursor + span if cursor + span < min(end, head) else end
        rows = db.fetchall(dense_sql if dense else sql, (cursor, edge, *params, size))
        yield from map(event_from_row, rows)
        if remaining is not None:
            remaining -= len(rows)
        if span and rows:
            covered = abs((rows[-1][0] if len(rows) == size else edge) - cursor)
            dense = len(rows) * DENSE_SHARE > covered
        if len(rows) == size:
            cursor = rows[-1][0]
            if span:
                span = max(READ_CHUNK, span // 2)
            continue
        if edge == end:
            return
        # The window is exhausted: the next one starts where it ended (its `edge`
        # was included, so `position > edge` / `position < edge` continues exactly).
        cursor = edge
        span *= 2


def event_at(db: NativeDatabase, position: int) -> RecordedEvent | None:
    row = db.fetchone(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position = ?",  # noqa: S608
        (position,),
    )
    return event_from_row(row) if row else None


def event_by_id(db: NativeDatabase, event_id: str) -> RecordedEvent | None:
    row = db.fetchone(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?",  # noqa: S608
        (str(event_id),),
    )
    return event_from_row(row) if row else None


def count_events(db: NativeDatabase, flt: EventFilter | None = None) -> int:
    if flt is None or flt.is_empty():
        return head_position(db)
    where, params = filter_sql(flt)
    sql = f"SELECT COUNT(*) FROM events WHERE 1 = 1{where}"  # noqa: S608
    return int(db.fetchone(sql, params)[0])
