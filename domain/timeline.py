"""The temporal engine for one stream: state, changes and blame at any version.

How it stays fast and bounded (DESIGN.md "Consequences"):

* the first pass reads the stream once, folds plain dicts (orjson-decoded payloads, no
  pydantic on the hot path) and keeps a *checkpoint* of the state every K events as
  compact orjson bytes, plus each event's position and times (turned into sorted
  integer arrays on the first lookup by time);
* afterwards, the state at version v = the checkpoint at ``v // K * K`` + at most K - 1
  applies of events read back by version range; recently used ranges ("chunks") stay in a
  small LRU, so memory is bounded by the checkpoints, the per-event positions/times and
  the LRU -- never by the payloads of the whole stream;
* blame keeps its own checkpoints (built on the first blame request), so blame at any
  version costs the same as state.

An event that cannot be used (undecodable payload, unknown type for the aggregate, a
failing upcaster or applier) is *skipped* with its reason: `StateAt.skipped` lists them,
so a view can mark the state as "computed with these events skipped". Nothing here
raises for bad data; `VersionOutOfRange` is raised only for a version outside 0..length.

A `Timeline` is safe to call from several worker threads (one lock per timeline).
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any, Literal

import orjson
from eventscope.domain.blame import BlameEntry, blamed_leaves, initial_tree, leaves
from eventscope.domain.blame import update as update_blame
from eventscope.domain.business_time import BusinessView, business_order
from eventscope.domain.diff import DiffEntry, Path, diff, diff_at
from eventscope.domain.errors import VersionOutOfRange
from eventscope.domain.events import DecodedEvent, EventRegistry
from eventscope.domain.fold import merge
from eventscope.domain.folders import AggregateFolder, Folder
from eventscope.domain.skips import SkippedEvent, describe_exception, dumps_state
from eventscope.store.records import JSONObject, RecordedEvent, format_timestamp, parse_timestamp
from eventscope.store.source import EventSource
from eventscope.store.times import to_micros as micros

__all__ = ["AggregateFolder", "Axis", "Folder", "SkippedEvent", "StateAt", "Timeline"]

Axis = Literal["recorded", "occurred"]
DEFAULT_CHECKPOINT_EVERY = 32
DEFAULT_CACHED_CHUNKS = 64


@dataclass(frozen=True, slots=True)
class StateAt:
    """The state of a stream after `version` events (plain JSON), and what was skipped."""

    stream_id: str
    version: int
    state: JSONObject
    skipped: tuple[SkippedEvent, ...] = ()
    derivation: str = "generic"  # "generic" or the aggregate class name
    # On the business-time axis: the versions folded, in the order applied, and the two
    # moments asked (known_at None = everything recorded). `version` is then the highest
    # applied version (0 when none), not a prefix length.
    applied_versions: tuple[int, ...] | None = None
    as_of: datetime | None = None
    known_at: datetime | None = None

    @property
    def complete(self) -> bool:
        """False when some event up to `version` could not be applied."""
        return not self.skipped

    @property
    def business_time(self) -> bool:
        """True for a state as of business time (occurred axis)."""
        return self.applied_versions is not None

    def to_json(self) -> JSONObject:
        """The `state --json` shape ({stream_id, version, state}) plus what was skipped;
        on the business-time axis also `as_of`, `known_at` and `applied_versions`."""
        out: JSONObject = {
            "stream_id": self.stream_id,
            "version": self.version,
            "state": self.state,
        }
        if self.applied_versions is not None:
            out.update(business_json(self))
        if self.skipped:
            out["skipped"] = [s.to_json() for s in self.skipped]
        return out


def business_json(at: StateAt) -> JSONObject:
    """`axis`, `as_of`, `known_at` (null: everything recorded) and `applied_versions`."""
    return {
        "axis": "occurred",
        "as_of": format_timestamp(at.as_of) if at.as_of is not None else None,
        "known_at": format_timestamp(at.known_at) if at.known_at is not None else None,
        "applied_versions": list(at.applied_versions or ()),
    }


@dataclass(slots=True)
class _Chunk:
    """Events of versions ``first..first+len-1`` with their decoded payloads."""

    first: int
    # `ReplayRow`s when filled by a fold-only read (`lean`): enough to fold and to note a
    # skip; `_full_chunk` reads the records again for a view that shows them.
    records: list[Any]
    payloads: list[JSONObject | None]
    errors: list[str | None]
    lean: bool = False


@dataclass(slots=True)
class _TimeIndex:
    times: list[int] = field(default_factory=list)  # sorted microseconds
    best: list[int] = field(default_factory=list)  # max version among times[:i+1]


_POSITION = attrgetter("position")
_DATA = attrgetter("data")
_UNKNOWN: Any = object()
_DECODE_ERROR = attrgetter("decode_error")


_dumps = dumps_state
_describe = describe_exception
DEFAULT_BUSINESS_VIEWS = 4


def _copy(state: Any) -> Any:
    return orjson.loads(_dumps(state))


class Timeline:
    """State, changes, blame and time lookup for one stream. Build it via `Engine`."""

    def __init__(
        self,
        source: EventSource,
        stream_id: str,
        *,
        folder: Folder | None = None,
        registry: EventRegistry | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        cached_chunks: int = DEFAULT_CACHED_CHUNKS,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.source = source
        self.stream_id = stream_id
        self.folder = folder or Folder()
        self.registry = registry or EventRegistry()
        self.k = checkpoint_every
        self._max_chunks = max(2, cached_chunks)
        self._lock = threading.RLock()
        self._built = False
        self._length = 0
        self._checkpoints: list[bytes] = [orjson.dumps(self.folder.initial())]
        self._recorded: list[datetime] = []
        self._occurred: list[datetime] = []
        self._positions = array("q")
        self._skipped: dict[int, SkippedEvent] = {}
        self._apply_failed: set[int] = set()  # skipped because the applier raised
        self._skipped_sorted: tuple[list[int], list[SkippedEvent]] | None = None
        self._chunks: OrderedDict[int, _Chunk] = OrderedDict()
        self._time_index: dict[str, _TimeIndex] = {}
        self._blame_checkpoints: list[bytes] | None = None
        self._series: dict[Path, list[tuple[int, float | None]]] = {}
        self._fast_decode = not self.registry.has_upcasters() and not self.registry.strict
        # The business-time axis (domain.business_time): the order of the whole stream by
        # (occurred_at, version), recorded times sorted, and views keyed by how many events
        # are known at R. All rebuilt after the stream grows.
        self._business: tuple[list[int], list[int], list[int]] | None = None
        self._views: OrderedDict[int, BusinessView] = OrderedDict()
        self._read_ahead = 1  # chunks read per query on a cache miss (see `_chunk`)

    # --- public API ---------------------------------------------------------------------
    @property
    def length(self) -> int:
        """The latest version (number of events) seen by the last build or refresh."""
        self._ensure_built()
        return self._length

    @property
    def latest_recorded_at(self) -> datetime | None:
        """The latest recorded_at of the stream ("everything recorded"); None if empty."""
        with self._lock:
            self._ensure_built()
            self._ensure_times()
            return max(self._recorded, default=None)

    @property
    def derivation(self) -> str:
        return self.folder.name

    def refresh(self) -> int:
        """Fold events appended since the last build; returns the new length."""
        with self._lock:
            if not self._built:
                self._ensure_built()
            else:
                self._extend()
            return self._length

    def state_at(self, version: int | None = None) -> StateAt:
        """The state after `version` events (None = latest); at most K applies."""
        with self._lock:
            version = self._check(version)
            state = self._state(version)
            return StateAt(
                self.stream_id, version, state, self._skipped_upto(version), self.folder.name
            )

    def event(self, version: int) -> DecodedEvent:
        """Stored event `version` decoded: raw and upcast payloads, chain, or the reason it
        was skipped (an aggregate with no handler, a failing applier...)."""
        with self._lock:
            self._check(version, allow_zero=False)
            record = self._record(version)
            decoded = self.registry.decode(record)
            skipped = self._skipped.get(version)
            if skipped is not None and decoded.error is None:
                decoded.error = skipped.reason
            return decoded

    def record(self, version: int) -> RecordedEvent:
        """The stored event at `version` (through the chunk cache)."""
        with self._lock:
            self._check(version, allow_zero=False)
            return self._record(version)

    def changes_at(self, version: int) -> list[DiffEntry]:
        """What event `version` changed: diff of state(version - 1) -> state(version)."""
        with self._lock:
            version = self._check(version)
            if version == 0:
                return []
            before = self._state(version - 1)
            after = self._fold(_copy(before), version, version)
            return diff(before, after)

    def diff_versions(self, a: int, b: int) -> list[DiffEntry]:
        """Diff of state(a) -> state(b)."""
        with self._lock:
            return diff(self._state(self._check(a)), self._state(self._check(b)))

    def blame_at(self, version: int | None = None) -> list[BlameEntry]:
        """For each leaf of the state at `version`, the event that last changed it."""
        with self._lock:
            version = self._check(version)
            return self._blame_entries(*self._state_and_blame(version))

    def _blame_entries(self, state: JSONObject, tree: dict[str, Any]) -> list[BlameEntry]:
        out: list[BlameEntry] = []
        for path, value, by in blamed_leaves(state, tree):
            if by <= 0:
                out.append(BlameEntry(path, value, 0))
                continue
            event = self._record(by)
            command = event.metadata.get("command")
            out.append(
                BlameEntry(
                    path,
                    value,
                    by,
                    event.position,
                    event.event_type,
                    event.actor,
                    event.recorded_at,
                    command if isinstance(command, str) else None,
                )
            )
        return out

    # --- the business-time axis (domain.business_time) ----------------------------------
    def state_as_of(self, as_of: datetime | str, known_at: datetime | str | None = None) -> StateAt:
        """The state as of business time `as_of`, as known at recorded time `known_at`
        (None = everything recorded): the events with recorded_at <= known_at and
        occurred_at <= as_of, applied in occurred order, ties by version. No such event
        gives the initial state at version 0. `applied_versions` lists what was folded,
        in the order applied; `skipped` what could not be (with the reason)."""
        as_of, known_at = _moment(as_of), _moment_or_none(known_at)
        with self._lock:
            view = self._view(known_at)
            count = view.count_at(micros(as_of))
            applied = tuple(view.order[:count])
            skipped = view.skipped(count)
            if skipped:
                refused = {s.version for s in skipped}
                applied = tuple(v for v in applied if v not in refused)
            return StateAt(
                self.stream_id,
                view.highest(count),
                view.state(count),
                skipped,
                self.folder.name,
                applied_versions=applied,
                as_of=as_of,
                known_at=known_at,
            )

    def blame_as_of(
        self, as_of: datetime | str, known_at: datetime | str | None = None
    ) -> list[BlameEntry]:
        """Blame of `state_as_of`: for each leaf, the event that last changed it in the
        business-time order those events were applied in."""
        as_of, known_at = _moment(as_of), _moment_or_none(known_at)
        with self._lock:
            view = self._view(known_at)
            return self._blame_entries(*view.state_and_blame(view.count_at(micros(as_of))))

    def changes_in_business_order(
        self, version: int, known_at: datetime | str | None = None
    ) -> list[DiffEntry]:
        """What event `version` changed when applied in business-time order among the
        events known at `known_at` (empty when it is not known then)."""
        known_at = _moment_or_none(known_at)
        with self._lock:
            self._check(version, allow_zero=False)
            view = self._view(known_at)
            index = view.index_of(version)
            if index is None:
                return []
            return diff(view.state(index), view.state(index + 1))

    def business_view(self, known_at: datetime | str | None = None) -> BusinessView:
        """The business-time order of the events known at `known_at` (cached, a few R's)."""
        with self._lock:
            return self._view(_moment_or_none(known_at))

    def _view(self, known_at: datetime | None) -> BusinessView:
        self._ensure_built()
        if self._business is None:
            self._ensure_times()
            occurred = [micros(moment) for moment in self._occurred]
            recorded = [micros(moment) for moment in self._recorded]
            self._business = (occurred, recorded, sorted(recorded))
        occurred, recorded, recorded_sorted = self._business
        # The events with recorded_at <= R are exactly the first `known` of the stream by
        # recorded time, so `known` identifies the view.
        known = (
            self._length if known_at is None else bisect_right(recorded_sorted, micros(known_at))
        )
        view = self._views.get(known)
        if view is not None:
            self._views.move_to_end(known)
            return view
        order = business_order(occurred)
        if known < self._length:
            limit = recorded_sorted[known - 1] if known else -(1 << 62)
            order = [v for v in order if recorded[v - 1] <= limit]
        view = self._views[known] = BusinessView(self, order, occurred)
        while len(self._views) > DEFAULT_BUSINESS_VIEWS:
            self._views.popitem(last=False)
        return view

    def _payload(self, version: int) -> tuple[RecordedEvent, JSONObject | None]:
        """The stored event `version` and its decoded payload (None when unusable)."""
        chunk = self._full_chunk((version - 1) // self.k)
        i = version - chunk.first
        return chunk.records[i], chunk.payloads[i]

    def version_at_time(self, moment: datetime | str, axis: Axis = "recorded") -> int:
        """The last version whose `recorded_at` (or `occurred_at`) is at or before
        `moment`; 0 when none is. On the occurred axis events may be backdated, so this is
        the highest version that *occurred* by then (earlier versions may have occurred
        later)."""
        if isinstance(moment, str):
            moment = parse_timestamp(moment)
        if axis not in ("recorded", "occurred"):
            raise ValueError(f"axis must be 'recorded' or 'occurred', not {axis!r}")
        with self._lock:
            self._ensure_built()
            index = self._time_index.get(axis)
            if index is None:
                index = self._build_time_index(axis)
            at = bisect_right(index.times, micros(moment))
            return index.best[at - 1] if at else 0

    def time_of(self, version: int, axis: Axis = "recorded") -> datetime | None:
        """The recorded_at/occurred_at of `version` (None for version 0)."""
        with self._lock:
            self._check(version)
            if version == 0:
                return None
            event = self._record(version)
            return event.recorded_at if axis == "recorded" else event.occurred_at

    def position_of(self, version: int) -> int:
        """The global position of `version` (0 for version 0)."""
        with self._lock:
            self._check(version)
            return self._positions[version - 1] if version else 0

    def version_at_position(self, position: int) -> int:
        """The last version whose global position is <= `position`."""
        with self._lock:
            self._ensure_built()
            return bisect_right(self._positions, position)

    def numeric_paths(self, version: int | None = None) -> list[Path]:
        """Paths of the numeric leaves (not booleans) of the state at `version`."""
        state = self.state_at(version).state
        return [path for path, value in leaves(state) if type(value) in (int, float) and path != ()]

    def series(self, path: Iterable[str | int]) -> list[tuple[int, float | None]]:
        """(version, value) for every version 1..length of a numeric field; None where the
        field is missing or not a number. One replay per path, then cached."""
        key = tuple(path)
        with self._lock:
            self._ensure_built()
            cached = self._series.get(key)
            if cached is not None and len(cached) == self._length:
                return list(cached)
            out = [(version, _number_at(state, key)) for version, state in self._walk_states()]
            self._series[key] = out
            return list(out)

    @property
    def skipped(self) -> list[SkippedEvent]:
        """Every event the fold had to skip, by version."""
        with self._lock:
            self._ensure_built()
            return [self._skipped[v] for v in sorted(self._skipped)]

    def memory_estimate(self) -> int:
        """Bytes held by checkpoints and arrays (not counting the chunk LRU)."""
        with self._lock:
            size = sum(len(c) for c in self._checkpoints)
            size += sum(len(c) for c in self._blame_checkpoints or [])
            size += 8 * (len(self._recorded) + len(self._occurred) + len(self._positions))
            size += sum(8 * len(index.times) * 2 for index in self._time_index.values())
            size += sum(view.memory_estimate() for view in self._views.values())
            return size

    # --- building -----------------------------------------------------------------------
    def _ensure_built(self) -> None:
        with self._lock:
            if not self._built:
                self._extend()
                self._built = True

    def _extend(self) -> None:
        """Fold from the last full checkpoint to the end of the stream.

        The hot path of a first replay: events are taken K at a time with C-level list
        building (`islice`, `attrgetter`), so per-event Python work is the fold itself.
        Times are kept as the records' datetime objects (the store shares them between
        events of one batch) and turned into sorted integer arrays only when a time
        lookup first needs them.
        """
        k = self.k
        chunk_index = self._length // k
        first = chunk_index * k + 1
        del self._checkpoints[chunk_index + 1 :]
        del self._recorded[first - 1 :]
        del self._occurred[first - 1 :]
        del self._positions[first - 1 :]
        for version in [v for v in self._skipped if v >= first]:
            del self._skipped[version]
            self._apply_failed.discard(version)
        self._business = None
        self._views.clear()
        self._skipped_sorted = None
        self._time_index.clear()
        self._blame_checkpoints = None
        self._series.clear()
        for index in [i for i in self._chunks if i >= chunk_index]:
            del self._chunks[index]

        state = orjson.loads(self._checkpoints[chunk_index])
        events = self.source.read_replay(self.stream_id, from_version=first)
        expected = first
        while True:
            records = list(islice(events, k))
            if not records:
                break
            last = expected + len(records) - 1
            if records[0].version != expected or records[-1].version != last:
                # Versions are contiguous in every supported source (and read in version
                # order, unique); anything else would mislabel every later state.
                raise VersionOutOfRange(
                    f"stream {self.stream_id!r} does not have contiguous versions "
                    f"{expected}..{last}; the source is damaged"
                )
            self._positions.extend(map(_POSITION, records))
            chunk = self._decode_chunk(expected, records, lean=True)
            self._remember(chunk)  # before folding: a failing applier re-reads it
            state = self._fold_chunk(state, chunk, last, record_skips=True)
            if len(records) == k:
                self._checkpoints.append(_dumps(state))
            expected = last + 1
            if len(records) < k:
                break
        self._length = expected - 1

    def _ensure_times(self) -> None:
        """Read the times the fold-only build left out, on the first lookup that needs
        them (one sweep of the events not yet timed)."""
        done = len(self._recorded)
        if done >= self._length:
            return
        for record in self.source.read_stream(
            self.stream_id, from_version=done + 1, to_version=self._length
        ):
            self._recorded.append(record.recorded_at)
            self._occurred.append(record.occurred_at)

    def _build_time_index(self, axis: str) -> _TimeIndex:
        self._ensure_times()
        moments = self._recorded if axis == "recorded" else self._occurred
        values = [micros(moment) for moment in moments]
        index = _TimeIndex()
        if all(values[i] <= values[i + 1] for i in range(len(values) - 1)):
            index.times = values
            index.best = list(range(1, len(values) + 1))
        else:
            pairs = sorted(zip(values, range(1, len(values) + 1), strict=True))
            best = 0
            for moment, version in pairs:
                best = max(best, version)
                index.times.append(moment)
                index.best.append(best)
        self._time_index[axis] = index
        return index

    # --- folding ------------------------------------------------------------------------
    def _decode_chunk(self, first: int, records: list[Any], *, lean: bool = False) -> _Chunk:
        errors: list[str | None]
        payloads: list[JSONObject | None]
        if self._fast_decode:
            errors = list(map(_DECODE_ERROR, records))
            if any(errors):
                payloads = [None if e else r.data for r, e in zip(records, errors, strict=True)]
            else:
                payloads = list(map(_DATA, records))
        else:
            payloads, errors = [], []
            decode = self.registry.decode
            for record in records:
                decoded = decode(record)
                payloads.append(decoded.data)
                errors.append(decoded.error)
        return _Chunk(first, records, payloads, errors, lean)

    def _fold_chunk(
        self,
        state: JSONObject,
        chunk: _Chunk,
        last: int,
        *,
        first: int | None = None,
        record_skips: bool = False,
    ) -> JSONObject:
        """Fold chunk events with first <= version <= last into `state` (in place when the
        folder allows). With `record_skips` (the build pass), note every skipped event."""
        folder = self.folder
        refuse = folder.refuse
        apply = folder.apply
        skipped = self._skipped
        records = chunk.records
        payloads = chunk.payloads
        refusals: dict[str, str | None] = {}
        start = 0 if first is None else first - chunk.first
        stop = last - chunk.first + 1
        if type(folder) is Folder:  # the generic fold: the hottest loop of all
            clean = True
            for data in islice(payloads, start, stop):
                if type(data) is dict:
                    merge(state, data)
                else:
                    clean = False
            if not clean and record_skips:
                for i in range(start, stop):
                    data = payloads[i]
                    if data is None:
                        self._skip(records[i], chunk.errors[i] or "payload could not be decoded")
                    elif type(data) is not dict:
                        self._skip(records[i], f"payload is a {type(data).__name__}, not an object")
            return state
        for i in range(start, stop):
            data = payloads[i]
            if data is None:
                if record_skips:
                    self._skip(records[i], chunk.errors[i] or "payload could not be decoded")
                continue
            record = records[i]
            if not record_skips and record.version in skipped:
                continue
            event_type = record.event_type
            reason = refusals.get(event_type, _UNKNOWN)
            if reason is _UNKNOWN:
                reason = refusals[event_type] = refuse(event_type)
            if reason is not None:
                if record_skips:
                    self._skip(record, reason)
                continue
            try:
                state = apply(state, event_type, data)
            except Exception as exc:  # user code: a failing applier skips, never stops
                self._skip(record, f"applying it failed: {_describe(exc)}")
                self._apply_failed.add(record.version)
                # The applier may have half-changed the state: re-derive the state just
                # before this event (the failed one is now skipped; folds are deterministic).
                state = self._state(record.version - 1)
        return state

    def _skip(self, record: RecordedEvent, reason: str) -> None:
        self._skipped_sorted = None
        self._skipped[record.version] = SkippedEvent(
            record.version, record.position, record.event_type, reason
        )

    def _skipped_upto(self, version: int) -> tuple[SkippedEvent, ...]:
        if not self._skipped:
            return ()
        if self._skipped_sorted is None:  # rebuilt only after new skips were found
            versions = sorted(self._skipped)
            self._skipped_sorted = (versions, [self._skipped[v] for v in versions])
        versions, events = self._skipped_sorted
        return tuple(events[: bisect_right(versions, version)])

    def _check(self, version: int | None, allow_zero: bool = True) -> int:
        self._ensure_built()
        if version is None:
            return self._length
        low = 0 if allow_zero else 1
        if type(version) is not int or not low <= version <= self._length:
            if self._length == 0:
                raise VersionOutOfRange(f"stream {self.stream_id!r} has no events")
            raise VersionOutOfRange(
                f"version {version} is out of range for stream {self.stream_id!r} "
                f"(it has versions {low} to {self._length})"
            )
        return version

    def _chunk(self, index: int) -> _Chunk:
        chunk = self._chunks.get(index)
        if chunk is not None:
            self._chunks.move_to_end(index)
            return chunk
        first = index * self.k + 1
        span = self.k * max(1, self._read_ahead)
        records = list(
            self.source.read_stream(
                self.stream_id, from_version=first, to_version=min(first + span - 1, self._length)
            )
        )
        # Read-ahead (a business-time pass walks the stream almost in version order): one
        # query fills several chunks; the LRU keeps them.
        for start in range(self.k, len(records), self.k):
            if index + start // self.k not in self._chunks:
                self._remember(self._decode_chunk(first + start, records[start : start + self.k]))
        chunk = self._decode_chunk(first, records[: self.k])
        self._remember(chunk)
        return chunk

    def _remember(self, chunk: _Chunk) -> None:
        index = (chunk.first - 1) // self.k
        self._chunks[index] = chunk
        self._chunks.move_to_end(index)
        while len(self._chunks) > self._max_chunks:
            self._chunks.popitem(last=False)

    def _full_chunk(self, index: int) -> _Chunk:
        """A chunk holding full records (the build pass leaves replay rows)."""
        chunk = self._chunk(index)
        if chunk.lean:
            del self._chunks[index]
            chunk = self._chunk(index)
        return chunk

    def _record(self, version: int) -> RecordedEvent:
        chunk = self._full_chunk((version - 1) // self.k)
        return chunk.records[version - chunk.first]

    def _state(self, version: int) -> JSONObject:
        """A private copy of the state after `version` events."""
        index = version // self.k
        state = orjson.loads(self._checkpoints[index])
        if version == index * self.k:
            return state
        return self._fold(state, index * self.k + 1, version)

    def _fold(self, state: JSONObject, first: int, last: int) -> JSONObject:
        """Fold versions first..last (all within one chunk) into `state`."""
        chunk = self._chunk((first - 1) // self.k)
        return self._fold_chunk(state, chunk, last, first=first)

    def _stream_chunks(self) -> Iterator[_Chunk]:
        """The stream from version 1 to `length` as decoded chunks, read in one sweep
        (whole-history passes do not go through the LRU, so they do not flush it)."""
        events = self.source.read_replay(self.stream_id, to_version=self._length)
        first = 1
        while first <= self._length:
            records = list(islice(events, self.k))
            if not records:
                return
            yield self._decode_chunk(first, records, lean=True)
            first += len(records)

    def _step(self, state: JSONObject, chunk: _Chunk, i: int) -> JSONObject:
        """Apply event `i` of a chunk (after the build pass: skips are known)."""
        data = chunk.payloads[i]
        record = chunk.records[i]
        if data is None or record.version in self._skipped:
            return state
        if type(self.folder) is Folder:
            return merge(state, data) if type(data) is dict else state
        try:
            return self.folder.apply(state, record.event_type, data)
        except Exception as exc:  # not deterministic after all: skip it from now on
            self._skip(record, f"applying it failed: {_describe(exc)}")
            self._apply_failed.add(record.version)
            return self._state(record.version - 1)

    def _walk_states(self) -> Iterator[tuple[int, JSONObject]]:
        """(version, state) for each version 1..length; the state is live (copy it to keep
        it)."""
        state = orjson.loads(self._checkpoints[0])
        for chunk in self._stream_chunks():
            for i in range(len(chunk.records)):
                state = self._step(state, chunk, i)
                yield chunk.first + i, state

    # --- blame --------------------------------------------------------------------------
    def _state_and_blame(self, version: int) -> tuple[JSONObject, dict[str, Any]]:
        if self._blame_checkpoints is None:
            self._build_blame()
        assert self._blame_checkpoints is not None
        index = version // self.k
        state = orjson.loads(self._checkpoints[index])
        tree = orjson.loads(self._blame_checkpoints[index])
        if version > index * self.k:
            chunk = self._chunk(index)
            for i in range(version - chunk.first + 1):
                state, tree = self._blame_step(state, tree, chunk, i)
        return state, tree

    def _blame_step(
        self, state: JSONObject, tree: dict[str, Any], chunk: _Chunk, i: int
    ) -> tuple[JSONObject, dict[str, Any]]:
        """Apply event `i` of a chunk and update the blame tree with what it changed."""
        data = chunk.payloads[i]
        version = chunk.first + i
        if data is None or version in self._skipped:
            return state, tree
        if type(self.folder) is Folder and type(data) is dict:
            # The generic fold only touches the payload's top-level keys: diff just those.
            before = {key: _copy(state[key]) for key in data if key in state}
            merge(state, data)
            entries: list[DiffEntry] = []
            for key in data:
                was, now = key in before, key in state
                if was and now:
                    entries.extend(diff_at(before[key], state[key], (key,)))
                elif now:
                    entries.append(DiffEntry((key,), "added", None, state[key]))
                elif was:
                    entries.append(DiffEntry((key,), "removed", before[key], None))
        else:
            before_state = _copy(state)
            state = self._step(state, chunk, i)
            entries = diff(before_state, state)
        if entries:
            tree = update_blame(tree, entries, version)
        return state, tree

    def _build_blame(self) -> None:
        """One sweep over the stream, keeping a blame tree checkpoint every K events."""
        state = orjson.loads(self._checkpoints[0])
        tree = initial_tree(state, 0)
        checkpoints = [orjson.dumps(tree)]
        for chunk in self._stream_chunks():
            for i in range(len(chunk.records)):
                state, tree = self._blame_step(state, tree, chunk, i)
            if len(chunk.records) == self.k:
                checkpoints.append(orjson.dumps(tree))
        self._blame_checkpoints = checkpoints


def _moment(moment: datetime | str) -> datetime:
    return parse_timestamp(moment) if isinstance(moment, str) else moment


def _moment_or_none(moment: datetime | str | None) -> datetime | None:
    return None if moment is None else _moment(moment)


def _number_at(state: Any, path: Path) -> float | None:
    node = state
    for step in path:
        if type(node) is dict and type(step) is str:
            if step not in node:
                return None
            node = node[step]
        elif type(node) is list and type(step) is int and -len(node) <= step < len(node):
            node = node[step]
        else:
            return None
    if type(node) in (int, float):
        return node
    return None
