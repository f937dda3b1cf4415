"""`Engine`: the one facade the explorer (and the CLI) call for everything temporal.

    engine = Engine(source)                       # any EventSource; generic fold
    engine = Engine(source, load_plugin("my.domain"))   # the user's aggregates/projections

    timeline = engine.timeline("acct-1")          # cached per stream (small LRU)
    timeline.length                               # latest version
    at = timeline.state_at(120)                   # StateAt: .state (plain JSON dict),
                                                  #   .version, .skipped (SkippedEvent list)
    timeline.event(120)                           # DecodedEvent: .recorded, .raw, .data
                                                  #   (upcast), .chain, .error
    timeline.changes_at(120)                      # list[DiffEntry] vs version 119
    timeline.blame_at(120)                        # list[BlameEntry], one per leaf
    timeline.version_at_time(moment, axis="recorded")   # or "occurred"; 0 if none
    timeline.numeric_paths(120); timeline.series(("balance_cents",))  # for a chart

    engine.diff_versions("acct-1", 10, 20)        # list[DiffEntry]
    engine.diff_snapshot("acct-1", 100)           # stored snapshot (left) vs replay (right)
    engine.diff_projection("account_balances", "acct-1")   # stored row vs replay as of
                                                           #   the row's position
    engine.first_divergence("acct-1", OtherAggregateClass) # bisect: code A vs code B
    engine.first_divergent_snapshot("acct-1")     # the first stored snapshot that is wrong
    engine.first_projection_divergence(NewBalances(), key="acct-1")   # projection code
                                                  #   A (plugin's) vs B: first position
    engine.projection_as_of("account_balances", position)  # {key: document}, no writes
    engine.consistency(progress)                  # every snapshot/row that disagrees

Threading: all of it may be called from worker threads; a timeline serialises its own
calls, so two workers on one stream wait for each other, different streams do not.

Errors: bad data never raises (undecodable events are skipped and listed). User mistakes
raise `DomainError` subclasses or `store.errors.StoreError` with one readable sentence:
`StreamNotFound`, `VersionOutOfRange`, `PluginError` (no such projection / no plugin).

Diff direction: always ``left -> right``; for snapshots and projection rows the *stored
claim* is left and the *replay from events* is right, so ``added`` means "the events
prove a field the claim lacks".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from eventscope.domain.aggregate import Aggregate
from eventscope.domain.bisect import first_divergence
from eventscope.domain.blame import BlameEntry
from eventscope.domain.consistency import ConsistencyChecker, ConsistencyReport, Inconsistency
from eventscope.domain.diff import DiffEntry, diff, same
from eventscope.domain.errors import DomainError, PluginError
from eventscope.domain.events import EventRegistry
from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.projection import Projection
from eventscope.domain.projection_runner import ProjectionHistory, ProjectionState
from eventscope.domain.timeline import (
    DEFAULT_CHECKPOINT_EVERY,
    AggregateFolder,
    Axis,
    Folder,
    StateAt,
    Timeline,
)
from eventscope.store.errors import StreamNotFound
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import JSONObject, Snapshot, StreamInfo
from eventscope.store.source import EventSource

__all__ = ["ConsistencyReport", "Divergence", "Engine", "Inconsistency", "ProjectionDivergence"]

# A derivation of a stream's state: "replay" (the engine's own), "generic", an Aggregate
# class (code B), or any function version -> state.
Derivation = Literal["replay", "generic"] | type[Aggregate[Any]] | Callable[[int], JSONObject]


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where two derivations first disagree: the states there and their diff."""

    stream_id: str
    version: int
    left: JSONObject
    right: JSONObject
    differences: list[DiffEntry]
    evaluations: int

    def to_json(self) -> JSONObject:
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "differences": [d.to_json() for d in self.differences],
            "evaluations": self.evaluations,
        }


@dataclass(frozen=True, slots=True)
class ProjectionDivergence:
    """The first global position where two projection codes disagree."""

    position: int
    key: str | None
    differences: list[DiffEntry]
    evaluations: int


