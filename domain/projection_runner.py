"""Running projections: catch up from a checkpoint, rebuild, lag, and evaluate as of a
position without writing anything.

Idempotency by position: the runner reads only events after the stored checkpoint and
writes each batch's documents *together with* the new checkpoint in one transaction
(`EventStore.put_projection_rows(..., checkpoint=)`), so an interrupted run resumes where
the last batch ended and a re-run applies nothing twice. Each stored row also carries the
position that last changed it; an event at or below a row's position is never applied to
it again (a second guard, e.g. when two runners race).

`evaluate_as_of` runs the same fold in memory over events up to a position: it is what
"the world as of T" shows, and what stored rows are checked against.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Protocol

import orjson
from eventscope.domain.events import EventRegistry
from eventscope.domain.projection import Projection
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import JSONObject, ProjectionRow, RecordedEvent
from eventscope.store.source import EventFilter, EventSource
from pydantic_core import to_jsonable_python

DEFAULT_BATCH = 2000


class ProjectionStore(EventSource, Protocol):
    """The writes a runner needs (the native `EventStore` has them)."""

    def put_projection_rows(
        self,
        name: str,
        rows: list[tuple[str, dict[str, Any], int]],
        checkpoint: int | None = None,
    ) -> None: ...

    def save_checkpoint(self, name: str, position: int) -> None: ...

    def clear_projection(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ProjectionFailure:
    """An event a projection could not apply (undecodable, or `key`/`apply` raised)."""

    position: int
    event_type: str
    reason: str


@dataclass
class ProjectionState:
    """Documents of one projection, each with the position that last changed it."""

    name: str
    documents: dict[str, JSONObject] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    position: int = 0  # every event up to here has been considered
    applied: int = 0
    failures: list[ProjectionFailure] = field(default_factory=list)

    def rows(self) -> list[ProjectionRow]:
        return [
            ProjectionRow(self.name, key, self.documents[key], self.positions[key])
            for key in sorted(self.documents)
        ]


class ProjectionFold:
    """Applies events to a projection's documents in position order (in memory)."""

    def __init__(
        self,
        projection: Projection,
        registry: EventRegistry | None = None,
        load: Callable[[str], ProjectionRow | None] | None = None,
    ) -> None:
        self.projection = projection
        self.registry = registry or EventRegistry()
        self.state = ProjectionState(projection.name)
        self._load = load
        self.dirty: set[str] = set()

    def _document(self, key: str) -> tuple[JSONObject, int]:
        state = self.state
        document = state.documents.get(key)
        if document is not None:
            return document, state.positions[key]
        if self._load is not None:
            row = self._load(key)
            if row is not None:
                state.documents[key] = row.document
                state.positions[key] = row.position
                return row.document, row.position
        document = self.projection.initial(key)
        state.documents[key] = document
        state.positions[key] = 0
        return document, 0

    def feed(self, record: RecordedEvent) -> None:
        """Apply one stored event (ignored when not handled; failures are recorded)."""
        self.feed_many((record,))

    def feed_ordered(self, records: Iterable[RecordedEvent]) -> None:
        """Apply events in an order other than position order (business time), so the
        by-position idempotency guard, which would drop an event whose position is below
        one already applied to its row, is off."""
        self.feed_many(records, by_position=False)

    def feed_many(self, records: Iterable[RecordedEvent], *, by_position: bool = True) -> None:
        """Apply stored events in position order -- the rebuild hot loop, so lookups are
        hoisted out of it and a document is fetched from the store at most once."""
        state = self.state
        projection = self.projection
        handles = frozenset(projection.handles)
        decode = self.registry.decode
        key_of = projection.key
        apply = projection.apply
        documents = state.documents
        positions = state.positions
        dirty = self.dirty
        position = state.position
        applied = 0
        for record in records:
            position = record.position
            if record.event_type not in handles:
                continue
            decoded = decode(record)
            if decoded.error is not None:
                state.failures.append(ProjectionFailure(position, record.event_type, decoded.error))
                continue
            try:
                key = key_of(decoded)
                if key is None:
                    continue
                document = documents.get(key)
                if document is None:
                    document, last = self._document(key)
                else:
                    last = positions[key]
                if by_position and position <= last:
                    continue  # already applied to this row: idempotent by position
                result = apply(document, decoded)
            except Exception as exc:  # user code never stops a run
                state.failures.append(
                    ProjectionFailure(position, record.event_type, _describe(exc))
                )
                continue
            if result is not None and result is not document:
                documents[key] = result
            positions[key] = position
            applied += 1
            dirty.add(key)
        state.position = max(state.position, position)
        state.applied += applied


