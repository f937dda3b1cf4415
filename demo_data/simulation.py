"""The simulation core: a seeded discrete-event loop that emits demo events in time order.

Why it looks like this:

* **Determinism.** All choices come from one seeded `random.Random`; event ids come from a
  second seeded generator (`uuid.UUID(int=bits, version=4)`), never `uuid4()`, and time
  comes from `demo_data.clock`, never the wall clock. Same seed and size, same bytes.
* **Speed.** A million events must be written in well under a minute, so the hot path is
  plain dicts: each event is folded into its stream's state with the *aggregate's own
  applier* (``Aggregate._appliers``) and into the read models with the projections' own
  pure functions -- the same code the engine replays with, so stored snapshots and
  projection rows agree with a replay unless an anomaly was planted on purpose.
* **Time.** Spontaneous activity arrives spread over business activity (see `clock`);
  follow-ups (a KYC decision, an order's payment, tomorrow's shipment, a month-end batch,
  a planted anomaly) wait in a heap keyed by wall time. `recorded_at` never goes back;
  `occurred_at` equals it except for backdated corrections.
* **Exact size.** The loop stops at exactly the requested number of events; a reserve is
  kept for planted anomalies so every one of them is in every demo of any allowed size.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from eventscope.demo_data import clock
from eventscope.domain.aggregate import Aggregate
from eventscope.domain.demo import AGGREGATES
from eventscope.domain.demo import projections as proj
from eventscope.domain.demo.events import REGISTRY
from eventscope.store.native.appending import Memo, Prepared, prepare_fields
from eventscope.store.native.database import DEFAULT_MAX_PAYLOAD
from eventscope.store.records import NO_STREAM, format_timestamp

JSON = dict[str, Any]
Emitted = tuple[str, str, int, Prepared]  # stream_id, stream_type, version, event

MIN_EVENTS = 300
DEFAULT_EVENTS = 20_000
DEFAULT_SEED = 42

# UUID version 7 layout: 48-bit Unix milliseconds, version 7, 12 random bits, the RFC 4122
# variant, 62 random bits.
_UUID_V7 = 0x7 << 76
_VARIANT = 0b10 << 62
_LOW_62 = (1 << 62) - 1
_START_MS = int(clock.START.timestamp() * 1000)
_new_uuid = object.__new__
_set = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown

CURRENT_VERSION = {name: REGISTRY.current_version(name) or 1 for name in REGISTRY.event_types()}


def default_snapshot_every(events: int) -> int:
    """Snapshot policy: often enough that small demos show several snapshots per account,
    rarely enough that a million-event build does not spend its time on them (each
    snapshot is its own small transaction)."""
    if events < 10_000:
        return 5
    if events < 200_000:
        return 25
    return 50


MAX_REJECTIONS = 50_000
"""Refused commands remembered per build (all are counted); bounds a 1M-event build."""


class Stream:
    """One simulated aggregate instance: its id, type, version and plain state."""

    __slots__ = ("id", "type", "version", "state", "appliers", "code_version", "meta")

    def __init__(self, stream_id: str, aggregate: type[Aggregate[Any]]) -> None:
        self.id = stream_id
        self.type = aggregate.stream_type
        self.version = 0
        self.state: JSON = aggregate.initial_state()
        self.appliers = aggregate._appliers
        self.code_version = aggregate.code_version
        self.meta: JSON = {}  # generator-side facts that are not state (fees paid, opened at)


class _Projection:
    __slots__ = ("name", "key", "apply", "initial", "docs", "positions")

    def __init__(
        self,
        name: str,
        key: Callable[[str, JSON, str, str], str],
        apply: Callable[[JSON, str, JSON, str, str], None],
        initial: Callable[[], JSON],
    ) -> None:
        self.name = name
        self.key = key
        self.apply = apply
        self.initial = initial
        self.docs: dict[str, JSON] = {}
        self.positions: dict[str, int] = {}


def _projections() -> tuple[list[_Projection], dict[str, list[_Projection]]]:
    specs = (
        (
            proj.AccountBalances,
            lambda etype, data, sid, day: sid,
        ),
        (
            proj.Customer360,
            lambda etype, data, sid, day: proj.customer_key(etype, data, sid),
        ),
        (
            proj.DailyTotals,
            lambda etype, data, sid, day: proj.daily_key(day, data),
        ),
        (
            proj.OrderStatusBoard,
            lambda etype, data, sid, day: sid,
        ),
    )
    out: list[_Projection] = []
    by_type: dict[str, list[_Projection]] = {}
    for cls, key in specs:
        item = _Projection(cls.name, key, cls._apply, cls._initial)
        out.append(item)
        for event_type in cls.handles:
            by_type.setdefault(event_type, []).append(item)
    return out, by_type


class Simulation:
    """State shared by the scenarios: streams, clock, heap, budget, projections, output."""

    def __init__(self, events: int, seed: int, snapshot_every: int | None = None) -> None:
        if events < MIN_EVENTS:
            raise ValueError(f"a demo needs at least {MIN_EVENTS} events, not {events}")
        self.total = events
        self.seed = seed
        self.rng = random.Random(seed)
        self._id_bits = random.Random(f"event-ids:{seed}").getrandbits
        self.clock = clock.BusinessClock()
        self.snapshot_every = snapshot_every or default_snapshot_every(events)

        self.count = 0  # events emitted == position of the last one in a fresh store
        self.now = 0.0  # wall seconds since clock.START (recorded_at)
        self._now_cached = -1.0
        self._now_dt = clock.START
        self.activity = 0.0
        self.spontaneous = 0
        self.heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._heap_seq = 0
        self.reserve = 0  # events kept back for planted anomalies still to come

        self.projections, self._projections_by_type = _projections()
        self.skip_projection: Callable[[str, str, str, JSON], bool] | None = None
        self.out: list[Emitted] = []
        self._memo = Memo()  # shares one timestamp text among events recorded together
        self.snapshots: list[tuple[str, int, bytes, str, str]] = []
        self.anomalies: list[JSON] = []
        self.stats: dict[str, int] = {"rejected_commands": 0}
        self.rejections: list[JSON] = []  # the first MAX_REJECTIONS refused commands
        self.type_counts: dict[tuple[str, int], int] = {}  # (event type, schema) -> events
        self.stream_counts: dict[str, int] = {}  # stream type -> streams
        self._days: dict[int, str] = {}

    # --- ids and time -------------------------------------------------------------------
    def new_uuid(self) -> uuid.UUID:
        """A time-ordered (version 7 layout) UUID: the simulated recording time in
        milliseconds, then 74 bits from the seeded generator.

        Time-ordered ids are what many event stores mint today, and they keep the store's
        unique index on event ids append-mostly: random version-4 ids made the same raw
        inserts 1.5-1.7x slower (measured on a 300k-event demo) as the index outgrew
        SQLite's page cache."""
        ms = _START_MS + int(self.now * 1000)
        bits = self._id_bits(74)
        value = (ms << 80) | _UUID_V7 | ((bits >> 62) << 64) | _VARIANT | (bits & _LOW_62)
        made = _new_uuid(uuid.UUID)
        _set(made, "int", value)
        _set(made, "is_safe", _UNKNOWN_SAFETY)
        return made

    def reject(self, stream: Stream | None, command: str, reason: str) -> None:
        """Count a refused command and remember what it was (for a sandbox's command
        log): a refused command records no event, so this is the only trace of it."""
        self.stats["rejected_commands"] += 1
        if len(self.rejections) < MAX_REJECTIONS:
            self.rejections.append(
                {
                    "at": format_timestamp(self.moment()),
                    "stream_id": stream.id if stream is not None else None,
                    "stream_type": stream.type if stream is not None else None,
                    "command": command,
                    "reason": reason,
                }
            )

    def command_id(self) -> str:
        """A command id: milliseconds of the simulated time, then 16 seeded random bits."""
        return f"cmd-{_START_MS + int(self.now * 1000):012x}{self._id_bits(16):04x}"

    def moment(self) -> datetime:
        if self.now != self._now_cached:
            self._now_cached = self.now
            self._now_dt = clock.moment(self.now)
        return self._now_dt

    def tick(self, low: float, high: float) -> None:
        """Let a little time pass inside one scenario (a saga step, a batch item)."""
        self.now += self.rng.uniform(low, high)

    def day(self, seconds: float) -> str:
        index = int(seconds // clock.DAY)
        text = self._days.get(index)
        if text is None:
            text = self._days[index] = clock.day_text(seconds)
        return text

    def schedule(self, when: float, action: Callable[..., None], *args: Any) -> None:
        """Run `action(*args)` when the clock reaches `when` (wall seconds)."""
        self._heap_seq += 1
        heapq.heappush(self.heap, (when, self._heap_seq, action, args))

    # --- budget -------------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        return self.total - self.count

    def room(self, events: int) -> bool:
        """True when `events` more ordinary events fit without eating the anomaly reserve."""
        return self.total - self.count - self.reserve >= events

    @property
    def progress(self) -> float:
        """How far through the simulated span we are (0..1+)."""
        return self.activity / self.clock.span_activity

    # --- the one emit path --------------------------------------------------------------
    def emit(
        self,
        stream: Stream,
        event_type: str,
        data: JSON,
        actor: str,
        correlation_id: str,
        causation_id: str,
        command: str | None = None,
        occurred: float | None = None,
        schema_1: Callable[[JSON], JSON] | None = None,
    ) -> str:
        """Record one event: fold it into the stream's state and the read models, and
        queue it for the store. `data` is in the current schema; `schema_1` (when given)
        turns it into the schema-1 form that older code stored. Returns the event id."""
        self.count += 1
        stream.version += 1
        stream.appliers[event_type](stream.state, data)
        when = self.now if occurred is None else occurred
        handlers = self._projections_by_type.get(event_type)
        if handlers is not None:
            day = self.day(when)
            sid = stream.id
            skip = self.skip_projection
            for projection in handlers:
                key = projection.key(event_type, data, sid, day)
                if skip is not None and skip(projection.name, key, event_type, data):
                    continue
                doc = projection.docs.get(key)
                if doc is None:
                    doc = projection.docs[key] = projection.initial()
                projection.apply(doc, event_type, data, sid, day)
                projection.positions[key] = self.count
        metadata = {"actor": actor, "correlation_id": correlation_id, "causation_id": causation_id}
        if command is not None:
            metadata["command"] = command
        event_id = self.new_uuid()
        recorded = self.moment()
        if schema_1 is None:
            stored, schema_version = data, CURRENT_VERSION[event_type]
        else:
            stored, schema_version = schema_1(data), 1
        counted = (event_type, schema_version)
        self.type_counts[counted] = self.type_counts.get(counted, 0) + 1
        if stream.version == 1:
            self.stream_counts[stream.type] = self.stream_counts.get(stream.type, 0) + 1
        # Prepared here (validated, canonical JSON: the pure half of an append), so that
        # in a large build this work runs in the simulation's process, not the writer's.
        event = prepare_fields(
            event_type,
            stored,
            metadata,
            event_id,
            schema_version,
            # None means "same as recorded_at" (the store fills it in, and formats one
            # timestamp instead of two).
            None if occurred is None else clock.moment(occurred),
            recorded,
            DEFAULT_MAX_PAYLOAD,
            self._memo,
        )
        self.out.append((stream.id, stream.type, stream.version, event))
        if stream.version % self.snapshot_every == 0:
            self.snapshots.append(
                (
                    stream.id,
                    stream.version,
                    orjson.dumps(stream.state),
                    stream.type,
                    stream.code_version,
                )
            )
        return event[0]  # the id's text

    def snapshot(self, stream: Stream, state: JSON, code_version: str) -> None:
        """Queue an extra snapshot (used by the planted 'older code' anomaly)."""
        self.snapshots.append(
            (stream.id, stream.version, orjson.dumps(state), stream.type, code_version)
        )

    def new_stream(self, stream_id: str, stream_type: str) -> Stream:
        return Stream(stream_id, AGGREGATES[stream_type])

    def take_output(self) -> tuple[list[Emitted], list[tuple[str, int, bytes, str, str]]]:
        """Hand over the queued events and snapshots (the writer stores them)."""
        out, snaps = self.out, self.snapshots
        self.out, self.snapshots = [], []
        return out, snaps

    def projection_rows(self) -> dict[str, list[tuple[str, JSON, int]]]:
        """Every read model's rows with the position that last changed each."""
        return {
            p.name: [(key, p.docs[key], p.positions[key]) for key in sorted(p.docs)]
            for p in self.projections
        }


Batch = tuple[str, list[Any], Any, str]  # (stream_id, events, expected_version, stream_type)


def group(
    events: list[Emitted], convert: Callable[[Any], Any] = lambda event: event
) -> list[Batch]:
    """Consecutive events of one stream -> one `append_streams` item with the exact
    expected version (0 -> NO_STREAM). `convert` maps each event on the way."""
    batches: list[Batch] = []
    current_id = None
    current: list[Any] = []
    for stream_id, stream_type, version, event in events:
        if stream_id != current_id:
            current = [convert(event)]
            expected = version - 1
            batches.append((stream_id, current, expected if expected else NO_STREAM, stream_type))
            current_id = stream_id
        else:
            current.append(convert(event))
    return batches
