"""The write transaction of an append: chain head, stream catalog, events, idempotency.

Why it works this way:
* payloads are validated and canonicalised before the lock is taken
  (`store.native.appending`); under the lock the head row gives the next position and
  the previous hash, the rows are chained (`chain_rows`) and inserted with one
  driver-level ``executemany`` of tuples on SQLite, one ``COPY`` on PostgreSQL, and the
  catalog and the head are updated in the same transaction;
* idempotency rests on the UNIQUE(event_id) constraint: the fast path just inserts, and
  only a constraint violation or a version mismatch looks the ids up to decide between
  "return the original records" (a retry) and a clear error.
"""

from __future__ import annotations

from eventscope.store.errors import (
    ConcurrencyError,
    IdempotencyConflict,
    InvalidEvent,
    StoreError,
    driver_reason,
)
from eventscope.store.native.appending import (
    INSERT_COLUMNS,
    PreparedBatch,
    StreamState,
    VersionMismatch,
    chain_rows,
    check_prepared,
    now_text,
    same_content,
)
from eventscope.store.native.canonical import GENESIS_HASH
from eventscope.store.native.database import NativeDatabase, Writer
from eventscope.store.native.rows import event_from_row
from eventscope.store.native.schema import EVENT_COLUMNS
from eventscope.store.paging import in_chunks, placeholders
from eventscope.store.records import RecordedEvent

IN_CHUNK = 500

_STATE_SQL = (
    "SELECT stream_id, stream_type, version, first_recorded_at, first_position, last_position "
    "FROM streams WHERE stream_id IN "
)


def append_prepared(
    db: NativeDatabase, batches: list[PreparedBatch], *, records: bool = True
) -> list[list[RecordedEvent]]:
    """Append prepared batches atomically; a retry of stored events returns the originals,
    a version mismatch raises ConcurrencyError, and nothing of any batch is stored."""
    db.require_writable("append events")
    if not check_prepared(batches, db.max_payload):
        return [[] for _ in batches]
    try:
        return write_prepared(db, batches, records=records)
    except VersionMismatch as mismatch:
        originals = _originals(db, batches)
        if originals is not None:
            return originals
        raise ConcurrencyError(*mismatch.args_) from None
    except db.integrity_errors as exc:
        originals = _originals(db, batches)
        if originals is not None:
            return originals
        raise StoreError(f"the database refused the append: {driver_reason(exc)}") from None


def write_prepared(
    db: NativeDatabase, batches: list[PreparedBatch], *, records: bool = True
) -> list[list[RecordedEvent]]:
    """The write transaction: read the chain head and the streams' catalog rows under the
    write lock, chain the rows (`chain_rows`), insert them with one driver-level
    executemany, update the catalog and the head."""
    with db.writing() as writer:
        position, head_hash, last_recorded = writer.execute(
            "SELECT position, hash, recorded_at FROM chain_head WHERE id = 1"
        ).fetchone()
        previous = bytes.fromhex(head_hash) if head_hash else GENESIS_HASH
        states = _stream_states(writer, {batch[0] for batch in batches})
        now = now_text()
        if last_recorded and now < last_recorded:
            now = last_recorded  # the clock stepped back: never go back in time
        chained = chain_rows(
            batches, states, position, previous, now, last_recorded or "", records=records
        )
        writer.insert_rows("events", INSERT_COLUMNS, chained.rows)
        _save_streams(writer, chained.touched, chained.last_recorded)
        writer.execute(
            "UPDATE chain_head SET position = ?, hash = ?, recorded_at = ? WHERE id = 1",
            (chained.position, chained.head.hex(), chained.last_recorded),
        )
    return chained.results


def _stream_states(writer: Writer, stream_ids: set[str]) -> dict[str, StreamState]:
    states: dict[str, StreamState] = {}
    for chunk in in_chunks(sorted(stream_ids), IN_CHUNK):
        result = writer.execute(_STATE_SQL + f"({placeholders(len(chunk))})", tuple(chunk))
        for stream_id, stream_type, version, first_at, first_pos, last_pos in result.fetchall():
            states[stream_id] = StreamState(
                stream_type, version, first_at, first_pos, True, last_pos
            )
    return states


def _save_streams(writer: Writer, touched: dict[str, StreamState], recorded_at: str) -> None:
    new_rows = []
    updates = []
    for stream_id, state in touched.items():
        # A stream's last event is the batch's last for it; positions only grow.
        last_recorded_at = state.last_recorded_at or recorded_at
        if state.exists:
            updates.append(
                (state.version, state.version, last_recorded_at, state.last_position, stream_id)
            )
        else:
            new_rows.append(
                (
                    stream_id,
                    state.stream_type,
                    state.version,
                    state.version,
                    state.first_recorded_at,
                    last_recorded_at,
                    state.first_position,
                    state.last_position,
                )
            )
    if new_rows:
        writer.insert_rows(
            "streams",
            "stream_id, stream_type, version, event_count, "
            "first_recorded_at, last_recorded_at, first_position, last_position",
            new_rows,
        )
    if updates:
        writer.executemany(
            "UPDATE streams SET version = ?, event_count = ?, last_recorded_at = ?, "
            "last_position = ? WHERE stream_id = ?",
            updates,
        )


def _originals(
    db: NativeDatabase, batches: list[PreparedBatch]
) -> list[list[RecordedEvent]] | None:
    """After a failed write: if the events are already stored identically, their records
    (a retry); None if none of them is stored; else a clear error."""
    wanted = [event.event_id for _s, events, _e, _t in batches for event in events]
    found: dict[str, RecordedEvent] = {}
    stored_json: dict[str, tuple[str, str]] = {}
    for chunk in in_chunks(wanted, IN_CHUNK):
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id IN ({placeholders(len(chunk))})"  # noqa: S608
        for row in db.fetchall(sql, chunk):
            found[row[4]] = event_from_row(row)
            stored_json[row[4]] = (row[7], row[8])
    if not found:
        return None
    results: list[list[RecordedEvent]] = []
    missing: str | None = None
    for stream_id, events, _expected, _type in batches:
        out = []
        for event in events:
            original = found.get(event.event_id)
            if original is None:
                missing = missing or event.event_id
                continue
            if not same_content(original, stored_json[event.event_id], stream_id, event):
                raise IdempotencyConflict(event.event_id, original.position)
            out.append(original)
        results.append(out)
    if missing is not None:
        first = next(iter(found.values()))
        raise InvalidEvent(
            f"this append mixes events already stored (event id {first.event_id} at "
            f"position {first.position}) with new ones such as {missing}; "
            "send the new events on their own"
        )
    return results