def _filter_for(projection: Projection) -> EventFilter | None:
    return EventFilter(event_types=list(projection.handles)) if projection.handles else None


def evaluate_as_of(
    source: EventSource,
    projection: Projection,
    position: int | None = None,
    registry: EventRegistry | None = None,
) -> ProjectionState:
    """The projection's documents computed from events up to `position` (None = head),
    in memory; nothing is written."""
    head = source.head_position() if position is None else position
    fold = ProjectionFold(projection, registry)
    if projection.handles:
        fold.feed_many(source.read_all(0, head, filter=_filter_for(projection)))
    fold.state.position = head
    return fold.state


def evaluate_as_of_business(
    source: EventSource,
    projection: Projection,
    as_of: datetime,
    known_at: datetime | None = None,
    registry: EventRegistry | None = None,
) -> ProjectionState:
    """The projection as of business time `as_of`, as known at `known_at` (None =
    everything recorded): the events with recorded_at <= known_at and occurred_at <=
    as_of, fed in occurred order, ties by position -- the streams' business-time
    definition applied to the whole read side. Nothing is written.

    Memory holds one (occurred, position) pair per such event, not their payloads: the
    sorted order is cut into runs of increasing positions, and each run is read back in
    one streaming pass (a history with few backdated events is a handful of runs).
    """
    fold = ProjectionFold(projection, registry)
    if not projection.handles:
        return fold.state
    handled = _filter_for(projection)
    types = handled.event_types if handled is not None else None
    until = None if known_at is None else known_at + timedelta(microseconds=1)
    chosen = sorted(
        (event.occurred_at, event.position)
        for event in source.read_all(0, None, filter=EventFilter(event_types=types, until=until))
        if event.occurred_at <= as_of and (known_at is None or event.recorded_at <= known_at)
    )
    runs: list[list[int]] = []
    for _occurred, position in chosen:
        if runs and position > runs[-1][-1]:
            runs[-1].append(position)
        else:
            runs.append([position])
    for run in runs:
        wanted = set(run)
        records = source.read_all(run[0] - 1, run[-1], filter=EventFilter(event_types=types))
        fold.feed_ordered(r for r in records if r.position in wanted)
    fold.state.position = chosen[-1][1] if chosen else 0
    return fold.state


def evaluate_many(
    source: EventSource,
    projections: Iterable[Projection],
    position: int,
    registry: EventRegistry | None = None,
) -> dict[str, ProjectionState]:
    """Several projections as of one position, reading the events they need once."""
    folds = [ProjectionFold(p, registry) for p in projections]
    types = sorted({t for fold in folds for t in fold.projection.handles})
    if types:
        events = source.read_all(0, position, filter=EventFilter(event_types=types))
        while batch := list(islice(events, 2000)):
            for fold in folds:
                fold.feed_many(batch)
    for fold in folds:
        fold.state.position = position
    return {fold.projection.name: fold.state for fold in folds}


