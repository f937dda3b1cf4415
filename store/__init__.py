"""eventscope's event store: append-only events, stream catalog, snapshots, projection
rows, a hash chain, and read-only sources for histories written by other software.

`store` knows nothing of aggregates or the UI (a test enforces it).
"""

from store.errors import (
    ConcurrencyError,
    IdempotencyConflict,
    InvalidEvent,
    NotAStoreError,
    ReadOnlyError,
    SourceNotFound,
    StoreError,
    StreamNotFound,
)
from store.eventstore import EventStore
from store.open import open_source
from store.records import (
    ANY,
    NO_STREAM,
    Digest,
    ExpectedVersion,
    NewEvent,
    ProjectionRow,
    RecordedEvent,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
)
from store.source import EventFilter, EventSource

__all__ = [
    "ANY",
    "NO_STREAM",
    "ConcurrencyError",
    "Digest",
    "EventFilter",
    "EventSource",
    "EventStore",
    "ExpectedVersion",
    "IdempotencyConflict",
    "InvalidEvent",
    "NewEvent",
    "NotAStoreError",
    "ProjectionRow",
    "ReadOnlyError",
    "RecordedEvent",
    "Snapshot",
    "SourceInfo",
    "SourceNotFound",
    "StoreError",
    "StreamInfo",
    "StreamNotFound",
    "VerifyReport",
    "open_source",
]
