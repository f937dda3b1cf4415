"""Where a stored claim went wrong: the *cause* (an event) when it can be known, else the
first claim that is wrong -- and a plain sentence saying which of the two was found.

A stored snapshot or projection row disagrees with the replay from events. The first
wrong snapshot is easy to find (`Engine.first_divergent_snapshot`), but it is where the
error was *noticed*, not where it began: a snapshot writer that ignored `FeeCharged`
writes a wrong balance at v20, while the cause is the first fee, at v8. The code that
wrote the claim is usually not loaded (it is an older release), so its answer at every
version cannot be computed. What can be known is whether a simple explanation
reproduces the claim *exactly*:

* the claim is the replay with every event of one type left out (the writer ignored
  that type): its answer at every version is then known, and a bisect over versions
  finds the first event whose application makes it differ from the replay;
* the claim is the replay with one event left out (a projector that skipped an event);
* the claim is the replay as of an earlier event (a writer that stopped): the cause is
  the first event after that one.

When none of these reproduces the claim, the finding is the first wrong claim, and the
sentence says that the cause lies before it and could not be pinned. The searches fold
at most `MAX_EVENTS` events per hypothesis; beyond that only the first wrong claim is
reported (still exact).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from eventscope.domain.bisect import first_divergence
from eventscope.domain.diff import same
from eventscope.domain.errors import DomainError
from eventscope.domain.events import DecodedEvent
from eventscope.domain.projection_runner import ProjectionFold
from eventscope.store.records import JSONObject, RecordedEvent, Snapshot
from eventscope.store.source import EventFilter

MAX_EVENTS = 2000
Found = Literal["cause", "first-wrong-claim", "agree"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What "first divergence" found. `found` is "cause" (the event that made the claim
    go wrong), "first-wrong-claim" (the earliest wrong claim; the cause is before it) or
    "agree". `stream_id`/`version` is the event (or snapshot version) to open."""

    found: Found
    stream_id: str
    version: int | None
    position: int | None
    sentence: str
    # Every event that explains the claim equally well (the first one is opened).
    candidates: tuple[int, ...] = ()


def snapshot_cause(engine: Any, stream_id: str) -> Finding:
    """The cause of the first stored snapshot of `stream_id` that disagrees with the
    replay, or that snapshot itself when its cause cannot be known."""
    snapshot = engine.first_divergent_snapshot(stream_id)
    if snapshot is None:
        return Finding(
            "agree", stream_id, None, None, "every stored snapshot agrees with the replay"
        )
    timeline = engine.timeline(stream_id)
    wrote = _writer(snapshot)
    if snapshot.version > timeline.length:
        return Finding(
            "first-wrong-claim",
            stream_id,
            timeline.length,
            None,
            f"found the first wrong snapshot, v{snapshot.version:,} ({wrote}): it claims a "
            f"version the stream never reached (it has {timeline.length:,} events)",
        )
    first_wrong = f"the first wrong snapshot is v{snapshot.version:,} ({wrote})"
    if snapshot.version <= MAX_EVENTS:
        events = [timeline.event(v) for v in range(1, snapshot.version + 1)]
        fold = _StreamFold(engine, timeline, events)
        target = snapshot.state
        for event_type in dict.fromkeys(e.recorded.event_type for e in events):
            if same(fold.state(lambda e, t=event_type: e.recorded.event_type == t), target):  # type: ignore[misc]
                version = fold.first_difference(
                    lambda e, t=event_type: e.recorded.event_type == t  # type: ignore[misc]
                )
                if version is not None:
                    record = events[version - 1].recorded
                    return Finding(
                        "cause",
                        stream_id,
                        version,
                        record.position,
                        f"found the cause: v{version:,} ({record.event_type}), the first "
                        f"{record.event_type} -- the snapshot is exactly the replay with every "
                        f"{record.event_type} left out, so the code that wrote it did not "
                        f"apply them; {first_wrong}",
                    )
        if snapshot.version <= 400:
            for skipped in events:
                version = skipped.recorded.version
                if same(fold.state(lambda e, v=version: e.recorded.version == v), target):  # type: ignore[misc]
                    return Finding(
                        "cause",
                        stream_id,
                        version,
                        skipped.recorded.position,
                        f"found the cause: v{version:,} ({skipped.recorded.event_type}) -- the "
                        f"snapshot is exactly the replay without that one event; {first_wrong}",
                    )
    return Finding(
        "first-wrong-claim",
        stream_id,
        snapshot.version,
        None,
        f"found {first_wrong}, not its cause: no simple explanation reproduces it, and the "
        f"code that wrote it is not loaded; the cause lies at or before v{snapshot.version:,}",
    )


