"""Plain, immutable records that cross the store boundary.

They carry JSON-shaped data only (no domain types), so every layer above -- and every
read-only adapter for a foreign format -- can produce and consume them without knowing
about aggregates or the UI.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

# The time rules live in `store.times`; these names stay importable from here, where
# every source and layer has always found them.
from eventscope.store.times import EPOCH as EPOCH
from eventscope.store.times import TIMESTAMP_FORMAT as TIMESTAMP_FORMAT
from eventscope.store.times import format_timestamp as format_timestamp
from eventscope.store.times import from_micros as from_micros
from eventscope.store.times import parse_timestamp as parse_timestamp
from eventscope.store.times import to_micros as to_micros

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. `recorded_at` is honoured only for imports/backfills."""

    event_type: str
    data: JSONObject
    metadata: JSONObject = field(default_factory=dict)
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    schema_version: int = 1
    occurred_at: datetime | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: its global position, stream version and chain hash."""

    position: int
    stream_id: str
    stream_type: str
    version: int
    event_id: str
    event_type: str
    schema_version: int
    data: JSONObject
    metadata: JSONObject
    occurred_at: datetime
    recorded_at: datetime
    hash: str
    # Set by adapters when a payload could not be read as a JSON object; `data` is then {}.
    # The domain engine turns such an event into an explicit "undecodable" value.
    decode_error: str | None = None
    # Times the source did not record ("recorded_at", "occurred_at"): the fields then
    # hold the documented stand-in used for ordering and filters (e.g. JSON Lines: the
    # previous event's time), which views must show as unknown, never as a real date.
    times_unknown: tuple[str, ...] = ()

    def time_text(self, name: str) -> str:
        """`recorded_at`/`occurred_at` as stored text, or "unknown" when not recorded."""
        if name in self.times_unknown:
            return "unknown"
        return format_timestamp(getattr(self, name))

    @property
    def actor(self) -> str | None:
        value = self.metadata.get("actor")
        return value if isinstance(value, str) else None

    @property
    def correlation_id(self) -> str | None:
        value = self.metadata.get("correlation_id")
        return value if isinstance(value, str) else None

    @property
    def causation_id(self) -> str | None:
        value = self.metadata.get("causation_id")
        return value if isinstance(value, str) else None

    def to_json(self) -> JSONObject:
        """The `events --json` shape of DESIGN.md."""
        return {
            "position": self.position,
            "stream_id": self.stream_id,
            "stream_type": self.stream_type,
            "version": self.version,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "data": self.data,
            "metadata": self.metadata,
            "occurred_at": self._time_json("occurred_at"),
            "recorded_at": self._time_json("recorded_at"),
            "hash": self.hash,
        }

    def _time_json(self, name: str) -> str | None:
        """JSON null for a time the source did not record."""
        return None if name in self.times_unknown else format_timestamp(getattr(self, name))


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A row of the stream catalog; listing streams never scans events."""

    stream_id: str
    stream_type: str
    version: int
    event_count: int
    first_recorded_at: datetime | None
    last_recorded_at: datetime | None
    first_position: int | None = None
    last_position: int | None = None

    def to_json(self) -> JSONObject:
        return {
            "stream_id": self.stream_id,
            "stream_type": self.stream_type,
            "version": self.version,
            "event_count": self.event_count,
            "first_recorded_at": _ts_or_none(self.first_recorded_at),
            "last_recorded_at": _ts_or_none(self.last_recorded_at),
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored snapshot: a derived claim about a stream's state at `version`."""

    stream_id: str
    version: int
    state: JSONObject
    aggregate_type: str
    schema_version: int
    code_version: str
    created_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "state": self.state,
            "aggregate_type": self.aggregate_type,
            "schema_version": self.schema_version,
            "code_version": self.code_version,
            "created_at": format_timestamp(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class ProjectionRow:
    """A stored read-model document: a derived claim, checked against a replay."""

    projection: str
    key: str
    document: JSONObject
    position: int

    def to_json(self) -> JSONObject:
        return {
            "projection": self.projection,
            "key": self.key,
            "document": self.document,
            "position": self.position,
        }


@dataclass(frozen=True, slots=True)
class Digest:
    """The head of the hash chain, to be kept outside the store (e.g. in a case file)."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse `position:hash`; raises ValueError with a readable message."""
        position_text, sep, hash_text = text.strip().partition(":")
        if not sep or not position_text.isdigit():
            raise ValueError(f"a digest looks like POSITION:HASH, not {text!r}")
        hash_text = hash_text.lower()
        if len(hash_text) != 64 or any(c not in "0123456789abcdef" for c in hash_text):
            raise ValueError("a digest's hash is 64 hexadecimal characters (SHA-256)")
        return cls(int(position_text), hash_text)


# How many bad positions a report names one by one; `bad_count` counts them all, so an
# auditor sees the extent without a report that grows with the damage.
BAD_POSITIONS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class BadPosition:
    """One position whose event is not what was written: `kind` is "missing" (a deleted
    row or a cut tail), "link" (its hash does not follow from its stored predecessor),
    "malformed" (columns of the wrong type), "digest" (differs from a digest kept
    outside), "columns" (an indexed column disagrees with the hashed metadata), "time"
    (recorded earlier than its predecessor) or "head" (the head record disagrees with
    the last event)."""

    position: int
    kind: str
    reason: str

    @property
    def mark(self) -> str:
        """A few words for marking the event's row in lists and reports."""
        return _MARKS.get(self.kind, "link broken")

    def to_json(self) -> JSONObject:
        return {"position": self.position, "kind": self.kind, "reason": self.reason}


_MARKS = {
    "columns": "columns altered",
    "time": "recorded out of order",
    "head": "head record disagrees",
}


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of walking the hash chain (or, for a source without one, of the
    structural checks that stand in for it: `chain` is False and `checks` names them)."""

    ok: bool
    checked: int
    first_bad_position: int | None = None
    reason: str | None = None
    head: Digest | None = None
    # Foreign sources without a chain report lines/records they could not read instead.
    malformed: int = 0
    # Every bad position is counted; the first BAD_POSITIONS_KEPT are named.
    bad_positions: tuple[BadPosition, ...] = ()
    bad_count: int = 0
    chain: bool = True
    # What was checked instead of a chain (sources without one), in words.
    checks: tuple[str, ...] = ()
    # Stream catalog rows that disagree with the events, one sentence per stream.
    catalog_problems: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "ok": self.ok,
            "chain": self.chain,
            "checked": self.checked,
            "first_bad_position": self.first_bad_position,
            "bad_count": self.bad_count,
            "bad_positions": [bad.to_json() for bad in self.bad_positions],
            "reason": self.reason,
            "head": str(self.head) if self.head else None,
            "malformed": self.malformed,
            "catalog_problems": list(self.catalog_problems),
            "checks": list(self.checks),
        }


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is, for the status bar and `--json` metadata."""

    kind: str  # "native-sqlite", "native-postgresql", "jsonl", "eventsourcing-sqlite", ...
    location: str  # a path or a URL with any password removed
    read_only: bool
    has_hash_chain: bool


def _ts_or_none(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


class ExpectedVersion(enum.Enum):
    """Sentinels for `append(expected_version=...)`; an int means "exactly this version"."""

    NO_STREAM = "NO_STREAM"
    ANY = "ANY"


NO_STREAM = ExpectedVersion.NO_STREAM
ANY = ExpectedVersion.ANY


class ReplayRow(NamedTuple):
    """What a fold reads of one stored event: `EventSource.read_replay` yields these.

    A tuple, not a `RecordedEvent`: a replay that only folds needs neither metadata,
    hashes nor parsed times, and every per-event object it skips building is work (and
    cyclic-GC tracking) the replay does not pay for; docs/ARCHITECTURE.md. `data` and
    `decode_error` follow `RecordedEvent`: ``{}`` and a reason when the payload is not a
    JSON object. Only the payload decides that here -- damaged metadata or times do not
    make a row unusable for a fold (the event detail, read in full, still shows them)."""

    version: int
    position: int
    event_type: str
    schema_version: int
    data: JSONObject
    decode_error: str | None


def replay_row(event: RecordedEvent) -> ReplayRow:
    """The replay row of a full record (sources without a leaner read use this)."""
    return ReplayRow(
        event.version,
        event.position,
        event.event_type,
        event.schema_version,
        event.data,
        event.decode_error,
    )