class ProjectionHistory:
    """A projection as of *any* position, fast on repeated requests ("world as of T").

    The first evaluation walks the events once and keeps, in memory, a few checkpoints
    of the documents (orjson bytes) at evenly spaced positions; later requests start from
    the nearest checkpoint at or below the position and apply only the events after it.
    Events at or below the head never change (the log is append-only), so checkpoints
    stay valid while the source grows. Memory is bounded by `budget_bytes` per
    projection: when the documents are large, fewer checkpoints are kept.
    """

    def __init__(
        self,
        source: EventSource,
        projection: Projection,
        registry: EventRegistry | None = None,
        *,
        checkpoints: int = 32,
        min_step: int = 2000,
        budget_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.source = source
        self.projection = projection
        self.registry = registry or EventRegistry()
        self._wanted = max(1, checkpoints)
        self._min_step = max(1, min_step)
        self._budget = budget_bytes
        self._used = 0
        self._positions: list[int] = [0]
        self._blobs: list[bytes] = [orjson.dumps({"d": {}, "p": {}, "f": []})]
        self._step: int | None = None
        self._lock = threading.Lock()

    def as_of(
        self,
        position: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProjectionState:
        """The documents computed from events up to `position` (None = head); `progress`
        hears (events applied, events to apply) after each batch of a long replay."""
        with self._lock:
            head = self.source.head_position() if position is None else position
            if self._step is None:
                self._step = max(self._min_step, self.source.head_position() // self._wanted)
            at = bisect_right(self._positions, head) - 1
            start = self._positions[at]
            fold = ProjectionFold(self.projection, self.registry)
            saved = orjson.loads(self._blobs[at])
            fold.state.documents = saved["d"]
            fold.state.positions = saved["p"]
            fold.state.failures = [ProjectionFailure(*f) for f in saved["f"]]
            fold.state.position = start
            if self.projection.handles and head > start:
                events = self.source.read_all(start, head, filter=_filter_for(self.projection))
                next_mark = start + self._step
                while True:
                    batch = list(islice(events, 1000))
                    if batch:
                        fold.feed_many(batch)
                        if progress is not None:
                            progress(batch[-1].position - start, head - start)
                        if batch[-1].position >= next_mark:
                            self._keep(batch[-1].position, fold.state)
                            next_mark = batch[-1].position + self._step
                    if len(batch) < 1000:
                        break
            fold.state.position = head
            return fold.state

    def _keep(self, position: int, state: ProjectionState) -> None:
        if position <= self._positions[-1] and position in self._positions:
            return
        failures = [[f.position, f.event_type, f.reason] for f in state.failures]
        blob = orjson.dumps(
            {"d": state.documents, "p": state.positions, "f": failures},
            default=to_jsonable_python,
        )
        if self._used + len(blob) > self._budget:
            return
        at = bisect_right(self._positions, position)
        self._positions.insert(at, position)
        self._blobs.insert(at, blob)
        self._used += len(blob)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one catch-up or rebuild did."""

    projection: str
    from_position: int
    to_position: int
    applied: int
    rows_written: int
    seconds: float
    failures: tuple[ProjectionFailure, ...] = ()

    @property
    def events_per_second(self) -> float:
        return (self.to_position - self.from_position) / self.seconds if self.seconds else 0.0


class ProjectionRunner:
    """Keeps stored projection rows up to date from the events (writes: a writable store)."""

    def __init__(
        self,
        store: ProjectionStore,
        projections: Iterable[Projection],
        registry: EventRegistry | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.registry = registry or EventRegistry()
        self.batch_size = max(1, batch_size)

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            from eventscope.domain.errors import PluginError

            known = ", ".join(sorted(self.projections)) or "none"
            raise PluginError(f"there is no projection named {name!r} (known: {known})") from None

    def checkpoint(self, name: str) -> int:
        return self.store.checkpoints().get(name, 0)

    def lag(self, name: str) -> int:
        """Events not yet considered: head position - checkpoint."""
        return max(0, self.store.head_position() - self.checkpoint(name))

    def lags(self) -> dict[str, int]:
        head = self.store.head_position()
        checkpoints = self.store.checkpoints()
        return {name: max(0, head - checkpoints.get(name, 0)) for name in self.projections}

    def catch_up(self, name: str, progress: ProgressCallback | None = None) -> RunReport:
        """Apply events after the checkpoint, batch by batch; a re-run is a no-op."""
        projection = self.projection(name)
        start = self.checkpoint(name)
        return self._run(projection, start, load=True, progress=progress)

    def catch_up_all(self, progress: ProgressCallback | None = None) -> list[RunReport]:
        return [self.catch_up(name, progress) for name in sorted(self.projections)]

    def rebuild(self, name: str, progress: ProgressCallback | None = None) -> RunReport:
        """Forget the stored rows and checkpoint, then apply every event from the start."""
        projection = self.projection(name)
        self.store.clear_projection(name)
        return self._run(projection, 0, load=False, progress=progress)

    def _run(
        self,
        projection: Projection,
        start: int,
        *,
        load: bool,
        progress: ProgressCallback | None,
    ) -> RunReport:
        began = time.perf_counter()
        head = self.store.head_position()
        store = self.store
        name = projection.name
        fold = ProjectionFold(
            projection,
            self.registry,
            load=(lambda key: store.projection_row(name, key)) if load else None,
        )
        written = 0
        total = max(0, head - start)
        if head > start:
            events = store.read_all(start, head, filter=_filter_for(projection))
            done = start
            while True:
                batch = list(islice(events, self.batch_size))
                if batch:
                    fold.feed_many(batch)
                    done = batch[-1].position
                if len(batch) < self.batch_size:
                    break
                written += self._flush(fold, done)
                if progress is not None:
                    progress(done - start, total)
            written += self._flush(fold, head)  # the checkpoint reaches head in any case
            if progress is not None:
                progress(total, total)
        return RunReport(
            name,
            start,
            max(head, start),
            fold.state.applied,
            written,
            time.perf_counter() - began,
            tuple(fold.state.failures),
        )

    def _flush(self, fold: ProjectionFold, checkpoint: int) -> int:
        state = fold.state
        rows = [(key, state.documents[key], state.positions[key]) for key in sorted(fold.dirty)]
        self.store.put_projection_rows(state.name, rows, checkpoint=checkpoint)
        fold.dirty.clear()
        return len(rows)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
