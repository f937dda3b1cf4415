"""The business-time axis: a stream's state as of business time O, as known at time R.

The definition (README "What a state means", docs/ARCHITECTURE.md), implemented here
and nowhere else:

    the state as of business time O, as known at recorded time R, is the fold of the
    stream's events with recorded_at <= R and occurred_at <= O, applied in occurred
    order, ties by version. R defaults to everything recorded. With no such event the
    state is the initial state (version 0).

It is *not* "the last version whose occurred_at <= O": a backdated event is folded in
where it belongs in business time, and events that happened after O are left out even
when a backdated event recorded after them is included.

How it stays cheap (the recorded axis keeps the version checkpoints of `Timeline`):

* the business-time order of the whole stream -- versions sorted by (occurred_at,
  version) -- is computed once per build of the timeline;
* the events known at R are always the first c events of the stream sorted by
  recorded_at, so the business-time order of the known events (a `BusinessView`) is
  keyed by c and kept in a small LRU: moving O with a fixed R never rebuilds it;
* a view's longest prefix that is already version order (1, 2, ..., p) is answered from
  the version-axis checkpoints, so a stream without backdated events costs nothing
  more; beyond that prefix a view keeps its own checkpoint every K events of its order,
  built in one pass on first need;
* the state as of O is then a bisect of O in the view's occurred times, the checkpoint
  at or below that count, and at most K - 1 applies.

An aggregate's applier may refuse an event in business-time order that it accepted in
version order (a withdrawal "before" the account was opened...). That event is skipped
with the reason, like any unusable event: the answer says which event could not be
applied, and why, instead of failing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import orjson
from eventscope.domain.blame import initial_tree
from eventscope.domain.blame import update as update_blame
from eventscope.domain.diff import diff
from eventscope.domain.skips import SkippedEvent, describe_exception, dumps_state

if TYPE_CHECKING:
    from eventscope.domain.timeline import Timeline
    from eventscope.store.records import JSONObject


def business_order(occurred: list[int]) -> list[int]:
    """Versions 1..n sorted by (occurred_at, version); `occurred[i]` belongs to i + 1."""
    if all(occurred[i] <= occurred[i + 1] for i in range(len(occurred) - 1)):
        return list(range(1, len(occurred) + 1))
    return sorted(range(1, len(occurred) + 1), key=lambda v: (occurred[v - 1], v))


class BusinessView:
    """The business-time order of the events known at some R, with its own checkpoints.

    `order[i]` is the version applied (i + 1)-th; `times[i]` its occurred time in
    microseconds (non-decreasing). "The state after `count` events of this order" is
    what every question on this axis reduces to.
    """

    def __init__(self, timeline: Timeline, order: list[int], occurred: list[int]) -> None:
        self.timeline = timeline
        self.order = order
        self.times = [occurred[v - 1] for v in order]
        base, total = 0, len(order)
        while base < total and order[base] == base + 1:
            base += 1
        self.base = base  # order[:base] == [1, 2, ..., base]: version checkpoints apply
        self._index = {version: i for i, version in enumerate(order)} if base < len(order) else {}
        self._checkpoints: list[bytes] | None = None  # state after base + j*K events
        self._skips: dict[int, SkippedEvent] = {}  # by version, for order[base:]
        self._skip_at: list[int] = []  # sorted indices into order of those skips
        self._highest: list[int] | None = None  # highest version among order[: i + 1]
        self._blame: list[tuple[bytes, bytes]] | None = None  # (state, tree) every K from 0

    @property
    def identity(self) -> bool:
        """True when the order is plain version order 1..n (no backdated event known)."""
        return self.base == len(self.order)

    def highest(self, count: int) -> int:
        """The highest version among the first `count` events of the order (0 if none)."""
        if count <= 0:
            return 0
        if self.identity or count <= self.base:
            return count
        if self._highest is None:
            self._highest = list(accumulate(self.order, max))
        return self._highest[count - 1]

    def count_at(self, as_of: int) -> int:
        """How many events of the order occurred at or before `as_of` (microseconds)."""
        return bisect_right(self.times, as_of)

    def index_of(self, version: int) -> int | None:
        """Where `version` is applied in this order (None when it is not known at R)."""
        if version <= self.base:
            return version - 1 if version >= 1 else None
        return self._index.get(version)

    def memory_estimate(self) -> int:
        size = 16 * len(self.order) + 24 * len(self._index)
        size += sum(len(c) for c in self._checkpoints or [])
        size += sum(len(s) + len(t) for s, t in self._blame or [])
        return size

    # --- state --------------------------------------------------------------------------
    def state(self, count: int) -> JSONObject:
        """A private copy of the state after the first `count` events of the order."""
        if count <= self.base:
            return self.timeline._state(count)
        checkpoints = self._ensure_checkpoints()
        k = self.timeline.k
        mark = (count - self.base) // k
        state: JSONObject = orjson.loads(checkpoints[mark])
        return self._fold(state, self.base + mark * k, count)

    def skipped(self, count: int) -> tuple[SkippedEvent, ...]:
        """The events among the first `count` of the order that could not be applied."""
        if count <= self.base:
            return self.timeline._skipped_upto(count)
        self._ensure_checkpoints()
        head = self.timeline._skipped_upto(self.base)
        if not self._skip_at:
            return head
        if len(self._skip_at) != len(self._skips):
            self._skip_at = sorted(self._index.get(v, v - 1) for v in self._skips)
        tail = [
            self._skips[self.order[i]]
            for i in self._skip_at[: bisect_right(self._skip_at, count - 1)]
        ]
        return (*head, *tail)

    def _ensure_checkpoints(self) -> list[bytes]:
        """One pass over order[base:], keeping a checkpoint every K events."""
        if self._checkpoints is not None:
            return self._checkpoints
        timeline = self.timeline
        k = timeline.k
        state = timeline._state(self.base)
        self._checkpoints = checkpoints = [dumps_state(state)]
        # The pass is nearly sequential: fewer, larger reads, and room in the chunk LRU for
        # the chunk a backdated event jumps ahead to until the pass gets there.
        timeline._read_ahead, saved_lru = 8, timeline._max_chunks
        timeline._max_chunks = max(saved_lru, 512)
        try:
            for count in range(self.base, len(self.order)):
                state = self._apply(state, count)
                if (count + 1 - self.base) % k == 0:
                    checkpoints.append(dumps_state(state))
        finally:
            timeline._read_ahead, timeline._max_chunks = 1, saved_lru
            while len(timeline._chunks) > saved_lru:
                timeline._chunks.popitem(last=False)
        return checkpoints

    def _fold(self, state: JSONObject, start: int, stop: int) -> JSONObject:
        for count in range(start, stop):
            state = self._apply(state, count)
        return state

    def _apply(self, state: JSONObject, index: int) -> JSONObject:
        """Apply order[index] (index >= base) to `state`, noting a refusal."""
        timeline = self.timeline
        version = self.order[index]
        if version in self._skips:
            return state
        record, data = timeline._payload(version)
        intrinsic = timeline._skipped.get(version)
        if intrinsic is not None and version not in timeline._apply_failed:
            self._skips[version] = intrinsic  # undecodable, no handler: in any order
            self._skip_at.append(index)
            return state
        if data is None:  # pragma: no cover - the build pass records every such event
            return state
        try:
            return timeline.folder.apply(state, record.event_type, data)
        except Exception as exc:  # user code: a refusal is shown, never raised
            self._skips[version] = SkippedEvent(
                version,
                record.position,
                record.event_type,
                f"{timeline.folder.name} refused it in business-time order (after "
                f"{index} earlier event(s) by occurred time): {describe_exception(exc)}",
            )
            self._skip_at.append(index)
            return self.state(index)  # the applier may have half-changed the state

    # --- blame --------------------------------------------------------------------------
    def state_and_blame(self, count: int) -> tuple[JSONObject, dict[str, Any]]:
        """The state after `count` events of the order and its blame tree (who last set
        each leaf in this order)."""
        if self.identity:
            return self.timeline._state_and_blame(count)
        self._ensure_checkpoints()  # skips of order[base:] are known from here on
        blame = self._ensure_blame()
        k = self.timeline.k
        mark = count // k
        state_bytes, tree_bytes = blame[mark]
        state: JSONObject = orjson.loads(state_bytes)
        tree: dict[str, Any] = orjson.loads(tree_bytes)
        for index in range(mark * k, count):
            state, tree = self._blame_step(state, tree, index)
        return state, tree

    def _ensure_blame(self) -> list[tuple[bytes, bytes]]:
        if self._blame is not None:
            return self._blame
        timeline = self.timeline
        state = timeline.folder.initial()
        tree = initial_tree(state, 0)
        self._blame = out = [(dumps_state(state), orjson.dumps(tree))]
        for index in range(len(self.order)):
            state, tree = self._blame_step(state, tree, index)
            if (index + 1) % timeline.k == 0:
                out.append((dumps_state(state), orjson.dumps(tree)))
        return out

    def _blame_step(
        self, state: JSONObject, tree: dict[str, Any], index: int
    ) -> tuple[JSONObject, dict[str, Any]]:
        timeline = self.timeline
        version = self.order[index]
        if index < self.base:
            if version in timeline._skipped:
                return state, tree
        elif version in self._skips:
            return state, tree
        record, data = timeline._payload(version)
        if data is None:
            return state, tree
        before = orjson.loads(dumps_state(state))
        try:
            state = timeline.folder.apply(state, record.event_type, data)
        except Exception:  # pragma: no cover - refusals were found by the state pass
            return before, tree
        entries = diff(before, state)
        if entries:
            tree = update_blame(tree, entries, version)
        return state, tree


def business_time_words(
    as_of: datetime,
    known_at: datetime | None,
    everything: datetime | None,
    show: Callable[[datetime], str],
) -> str:
    """ "as of business time O, as known at R" in words, the one phrasing shared by the
    CLI, reports and the explorer. `known_at` None means everything recorded, whose
    latest recorded time `everything` is named (None for an empty stream)."""
    if known_at is not None:
        known = f"as known at {show(known_at)}"
    elif everything is not None:
        known = f"as known at {show(everything)} (everything recorded)"
    else:
        known = "as known now (everything recorded)"
    return f"as of business time {show(as_of)}, {known}"
