"""The read half of the store API.

The explorer and the domain engine read only through `EventSource`, so the native store
(SQLite or PostgreSQL) and read-only adapters for histories written by other software
(JSON Lines, the `eventsourcing` library's tables) are interchangeable.

Filters are plain keyword arguments; every implementation must treat filter text
literally (no wildcards, no SQL built from strings).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self, runtime_checkable

from eventscope.store.progress import ProgressCallback
from eventscope.store.records import (
    Digest,
    ProjectionRow,
    RecordedEvent,
    ReplayRow,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    replay_row,
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Filters for `read_all`, `count_events` and `event_histogram`; None means "any".

    Text filters match exactly (an `event_type` of ``"Deposit%"`` matches only that literal
    name); `stream_prefix` is a literal prefix.
    """

    event_types: Sequence[str] | None = None
    stream_type: str | None = None
    stream_prefix: str | None = None
    stream_id: str | None = None
    correlation_id: str | None = None
    actor: str | None = None
    since: datetime | None = None  # recorded_at >= since
    until: datetime | None = None  # recorded_at < until

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__slots__)


@runtime_checkable
class EventSource(Protocol):
    """Read access to a history. All methods are safe on a read-only source."""

    def describe(self) -> SourceInfo:
        """What this source is (kind, location without secrets, read-only, has chain)."""
        ...

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        """The highest global position (0 for an empty history)."""
        ...

    def event_count(self) -> int:
        """Number of events (cheap: from the catalog or an index, never a full decode)."""
        ...

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        """Events of one stream with from_version <= version <= to_version, in version order
        (descending when `backwards`). An unknown stream yields nothing."""
        ...

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        """What a fold reads of `read_stream`'s events (version, position, type, schema
        version, payload, decode error), in version order: the cold-replay path, which
        leaves metadata, hashes and times to the views that ask (`read_stream`)."""
        ...

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the natural name for callers
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        """Events with from_position < position <= to_position (exclusive start, like a
        checkpoint), in position order, optionally filtered. With `backwards`, descending,
        and `from_position` 0 means "from the head"."""
        ...

    def event_at(self, position: int) -> RecordedEvent | None:
        """The event at a global position, or None."""
        ...

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        """Number of events matching the filter."""
        ...

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        """Event counts in `buckets` equal time slices of recorded_at over the filtered
        events: [(bucket_start, count), ...]. Empty list for no events."""
        ...

    # --- streams ------------------------------------------------------------------------
    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        """Streams ordered by stream_id, with stream_id > after (keyset paging)."""
        ...

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        """One catalog row, or None."""
        ...

    def stream_types(self) -> list[tuple[str, int]]:
        """[(stream_type, number_of_streams)], ordered by type."""
        ...

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        """Number of streams matching."""
        ...

    # --- derived claims -----------------------------------------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        """All stored snapshots of a stream, by version."""
        ...

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        """The latest snapshot with snapshot.version <= version, or None."""
        ...

    def checkpoints(self) -> dict[str, int]:
        """Projection name -> last global position applied."""
        ...

    def projection_names(self) -> list[str]:
        """Names of projections with stored rows or checkpoints."""
        ...

    def projection_rows(
        self, projection: str, after: str | None = None, limit: int = 100
    ) -> list[ProjectionRow]:
        """Rows of one projection ordered by key, key > after (keyset paging)."""
        ...

    def projection_row(self, projection: str, key: str) -> ProjectionRow | None:
        """One stored projection row, or None."""
        ...

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """Walk the chain in O(1) memory; name the first bad position. With `against`, also
        prove the history up to that digest is unchanged and was not cut short."""
        ...

    def head_digest(self) -> Digest:
        """The head position and hash, to be kept outside the store."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


class ClosingContext:
    """`with source: ...` closes the source at the end of the block: the context-manager
    half every source shares (each defines `close`)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ReplayFromRecords:
    """`read_replay` derived from `read_stream`, for a source whose full read is already
    its cheapest one (a file it indexes, tables it reads whole); a source with a leaner
    query overrides it."""

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        raise NotImplementedError

    def read_replay(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> Iterator[ReplayRow]:
        return map(replay_row, self.read_stream(stream_id, from_version, to_version))
