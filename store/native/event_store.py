"""The native event store on SQLite or PostgreSQL: append-only events with a hash chain,
a stream catalog, snapshots, checkpoints and projection rows.

`EventStore` is a small facade: each job is a module of `store.native` working on the
store's `NativeDatabase` (connection, read rule, write lock):
* `opening`    -- open or create at a path or URL, refusing what is not a store;
* `appending`  -- validate and canonicalise outside the lock, chain the rows;
* `writing`    -- the append transaction, catalog updates, idempotent retries;
* `reading`    -- one stream, the log in keyset windows, one event, counts;
* `histogram`  -- the event-rate chart by `store.histogram`'s rule;
* `catalog`    -- the `streams` table;
* `claims`     -- snapshots, checkpoints and projection rows (stored claims);
* `verifying`  -- the hash chain walk and the checks around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from eventscope.store.location import parse_location
from eventscope.store.native import (
    catalog,
    claims,
    histogram,
    opening,
    reading,
    verifying,
    writing,
)
from eventscope.store.native.appending import PreparedBatch, prepare_batches
from eventscope.store.native.database import DEFAULT_MAX_PAYLOAD, NativeDatabase
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import (
    ANY,
    Digest,
    ExpectedVersion,
    NewEvent,
    ProjectionRow,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
)
from eventscope.store.source import ClosingContext, EventFilter
from sqlalchemy import Connection


class EventStore(ClosingContext):
    """A native eventscope store; implements `store.source.EventSource` plus the writes.

    `read_all(backwards=True)` yields positions below `from_position` (0 = from the head)
    in descending order, down to and including `to_position` when given.
    """

    def __init__(self, database: NativeDatabase) -> None:
        self._db = database

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        location: str | Path,
        read_only: bool = False,
        *,
        schema: str | None = None,
        synchronous: str = "FULL",
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> EventStore:
        """Open (or create, unless `read_only`) a store at a path or SQLAlchemy URL.

        A PostgreSQL store lives in `schema` (default "public"; a URL may also say
        ``?schema=NAME``). A SQLite file that is not a store raises NotAStoreError, a
        missing one is created unless `read_only` (then SourceNotFound).
        """
        where = parse_location(location, schema)
        return cls(
            opening.open_database(
                where,
                read_only=read_only,
                synchronous=synchronous,
                max_payload_bytes=max_payload_bytes,
            )
        )

    def close(self) -> None:
        """Release connections and files."""
        self._db.close()

    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="native-postgresql" if self._db.postgres else "native-sqlite",
            location=self._db.location,
            read_only=self._db.read_only,
            has_hash_chain=True,
        )

    def connect(self) -> Connection:
        """A connection from the pool every read and write of this store uses (read-only
        when the store was opened read-only), for inspection and for tests that look
        below the store's own guard. Writing through it bypasses the hash chain: never
        do that to evidence."""
        return self._db.connect()

    # --- appending ----------------------------------------------------------------------
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion | int = ANY,
        stream_type: str | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one stream atomically; see `append_streams`."""
        return self.append_streams([(stream_id, events, expected_version, stream_type)])[0]

    def append_streams(
        self, batches: Iterable[Sequence[Any]], *, return_records: bool = True
    ) -> list[list[RecordedEvent]]:
        """Append to several streams in one atomic transaction.

        Each item is ``(stream_id, events, expected_version=ANY, stream_type=None)``. If
        every event id is already stored with identical content the original records are
        returned and nothing is written (a safe retry); otherwise a version mismatch
        raises ConcurrencyError and nothing of any batch is stored. With
        ``return_records=False`` nothing is decoded back into records and each batch's
        list is empty unless the append was such a retry (bulk loads: `head_position()`
        says where the chain ends).
        """
        self._db.require_writable("append events")
        prepared = prepare_batches(batches, self._db.max_payload)
        return writing.append_prepared(self._db, prepared, records=return_records)

    def append_prepared(
        self, batches: list[PreparedBatch], *, return_records: bool = True
    ) -> list[list[RecordedEvent]]:
        """`append_streams` for items already validated and canonicalised by
        `store.native.appending.prepare_batch` (pure code, so it may run in another
        process); the size limit and duplicate ids are checked again here."""
        return writing.append_prepared(self._db, batches, records=return_records)

    # --- derived data (writes) ----------------------------------------------------------
    def save_snapshot(
        self,
        stream_id: str,
        version: int,
        state: dict[str, Any],
        aggregate_type: str,
        schema_version: int = 1,
        code_version: str = "",
    ) -> Snapshot:
        """Store (or replace) the snapshot of a stream at a version."""
        return claims.save_snapshot(
            self._db, stream_id, version, state, aggregate_type, schema_version, code_version
        )

    def set_label(self, key: str, value: str) -> None:
        """Record a documented label about the store (e.g. the demo's ``eventscope.demo``
        marker): a claim like the read models, not evidence (no hash covers it)."""
        claims.set_label(self._db, key, value)

    def label(self, key: str) -> str | None:
        """The value of a store label, or None (also for a store made before labels)."""
        return claims.label(self._db, key)

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that projection `name` has applied every event up to `position`."""
        claims.save_checkpoint(self._db, name, position)

    def put_projection_rows(
        self,
        name: str,
        rows: Sequence[tuple[str, dict[str, Any], int]],
        checkpoint: int | None = None,
    ) -> None:
        """Upsert projection documents and (optionally) the checkpoint, atomically."""
        claims.put_projection_rows(self._db, name, rows, checkpoint)

    def clear_projection(self, name: str) -> None:
        """Forget a projection's rows and checkpoint (before a rebuild)."""
        claims.clear_projection(self._db, name)

    # --- reading events -----------------------------------------------------------------
    def head_position(self) -> int:
        return reading.head_position(self._db)

    def event_count(self) -> int:
        """Positions are contiguous from 1, so the head position is the count."""
        return reading.head_position(self._db)

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        return reading.read_stream(self._db, stream_id, from_version, to_version, backwards)

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        return reading.read_replay(self._db, stream_id, from_version, to_version)

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        return reading.read_all(
            self._db, from_position, to_position, flt=filter, limit=limit, backwards=backwards
        )

    def event_at(self, position: int) -> RecordedEvent | None:
        return reading.event_at(self._db, position)

    def event_by_id(self, event_id: str) -> RecordedEvent | None:
        """The event with this id, or None."""
        return reading.event_by_id(self._db, event_id)

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        return reading.count_events(self._db, filter)

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        """Counts in `buckets` equal slices of recorded_at (`store.histogram`'s rule)."""
        return histogram.event_histogram(self._db, buckets, filter)

    # --- streams ------------------------------------------------------------------------
    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        return catalog.streams(self._db, stream_type, prefix, after, limit)

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        return catalog.stream_info(self._db, stream_id)

    def stream_versions(self, stream_ids: Iterable[str]) -> dict[str, int]:
        """Catalog versions of the existing streams among `stream_ids`, in a few queries."""
        return catalog.stream_versions(self._db, stream_ids)

    def stream_types(self) -> list[tuple[str, int]]:
        return catalog.stream_types(self._db)

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        return catalog.count_streams(self._db, stream_type, prefix)

    # --- derived claims (reads) ---------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        return claims.snapshots(self._db, stream_id)

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        return claims.snapshot_at(self._db, stream_id, version)

    def checkpoints(self) -> dict[str, int]:
        return claims.checkpoints(self._db)

    def projection_names(self) -> list[str]:
        return claims.projection_names(self._db)

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        return claims.projection_rows(self._db, projection, after, limit)

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        return claims.projection_row(self._db, projection, key)

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """Walk the whole chain in O(1) memory (keyset chunks); see `store.native.chain`."""
        return verifying.verify(self._db, against, progress)

    def head_digest(self) -> Digest:
        return verifying.head_digest(self._db)