def business_time(
    version: int | None, at: datetime | None, axis: str, known_at: datetime | None
) -> bool:
    """True for a business-time question (`at` on the occurred axis); one sentence for a
    combination of version / time / axis that means nothing."""
    if axis not in ("recorded", "occurred"):
        raise DomainError(f"the axis is 'recorded' or 'occurred', not {axis!r}")
    if at is not None and version is not None:
        raise DomainError("give a version or a time, not both")
    if known_at is not None and (at is None or axis != "occurred"):
        raise DomainError(
            "--known-at is the recorded time of a business-time question: "
            "give --at TIME --axis occurred with it"
        )
    return at is not None and axis == "occurred"


def recorded_version(timeline: Timeline, version: int | None, at: datetime | None) -> int | None:
    """The version a recorded-axis question names: `version`, or the last recorded by `at`."""
    return timeline.version_at_time(at, "recorded") if at is not None else version


class Engine:
    """The temporal engine over one source, optionally with a user's domain plugin."""

    def __init__(
        self,
        source: EventSource,
        plugin: DomainPlugin | None = None,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        cached_timelines: int = 8,
    ) -> None:
        self.source = source
        self.plugin = plugin
        self.registry = plugin.registry if plugin is not None else EventRegistry()
        self.checkpoint_every = checkpoint_every
        self._max_timelines = max(1, cached_timelines)
        self._timelines: OrderedDict[str, Timeline] = OrderedDict()
        self._projection_cache: OrderedDict[tuple[str, int], ProjectionState] = OrderedDict()
        self._histories: dict[str, ProjectionHistory] = {}
        self._lock = threading.Lock()

    # --- timelines ----------------------------------------------------------------------
    def stream_info(self, stream_id: str) -> StreamInfo:
        info = self.source.stream_info(stream_id)
        if info is None:
            raise StreamNotFound(stream_id)
        return info

    def folder_for(self, stream_type: str) -> Folder:
        """The aggregate's fold when the plugin has one for this type, else generic."""
        aggregate = self.plugin.aggregate_for(stream_type) if self.plugin else None
        return AggregateFolder(aggregate) if aggregate is not None else Folder()

    def timeline(self, stream_id: str) -> Timeline:
        """The (cached) timeline of a stream; raises StreamNotFound for an unknown one."""
        with self._lock:
            timeline = self._timelines.get(stream_id)
            if timeline is not None:
                self._timelines.move_to_end(stream_id)
                return timeline
        info = self.stream_info(stream_id)
        timeline = Timeline(
            self.source,
            stream_id,
            folder=self.folder_for(info.stream_type),
            registry=self.registry,
            checkpoint_every=self.checkpoint_every,
        )
        with self._lock:
            existing = self._timelines.get(stream_id)
            if existing is not None:
                return existing
            self._timelines[stream_id] = timeline
            while len(self._timelines) > self._max_timelines:
                self._timelines.popitem(last=False)
        return timeline

    def forget(self, stream_id: str | None = None) -> None:
        """Drop cached timelines (all, or one) -- e.g. after the source changed."""
        with self._lock:
            if stream_id is None:
                self._timelines.clear()
                self._projection_cache.clear()
                self._histories.clear()
            else:
                self._timelines.pop(stream_id, None)

    def state(
        self,
        stream_id: str,
        version: int | None = None,
        at: datetime | None = None,
        axis: Axis = "recorded",
        known_at: datetime | None = None,
    ) -> StateAt:
        """State at a version, at a time on either axis, or at the latest version.

        On the recorded axis `at` picks the prefix of events recorded by then. On the
        occurred axis it is business time: the events with occurred_at <= `at` and
        recorded_at <= `known_at` (default: everything recorded), applied in occurred
        order (`Timeline.state_as_of`)."""
        timeline = self.timeline(stream_id)
        if business_time(version, at, axis, known_at):
            return timeline.state_as_of(at, known_at)  # type: ignore[arg-type]
        return timeline.state_at(recorded_version(timeline, version, at))

    def blame(
        self,
        stream_id: str,
        version: int | None = None,
        at: datetime | None = None,
        axis: Axis = "recorded",
        known_at: datetime | None = None,
    ) -> list[BlameEntry]:
        """Blame of the same state `state` computes (on the occurred axis: who last set
        each field in the business-time order the events were applied in)."""
        timeline = self.timeline(stream_id)
        if business_time(version, at, axis, known_at):
            return timeline.blame_as_of(at, known_at)  # type: ignore[arg-type]
        return timeline.blame_at(recorded_version(timeline, version, at))

    # --- diffs --------------------------------------------------------------------------
    def diff_versions(self, stream_id: str, a: int, b: int) -> list[DiffEntry]:
        """State at `a` (left) -> state at `b` (right)."""
        return self.timeline(stream_id).diff_versions(a, b)

    def snapshot(self, stream_id: str, version: int) -> Snapshot:
        """The stored snapshot of a stream at exactly `version` (DomainError if none)."""
        self.stream_info(stream_id)
        snapshots = self.source.snapshots(stream_id)
        for snapshot in snapshots:
            if snapshot.version == version:
                return snapshot
        have = ", ".join(str(s.version) for s in snapshots) or "none"
        raise DomainError(
            f"stream {stream_id!r} has no snapshot at version {version} (snapshots at: {have})"
        )

    def diff_snapshot(self, stream_id: str, version: int) -> list[DiffEntry]:
        """Stored snapshot at `version` (left) vs the replay at `version` (right)."""
        snapshot = self.snapshot(stream_id, version)
        replay = self.timeline(stream_id).state_at(version).state
        return diff(snapshot.state, replay)

    def projection_names(self) -> list[str]:
        """Projections the loaded plugin can replay (empty without a plugin)."""
        return self.plugin.projection_names() if self.plugin is not None else []

    def projection(self, name: str) -> Projection:
        if self.plugin is None:
            raise PluginError(
                f"replaying projection {name!r} needs its code: load the domain with --domain MODULE"
            )
        return self.plugin.projection(name)

    def projection_state(
        self,
        name: str,
        position: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProjectionState:
        """The projection evaluated in memory as of `position` (None = head); nothing is
        written. Repeated requests reuse in-memory checkpoints (`ProjectionHistory`);
        `progress` hears how far a long replay has got."""
        projection = self.projection(name)
        head = self.source.head_position() if position is None else position
        key = (name, head)
        with self._lock:
            cached = self._projection_cache.get(key)
            if cached is not None:
                self._projection_cache.move_to_end(key)
                return cached
            history = self._histories.get(name)
            if history is None:
                history = self._histories[name] = ProjectionHistory(
                    self.source, projection, self.registry
                )
        state = history.as_of(head, progress)
        with self._lock:
            self._projection_cache[key] = state
            while len(self._projection_cache) > 2:
                self._projection_cache.popitem(last=False)
        return state

    def projection_as_of(
        self,
        name: str,
        position: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, JSONObject]:
        """{key: document} of a projection as of a global position; nothing is written."""
        return dict(self.projection_state(name, position, progress).documents)

    def projection_as_of_business(
        self, name: str, as_of: datetime, known_at: datetime | None = None
    ) -> dict[str, JSONObject]:
        """{key: document} of a projection as of business time `as_of`, as known at
        `known_at` (None = everything recorded): the events that had occurred by then and
        were recorded by then, fed in occurred order. Nothing is written."""
        from eventscope.domain.projection_runner import evaluate_as_of_business

        state = evaluate_as_of_business(
            self.source, self.projection(name), as_of, known_at, self.registry
        )
        return dict(state.documents)

    def diff_projection(self, name: str, key: str) -> list[DiffEntry]:
        """Stored row (left) vs the replay as of the store's checkpoint for that projection
        (right) -- or as of the row's position when there is no checkpoint."""
        self.projection(name)  # without its code there is nothing to compare with
        row = self.source.projection_row(name, key)
        if row is None:
            raise DomainError(f"projection {name!r} has no stored row with key {key!r}")
        position = self.source.checkpoints().get(name, row.position)
        replay = self.projection_state(name, position).documents.get(key, {})
        return diff(row.document, replay)

    # --- bisect -------------------------------------------------------------------------
    def derivation(self, stream_id: str, how: Derivation) -> Callable[[int], JSONObject]:
        """A function version -> state for one way of deriving this stream's state."""
        if how == "replay":
            timeline = self.timeline(stream_id)
            return lambda v: timeline.state_at(v).state
        if how == "generic":
            folder: Folder = Folder()
        elif isinstance(how, type) and issubclass(how, Aggregate):
            folder = AggregateFolder(how)
        elif callable(how):
            return how  # type: ignore[return-value]
        else:
            raise DomainError(f"{how!r} is not a way to derive a state")
        private = Timeline(
            self.source,
            stream_id,
            folder=folder,
            registry=self.registry,
            checkpoint_every=self.checkpoint_every,
        )
        return lambda v: private.state_at(v).state

    def first_divergence(
        self,
        stream_id: str,
        right: Derivation,
        left: Derivation = "replay",
        upto: int | None = None,
    ) -> Divergence | None:
        """The first version (<= `upto`, default latest) where two derivations disagree, in
        O(log n) state evaluations (see `domain.bisect` for the assumption); None if they
        agree at `upto`."""
        timeline = self.timeline(stream_id)
        last = timeline.length if upto is None else upto
        get_left = self.derivation(stream_id, left)
        get_right = self.derivation(stream_id, right)
        if not same(get_left(0), get_right(0)):
            version, evaluations = 0, 1
        else:
            result = first_divergence(0, last, lambda v: not same(get_left(v), get_right(v)))
            if result.version is None:
                return None
            version, evaluations = result.version, result.evaluations + 1
        left_state, right_state = get_left(version), get_right(version)
        return Divergence(
            stream_id,
            version,
            left_state,
            right_state,
            diff(left_state, right_state),
            evaluations,
        )

    def first_projection_divergence(
        self,
        right: Projection,
        left: str | Projection | None = None,
        key: str | None = None,
        upto: int | None = None,
    ) -> ProjectionDivergence | None:
        """The first global position (<= `upto`, default the head) where two projection
        codes disagree -- on one document `key`, or on any document -- in O(log n)
        evaluations. `left` defaults to the plugin's projection of the same name."""
        left_projection = (
            self.projection(left or right.name) if not isinstance(left, Projection) else left
        )
        head = self.source.head_position() if upto is None else upto
        histories = [
            ProjectionHistory(self.source, p, self.registry) for p in (left_projection, right)
        ]

        def documents(position: int) -> tuple[Any, Any]:
            states = [h.as_of(position).documents for h in histories]
            if key is not None:
                return states[0].get(key), states[1].get(key)
            return states[0], states[1]

        def differs(position: int) -> bool:
            a, b = documents(position)
            return not same(a, b)

        if differs(0):
            position, evaluations = 0, 1
        else:
            result = first_divergence(0, head, differs)
            if result.version is None:
                return None
            position, evaluations = result.version, result.evaluations + 1
        a, b = documents(position)
        return ProjectionDivergence(position, key, diff(a, b), evaluations)

    def first_divergent_snapshot(self, stream_id: str) -> Snapshot | None:
        """The earliest stored snapshot that disagrees with the replay, exactly.

        A bisect over the stream's snapshots (O(log n) state evaluations) finds the first
        wrong one when a snapshot writer, once wrong, stays wrong -- the common case. But
        snapshots are independent claims: a single stale snapshot among good ones (the
        demo plants exactly that) escapes a pure bisect, so the snapshots before the
        bisect's answer (all of them when it found none) are then checked one by one, each
        costing one cached state lookup. A snapshot claiming a version the stream never
        reached is wrong by definition.
        """
        timeline = self.timeline(stream_id)
        snapshots = self.source.snapshots(stream_id)
        if not snapshots:
            return None

        def wrong(snapshot: Snapshot) -> bool:
            if snapshot.version > timeline.length:
                return True
            return not same(snapshot.state, timeline.state_at(snapshot.version).state)

        result = first_divergence(0, len(snapshots), lambda index: wrong(snapshots[index - 1]))
        limit = result.version - 1 if result.version is not None else len(snapshots)
        for snapshot in snapshots[:limit]:
            if wrong(snapshot):
                return snapshot
        return snapshots[limit] if limit < len(snapshots) else None

    # --- consistency --------------------------------------------------------------------
    def consistency(self, progress: ProgressCallback | None = None) -> ConsistencyReport:
        """Check every stored snapshot and projection row against a replay from events
        (see `domain.consistency`)."""
        return ConsistencyChecker(self).run(progress)