def projection_cause(engine: Any, name: str, key: str) -> Finding:
    """The first event after which the stored row `name[key]` and the replay disagree."""
    source = engine.source
    projection = engine.projection(name)
    row = source.projection_row(name, key)
    if row is None:
        raise DomainError(f"projection {name!r} has no stored row with key {key!r}")
    upto = source.checkpoints().get(name, row.position)
    records = list(_key_events(engine, projection, key, upto))
    if len(records) > MAX_EVENTS:
        records = records[:MAX_EVENTS]
    target = row.document

    def document(keep: Callable[[int], bool], count: int | None = None) -> Any:
        fold = ProjectionFold(projection, engine.registry)
        fold.feed_many(r for i, r in enumerate(records[:count]) if keep(i))
        return fold.state.documents.get(key, projection.initial(key))

    if same(document(lambda i: True), target):
        return Finding(
            "agree",
            "",
            None,
            None,
            f"the stored row {name}[{key}] agrees with the replay of its {len(records)} events",
        )
    # A row that stopped taking events: it equals the replay as of an earlier event.
    fold = ProjectionFold(projection, engine.registry)
    last_agreement: int | None = 0 if same(projection.initial(key), target) else None
    for index, record in enumerate(records):
        fold.feed_many((record,))
        if same(fold.state.documents.get(key), target):
            last_agreement = index + 1
    if last_agreement is not None and last_agreement < len(records):
        cause = records[last_agreement]
        return _event_finding(
            cause,
            f"found the cause: the event at position {cause.position:,} ({cause.event_type}) "
            f"-- the stored row {name}[{key}] equals the replay up to the event before it "
            "and took in nothing after",
        )
    if len(records) <= 400:
        explain = [
            record
            for index, record in enumerate(records)
            if same(document(lambda i, skip=index: i != skip), target)  # type: ignore[misc]
        ]
        if explain:
            cause = explain[0]
            if len(explain) == 1:
                sentence = (
                    f"found the cause: the event at position {cause.position:,} "
                    f"({cause.event_type}) -- the stored row {name}[{key}] is exactly the "
                    "replay without that event: the projector missed it"
                )
            else:
                listed = ", ".join(f"{r.position:,}" for r in explain[:10])
                sentence = (
                    f"found the cause among {len(explain)} equal explanations: the stored row "
                    f"{name}[{key}] is exactly the replay without any one of the events at "
                    f"positions {listed}: the projector missed one of them (the first is "
                    "opened)"
                )
            found = _event_finding(cause, sentence)
            return Finding(
                found.found,
                found.stream_id,
                found.version,
                found.position,
                found.sentence,
                tuple(r.position for r in explain),
            )
    last = source.event_at(row.position) if row.position else None
    sentence = (
        f"found no event that explains the stored row {name}[{key}]: it agrees with no "
        f"replay of its events; it was last changed at position {row.position:,}"
    )
    if last is None:
        return Finding("first-wrong-claim", "", None, None, sentence)
    return Finding("first-wrong-claim", last.stream_id, last.version, last.position, sentence)


def _event_finding(record: RecordedEvent, sentence: str) -> Finding:
    return Finding("cause", record.stream_id, record.version, record.position, sentence)


def _key_events(engine: Any, projection: Any, key: str, upto: int) -> Iterable[RecordedEvent]:
    """The events up to `upto` that the projection applies to the document `key`."""
    if not projection.handles:
        return
    decode = engine.registry.decode
    found = engine.source.read_all(
        0, upto, filter=EventFilter(event_types=list(projection.handles))
    )
    for record in found:
        decoded = decode(record)
        if decoded.error is not None:
            continue
        try:
            if projection.key(decoded) == key:
                yield record
        except Exception:  # user code: an event it cannot key is not this row's
            continue


def _writer(snapshot: Snapshot) -> str:
    return (
        f"written by {snapshot.aggregate_type or 'generic'} code {snapshot.code_version or '?'} "
        f"at {snapshot.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )


class _StreamFold:
    """Folds versions 1..n of a stream with the engine's folder, leaving some out."""

    def __init__(self, engine: Any, timeline: Any, events: list[DecodedEvent]) -> None:
        self.folder = timeline.folder
        self.timeline = timeline
        self.events = events

    def _apply(self, state: JSONObject, event: DecodedEvent) -> JSONObject:
        record = event.recorded
        if event.error is not None or event.data is None:
            return state
        if self.folder.refuse(record.event_type) is not None:
            return state
        try:
            return self.folder.apply(state, record.event_type, event.data)  # type: ignore[no-any-return]
        except Exception:  # a failing applier is skipped, as in every replay
            return state

    def state(self, leave_out: Callable[[DecodedEvent], bool], count: int | None = None) -> Any:
        state = self.folder.initial()
        for event in self.events[:count]:
            if not leave_out(event):
                state = self._apply(state, event)
        return orjson.loads(orjson.dumps(state, default=str))

    def first_difference(self, leave_out: Callable[[DecodedEvent], bool]) -> int | None:
        """The first version whose application makes the replay and the replay without
        the left-out events differ (a bisect over versions)."""
        total = len(self.events)

        def differs(version: int) -> bool:
            full = self.timeline.state_at(version).state
            return not same(full, self.state(leave_out, version))

        return first_divergence(0, total, differs).version
