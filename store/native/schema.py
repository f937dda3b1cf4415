"""The native store's tables, as SQLAlchemy Core metadata (used for DDL only).

The hot paths (append, read, verify) run hand-written SQL through the driver, because
Core `insert()` with dicts costs ~40% of append throughput (DESIGN.md "Baselines"); these
definitions are the single source of the schema both backends create.

Why these shapes:
* `data`/`metadata` are the exact canonical JSON text that was hashed, so `verify`
  rebuilds envelopes by concatenation instead of re-serialising parsed JSON;
* timestamps are fixed-width UTC text (`store.records.TIMESTAMP_FORMAT`), which sorts in
  time order and hashes identically on SQLite and PostgreSQL;
* `actor`, `correlation_id`, `causation_id` are copied out of metadata at append time so
  filters use indexes instead of scanning JSON;
* `chain_head` is a one-row table updated under the write lock: positions are assigned
  from it (not from a sequence), so they are contiguous and a deleted row is a gap.
"""

from __future__ import annotations

from eventscope.store.errors import NotAStoreError
from eventscope.store.native.chain_segment import VERIFY_COLUMNS_SQLITE  # noqa: F401 -- defined beside its reader
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 1
HASH_ALGORITHM = "sha256-chain-rfc8785-v1"

# SQLite only treats a column declared exactly INTEGER as the rowid alias (the fast path).
Position = BigInteger().with_variant(Integer(), "sqlite")
# Byte-order collation on PostgreSQL, so keyset paging and prefix ranges agree with SQLite
# (whose default BINARY collation compares UTF-8 bytes, i.e. code points).
OrderedText = Text().with_variant(Text(collation="C"), "postgresql")

metadata = MetaData()

store_info = Table(
    "store_info",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("schema_version", Integer, nullable=False),
    Column("hash_algorithm", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

chain_head = Table(
    "chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", Position, nullable=False),
    Column("hash", Text, nullable=True),
    Column("recorded_at", Text, nullable=True),
)

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("event_id", Text, nullable=False),
    Column("stream_id", OrderedText, nullable=False),
    Column("stream_type", OrderedText, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", OrderedText, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("occurred_at", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("actor", OrderedText, nullable=True),
    Column("correlation_id", OrderedText, nullable=True),
    Column("causation_id", OrderedText, nullable=True),
    Column("hash", Text, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    UniqueConstraint("event_id", name="uq_events_event_id"),
)
Index("ix_events_correlation_id", events.c.correlation_id)
Index("ix_events_actor", events.c.actor)
Index("ix_events_event_type", events.c.event_type)
Index("ix_events_recorded_at", events.c.recorded_at)

streams = Table(
    "streams",
    metadata,
    Column("stream_id", OrderedText, primary_key=True),
    Column("stream_type", OrderedText, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("first_recorded_at", Text, nullable=True),
    Column("last_recorded_at", Text, nullable=True),
    Column("first_position", Position, nullable=True),
    Column("last_position", Position, nullable=True),
)
Index("ix_streams_type", streams.c.stream_type, streams.c.stream_id)

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", OrderedText, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("code_version", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("stream_id", "version"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", OrderedText, primary_key=True),
    Column("position", Position, nullable=False),
)

projection_rows = Table(
    "projection_rows",
    metadata,
    Column("projection", OrderedText, nullable=False),
    Column("key", OrderedText, nullable=False),
    Column("document", Text, nullable=False),
    Column("position", Position, nullable=False),
    PrimaryKeyConstraint("projection", "key"),
)

# Labels: who made this store and for what, as documented keys (e.g. ``eventscope.demo``,
# written by `eventscope demo`). A claim like the read models, not evidence: no hash covers
# it. Stores created before the table existed simply have no labels.
store_labels = Table(
    "store_labels",
    metadata,
    Column("key", OrderedText, primary_key=True),
    Column("value", Text, nullable=False),
)

EVENT_COLUMNS = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, hash"
)

# verify reads the hashed text columns as UTF-8 bytes, ready to concatenate.
VERIFY_COLUMNS_POSTGRES = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "convert_to(data, 'UTF8'), convert_to(metadata, 'UTF8'), convert_to(occurred_at, 'UTF8'), "
    "convert_to(recorded_at, 'UTF8'), hash, actor, correlation_id, causation_id"
)


def check_store_info(version: object, algorithm: object, where: str) -> None:
    """Refuse a store whose schema or chain rule this code does not understand.

    A schema version below 1 was never written by eventscope, and a chain built with
    another hash rule cannot be proven with ours: verifying it with SHA-256 anyway would
    call a foreign chain broken, or worse, launder an edited one. Both are refused.
    """
    if not isinstance(version, int):
        raise NotAStoreError(f"{where} has a damaged store_info table, so it cannot be opened")
    if version < 1:
        raise NotAStoreError(
            f"{where} claims store schema version {version}, which no eventscope writes; "
            "its store_info table is damaged, so it cannot be opened"
        )
    if version > SCHEMA_VERSION:
        raise NotAStoreError(
            f"{where} uses store schema version {version}, newer than this eventscope "
            f"supports ({SCHEMA_VERSION}); upgrade eventscope to open it"
        )
    if algorithm != HASH_ALGORITHM:
        raise NotAStoreError(
            f"{where} names the hash rule {str(algorithm)[:80]!r}, which this eventscope "
            f"cannot check (it knows {HASH_ALGORITHM!r}), so it cannot be opened"
        )
