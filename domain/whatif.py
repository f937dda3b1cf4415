"""What-if: the same fold over a *changed* history -- in memory, never in the source.

An analyst asks "what would this account look like without that deposit?", "with this
correction?", "had this event carried other data?". The answer is a replay of the stream
with the change applied to a private, in-memory view of its events::

    edits = WhatIfEdits(skips=frozenset({5}))
    edits = edits.with_insert(Insertion(after=9, event_type="MoneyDeposited", data={...}))
    edits = edits.with_replacement(12, {"amount": "5.00", "currency": "EUR", ...})
    what_if = WhatIf(engine, "account-000042", edits)
    what_if.result().to_json()      # {"stream_id", "actual", "what_if", "diff"}
    what_if.timeline                # a Timeline over the changed history (the explorer's)
    what_if.projection_state("account_balances")   # a read model over the changed history

Nothing here writes. The changed history is a `WhatIfSource`: an `EventSource` that
reads the real source and presents one stream with the edits applied. Its records are
marked as not being evidence: hashes are empty, inserted and replaced events carry
``metadata.what_if``, and a left-out event stays in the list as a *tombstone* (a record
with ``decode_error`` set, which every fold already leaves out and every view already
marks), so the explorer can show "skipped here" in place and versions line up with the
real stream except where events were inserted.

Which events the domain would refuse: an aggregate that states its rules per event
(`Aggregate.refusal`, see `@checks`) is asked about every event from the first change on,
in order, on the changed state. A refused event is left out (the real system would not
have recorded it) and listed with the aggregate's reason -- the first refusal is usually
the answer ("without the deposit, withdrawal v9 is refused: insufficient funds"). Events
before the first change are the recorded history and are not re-judged.

Payloads given for inserted or replacing events are checked against the domain's
pydantic event class when the plugin knows the type, so a hypothesis cannot smuggle in an
event the real code could never have written (`DomainError` with one sentence).
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson
from eventscope.domain.diff import DiffEntry, diff
from eventscope.domain.errors import DomainError
from eventscope.domain.events import EventRegistry
from eventscope.domain.folders import AggregateFolder, Folder
from eventscope.domain.projection_runner import ProjectionFold, ProjectionState
from eventscope.domain.timeline import SkippedEvent, StateAt, Timeline
from eventscope.domain.wording import validation_sentence
from eventscope.store.records import (
    JSONObject,
    RecordedEvent,
    ReplayRow,
    SourceInfo,
    StreamInfo,
    replay_row,
)
from eventscope.store.source import EventFilter, EventSource
from pydantic import ValidationError

__all__ = [
    "LEFT_OUT",
    "Insertion",
    "Rejection",
    "WhatIf",
    "WhatIfEdits",
    "WhatIfEntry",
    "WhatIfResult",
    "WhatIfSource",
]

WHAT_IF_ACTOR = "what-if"
LEFT_OUT = "left out by this what-if (hypothetical)"
"""The tombstone reason of an event the analyst skipped."""
REFUSED_PREFIX = "refused in this what-if by "
_NAMESPACE = uuid.UUID("6f1d2c4e-8a47-4c1e-9d55-0b7a3e2f9c10")

EntryKind = Literal["kept", "skipped", "replaced", "inserted", "refused"]


# --- the edits --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Insertion:
    """An event that did not happen, placed after original version `after` (0: first)."""

    after: int
    event_type: str
    data: JSONObject
    metadata: JSONObject = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        return {"after": self.after, "event_type": self.event_type, "data": self.data}


@dataclass(frozen=True, slots=True)
class WhatIfEdits:
    """A set of changes to one stream's history. Immutable: `with_*` return new edits.

    `replacements` maps an original version to the payload it should have had (in the
    event type's current schema). Several insertions after the same version keep their
    order.
    """

    skips: frozenset[int] = frozenset()
    inserts: tuple[Insertion, ...] = ()
    replacements: Mapping[int, JSONObject] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.skips or self.inserts or self.replacements)

    def first_changed(self) -> int | None:
        """The first original version whose state the edits can change (None: none)."""
        candidates = [*self.skips, *self.replacements, *(i.after + 1 for i in self.inserts)]
        return min(candidates) if candidates else None

    def toggle_skip(self, version: int) -> WhatIfEdits:
        skips = self.skips ^ {version}
        return replace(self, skips=frozenset(skips))

    def with_insert(self, insertion: Insertion) -> WhatIfEdits:
        return replace(self, inserts=(*self.inserts, insertion))

    def without_insert(self, index: int) -> WhatIfEdits:
        return replace(self, inserts=self.inserts[:index] + self.inserts[index + 1 :])

    def with_replacement(self, version: int, data: JSONObject) -> WhatIfEdits:
        return replace(self, replacements={**self.replacements, version: data})

    def without_replacement(self, version: int) -> WhatIfEdits:
        rest = {v: d for v, d in self.replacements.items() if v != version}
        return replace(self, replacements=rest)

    def describe(self) -> list[str]:
        """Short phrases for a label: ``skip v5``, ``insert MoneyDeposited after v9``."""
        out = [f"skip v{v}" for v in sorted(self.skips)]
        out += [f"replace v{v}" for v in sorted(self.replacements)]
        out += [f"insert {i.event_type} after v{i.after}" for i in self.inserts]
        return out

    def to_json(self) -> JSONObject:
        return {
            "skip": sorted(self.skips),
            "insert": [i.to_json() for i in self.inserts],
            "replace": [
                {"version": v, "data": self.replacements[v]} for v in sorted(self.replacements)
            ],
        }


# --- the changed history ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WhatIfEntry:
    """One row of the changed history, as the explorer lists it.

    `version` is the original version (None for an inserted event, which has `after` and
    `insert_index` instead); `reason` says why a skipped or refused event is left out.
    """

    display_version: int
    kind: EntryKind
    version: int | None
    after: int | None = None
    insert_index: int | None = None
    reason: str | None = None

    @property
    def applied(self) -> bool:
        """False for the tombstones (skipped or refused): they change nothing."""
        return self.kind not in ("skipped", "refused")


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event of the changed history that the aggregate's rules refuse."""

    version: int | None  # the original version; None for an inserted event
    after: int | None  # for an inserted event: the original version it follows
    display_version: int
    event_type: str
    reason: str
    aggregate: str

    def label(self) -> str:
        where = f"v{self.version}" if self.version is not None else f"inserted after v{self.after}"
        return f"{self.aggregate} refuses {self.event_type} ({where}): {self.reason}"

    def to_json(self) -> JSONObject:
        return {
            "version": self.version,
            "inserted_after": self.after,
            "event_type": self.event_type,
            "reason": self.reason,
            "aggregate": self.aggregate,
        }


@dataclass(frozen=True, slots=True)
class _Mark:
    kind: Literal["skipped", "refused", "replaced"]
    reason: str | None = None
    data: JSONObject | None = None  # a replacement payload (kept when a replaced event is refused)
    schema_version: int | None = None  # the replacement's: the type's current schema


@dataclass(frozen=True, slots=True)
class _Segment:
    """A run of original versions ``first..last`` (``insert`` None), or one inserted event
    (``first`` is then the version it follows); `display` is its first display version."""

    display: int
    first: int
    last: int
    insert: int | None = None

    @property
    def size(self) -> int:
        return 1 if self.insert is not None else self.last - self.first + 1


class _Layout:
    """Original versions and insertions in display order, and the record marks."""

    def __init__(self, length: int, inserts: tuple[Insertion, ...]) -> None:
        self.length = length
        order = sorted(range(len(inserts)), key=lambda i: (inserts[i].after, i))
        segments: list[_Segment] = []
        display = 1
        version = 1
        for index in order:
            after = inserts[index].after
            if after >= version:
                segments.append(_Segment(display, version, after))
                display += after - version + 1
                version = after + 1
            segments.append(_Segment(display, after, after, insert=index))
            display += 1
        if version <= length:
            segments.append(_Segment(display, version, length))
            display += length - version + 1
        self.segments = segments
        self.size = display - 1
        self._starts = [s.display for s in segments]

    def segment_at(self, display: int) -> _Segment:
        return self.segments[bisect_right(self._starts, display) - 1]

    def display_of(self, original: int) -> int:
        """The display version of original version `original` (0 -> 0)."""
        if original <= 0:
            return 0
        for segment in self.segments:
            if segment.insert is None and segment.first <= original <= segment.last:
                return segment.display + original - segment.first
        raise DomainError(f"version {original} is not in the stream")

    def display_upto(self, original: int) -> int:
        """How many display rows come before original version ``original + 1``: the
        history "up to original version N", insertions right after N included."""
        count = 0
        for segment in self.segments:
            if segment.insert is not None:
                if segment.first <= original:
                    count += 1
            elif segment.first <= original:
                count += min(segment.last, original) - segment.first + 1
        return count


class WhatIfSource:
    """An `EventSource` over the real one, with one stream's history changed.

    Reads go to the real source (opened read-only by the caller); nothing is ever written.
    The changed stream's records carry display versions, empty hashes and, for inserted
    and replaced events, ``metadata.what_if``; stored snapshots of the changed stream are
    hidden (they are claims about the real history).
    """

    def __init__(
        self,
        base: EventSource,
        stream_id: str,
        info: StreamInfo,
        layout: _Layout,
        marks: dict[int, _Mark],
        inserted: list[RecordedEvent],
    ) -> None:
        self.base = base
        self.stream_id = stream_id
        self._info = info
        self._layout = layout
        self._marks = marks
        self._inserted = inserted

    def __getattr__(self, name: str) -> Any:
        # Everything not about the changed stream is the real source's.
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    # --- what it is ---------------------------------------------------------------------
    def describe(self) -> SourceInfo:
        info = self.base.describe()
        return SourceInfo(f"what-if over {info.kind}", info.location, True, False)

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        if stream_id != self.stream_id:
            return self.base.stream_info(stream_id)
        size = self._layout.size
        return replace(self._info, version=size, event_count=size)

    def snapshots(self, stream_id: str) -> list[Any]:
        return [] if stream_id == self.stream_id else self.base.snapshots(stream_id)

    def snapshot_at(self, stream_id: str, version: int) -> Any:
        return None if stream_id == self.stream_id else self.base.snapshot_at(stream_id, version)

    # --- the changed stream -------------------------------------------------------------
    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        if stream_id != self.stream_id:
            yield from self.base.read_stream(stream_id, from_version, to_version, backwards)
            return
        low = max(1, from_version)
        high = self._layout.size if to_version is None else min(to_version, self._layout.size)
        if low > high:
            return
        segments = [
            s for s in self._layout.segments if s.display <= high and s.display + s.size - 1 >= low
        ]
        for segment in reversed(segments) if backwards else segments:
            yield from self._segment_records(segment, low, high, backwards)

    def read_replay(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None
    ) -> Iterator[ReplayRow]:
        """The changed stream's fold rows come from its changed records; the others are
        the real source's."""
        if stream_id != self.stream_id:
            return self.base.read_replay(stream_id, from_version, to_version)
        return map(replay_row, self.read_stream(stream_id, from_version, to_version))

    def _segment_records(
        self, segment: _Segment, low: int, high: int, backwards: bool
    ) -> Iterator[RecordedEvent]:
        if segment.insert is not None:
            yield self._inserted[segment.insert]
            return
        start = max(low, segment.display)
        stop = min(high, segment.display + segment.size - 1)
        offset = segment.display - segment.first
        records = self.base.read_stream(
            self.stream_id, start - offset, stop - offset, backwards=backwards
        )
        for record in records:
            yield self._changed(record, record.version + offset)

    def _changed(self, record: RecordedEvent, display: int) -> RecordedEvent:
        mark = self._marks.get(record.version)
        if mark is None:
            return replace(record, version=display, hash="")
        if mark.data is not None:  # replaced (and perhaps then refused)
            record = replace(
                record,
                data=mark.data,
                schema_version=mark.schema_version or record.schema_version,
                metadata={**record.metadata, "what_if": "replaced"},
            )
        if mark.kind == "replaced":
            return replace(record, version=display, hash="")
        return replace(record, version=display, hash="", decode_error=mark.reason)

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        """The real source's events with the changed stream's replaced by the what-if's:
        an inserted event follows the event it was inserted after and shares its position
        (tombstones are left out here: nothing folds them)."""
        if backwards:
            raise DomainError("a what-if history is read forwards only")
        others = (
            r
            for r in self.base.read_all(from_position, to_position, filter=filter)
            if r.stream_id != self.stream_id
        )
        mine = (
            r
            for r in self.read_stream(self.stream_id)
            if r.decode_error is None
            and r.position > from_position
            and (to_position is None or r.position <= to_position)
            and _matches(filter, r)
        )
        merged = _merge_by_position(others, mine)
        for count, record in enumerate(merged):
            if limit is not None and count >= limit:
                return
            yield record

    def close(self) -> None:
        """The real source belongs to the caller: a what-if never closes it."""


def _merge_by_position(
    left: Iterator[RecordedEvent], right: Iterator[RecordedEvent]
) -> Iterator[RecordedEvent]:
    """Merge two position-ordered iterators; on equal positions the changed stream's
    records come after the other one's (an inserted event follows its predecessor)."""
    a = next(left, None)
    b = next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.position <= b.position):
            assert a is not None
            yield a
            a = next(left, None)
        else:
            yield b
            b = next(right, None)


def _matches(filter: EventFilter | None, record: RecordedEvent) -> bool:  # noqa: A002
    """`EventFilter` semantics, in Python, for the few records a what-if changes."""
    if filter is None:
        return True
    if filter.event_types is not None and record.event_type not in filter.event_types:
        return False
    if filter.stream_type is not None and record.stream_type != filter.stream_type:
        return False
    if filter.stream_prefix is not None and not record.stream_id.startswith(filter.stream_prefix):
        return False
    if filter.stream_id is not None and record.stream_id != filter.stream_id:
        return False
    if filter.correlation_id is not None and record.correlation_id != filter.correlation_id:
        return False
    if filter.actor is not None and record.actor != filter.actor:
        return False
    if filter.since is not None and record.recorded_at < filter.since:
        return False
    return filter.until is None or record.recorded_at < filter.until


# --- the result -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """The actual state and the what-if state at the same point of the history."""

    stream_id: str
    edits: WhatIfEdits
    actual: StateAt
    what_if: StateAt
    applied_version: int  # events in the changed history up to that point
    differences: list[DiffEntry]
    rejected: tuple[Rejection, ...]

    @property
    def skipped(self) -> tuple[SkippedEvent, ...]:
        """Events the what-if fold could not use for reasons of their own (undecodable,
        a failing applier) -- not the analyst's skips or the aggregate's refusals."""
        return tuple(s for s in self.what_if.skipped if not _is_tombstone(s.reason))

    def to_json(self) -> JSONObject:
        """``{stream_id, actual, what_if, diff}``; `diff` is `eventscope diff`'s shape
        (actual on the left, what-if on the right)."""
        actual: JSONObject = {"version": self.actual.version, "state": self.actual.state}
        if self.actual.skipped:
            actual["skipped"] = [s.to_json() for s in self.actual.skipped]
        what_if: JSONObject = {
            "hypothetical": True,
            "version": self.applied_version,
            "state": self.what_if.state,
            "edits": self.edits.to_json(),
            "rejected": [r.to_json() for r in self.rejected],
        }
        if self.skipped:
            what_if["skipped"] = [s.to_json() for s in self.skipped]
        return {
            "stream_id": self.stream_id,
            "actual": actual,
            "what_if": what_if,
            "diff": [d.to_json() for d in self.differences],
        }


def _is_tombstone(reason: str) -> bool:
    return reason == LEFT_OUT or reason.startswith(REFUSED_PREFIX)


# --- the engine -------------------------------------------------------------------------
class WhatIf:
    """One stream of an `Engine`'s source with `edits` applied (see the module docstring).

    Building it validates the edits, asks the aggregate's rules about every event from
    the first change on (one pass over the rest of the stream), and prepares the changed
    history; states, changes, blame and series then come from `timeline`, exactly as for
    the real stream.
    """

    def __init__(self, engine: Any, stream_id: str, edits: WhatIfEdits) -> None:
        self.engine = engine
        self.stream_id = stream_id
        self.edits = edits
        self.actual: Timeline = engine.timeline(stream_id)
        info = engine.stream_info(stream_id)
        self.stream_type = info.stream_type
        self.registry: EventRegistry = engine.registry
        self.folder: Folder = engine.folder_for(info.stream_type)
        length = self.actual.length
        self._check(length)
        self.layout = _Layout(length, edits.inserts)
        self._marks: dict[int, _Mark] = {v: _Mark("skipped", LEFT_OUT) for v in edits.skips}
        for version, data in edits.replacements.items():
            self._marks[version] = _Mark(
                "replaced", data=data, schema_version=self._current_schema(version)
            )
        self._inserted = [self._inserted_record(i) for i in range(len(edits.inserts))]
        self.source = WhatIfSource(
            engine.source, stream_id, info, self.layout, self._marks, self._inserted
        )
        self.rejected: tuple[Rejection, ...] = tuple(self._judge())
        self.timeline = Timeline(
            self.source,
            stream_id,
            folder=self.folder,
            registry=self.registry,
            checkpoint_every=engine.checkpoint_every,
        )

    # --- checking the edits -------------------------------------------------------------
    def _check(self, length: int) -> None:
        edits = self.edits
        for version in sorted(edits.skips | set(edits.replacements)):
            if type(version) is not int or not 1 <= version <= length:
                raise DomainError(
                    f"version {version} is out of range for stream {self.stream_id!r} "
                    f"(it has versions 1 to {length})"
                )
        both = sorted(edits.skips & set(edits.replacements))
        if both:
            raise DomainError(f"version {both[0]} cannot be both skipped and replaced")
        for insertion in edits.inserts:
            if type(insertion.after) is not int or not 0 <= insertion.after <= length:
                raise DomainError(
                    f"an event can be inserted after versions 0 to {length} of "
                    f"{self.stream_id!r}, not after {insertion.after}"
                )
            if not isinstance(insertion.event_type, str) or not insertion.event_type.strip():
                raise DomainError("an inserted event needs an event type")
            self._check_payload(
                insertion.data, insertion.event_type, f"the event inserted after v{insertion.after}"
            )
        for version, data in edits.replacements.items():
            event_type = self.actual.record(version).event_type
            self._check_payload(data, event_type, f"the replacement of v{version}")

    def _check_payload(self, data: Any, event_type: str, what: str) -> None:
        if type(data) is not dict:
            raise DomainError(f"{what} needs a JSON object as its data, not {type(data).__name__}")
        try:
            orjson.dumps(data)
        except TypeError as exc:
            raise DomainError(f"{what} is not JSON: {exc}") from None
        cls = self.registry.class_for(event_type)
        if cls is None:
            return
        try:
            cls.model_validate(data)
        except ValidationError as exc:
            raise DomainError(
                f"{what} is not a valid {event_type}: {validation_sentence(exc)}"
            ) from None

    def _current_schema(self, version: int) -> int:
        record = self.actual.record(version)
        current = self.registry.current_version(record.event_type)
        return current if current is not None else int(record.schema_version)

    def _inserted_record(self, index: int) -> RecordedEvent:
        insertion = self.edits.inserts[index]
        near = self.actual.record(insertion.after or 1) if self.actual.length else None
        if near is None:
            raise DomainError(f"stream {self.stream_id!r} has no events to insert among")
        display = next(s.display for s in self.layout.segments if s.insert == index)
        current = self.registry.current_version(insertion.event_type)
        return RecordedEvent(
            position=near.position,
            stream_id=self.stream_id,
            stream_type=self.stream_type,
            version=display,
            event_id=str(uuid.uuid5(_NAMESPACE, f"{self.stream_id}:{index}:{insertion.after}")),
            event_type=insertion.event_type,
            schema_version=current if current is not None else 1,
            data=insertion.data,
            metadata={"actor": WHAT_IF_ACTOR, **insertion.metadata, "what_if": "inserted"},
            occurred_at=near.occurred_at,
            recorded_at=near.recorded_at,
            hash="",
        )

    # --- the aggregate's rules ----------------------------------------------------------
    def _judge(self) -> Iterator[Rejection]:
        """Ask the aggregate about each event from the first change on (see the module
        docstring); refused events become tombstones."""
        first = self.edits.first_changed()
        folder = self.folder
        if first is None or not isinstance(folder, AggregateFolder):
            return
        aggregate = folder.aggregate
        if not aggregate.has_checks():
            return
        # Rows before the first change are original versions 1..first-1 (an insertion
        # there would itself be an earlier change), so the changed part starts at row
        # `first`, on the recorded state just before it.
        state = self.actual.state_at(first - 1).state
        start = first
        name = aggregate.__name__
        for record in self.source.read_stream(self.stream_id, from_version=start):
            if record.decode_error is not None:
                continue  # skipped by the analyst, or undecodable: it changes nothing
            decoded = self.registry.decode(record)
            if decoded.data is None or folder.refuse(record.event_type) is not None:
                continue
            reason = aggregate.refusal(state, record.event_type, decoded.data)
            if reason is not None:
                rejection = self._refuse(record, reason, name)
                if rejection is not None:
                    yield rejection
                continue
            try:
                state = folder.apply(state, record.event_type, decoded.data)
            except Exception:  # the timeline lists a failing applier as skipped
                state = self._state_before(record)

    def _state_before(self, record: RecordedEvent) -> JSONObject:
        # A failing applier may have half-changed the state; refold the changed history.
        private = Timeline(self.source, self.stream_id, folder=self.folder, registry=self.registry)
        return private.state_at(record.version - 1).state

    def _refuse(self, record: RecordedEvent, reason: str, aggregate: str) -> Rejection | None:
        tombstone = f"{REFUSED_PREFIX}{aggregate}: {reason}"
        segment = self.layout.segment_at(record.version)
        if segment.insert is not None:
            index = segment.insert
            self._inserted[index] = replace(self._inserted[index], decode_error=tombstone)
            return Rejection(
                None, segment.first, record.version, record.event_type, reason, aggregate
            )
        original = record.version - segment.display + segment.first
        kept = self._marks.get(original)
        self._marks[original] = _Mark(
            "refused",
            tombstone,
            kept.data if kept is not None else None,
            kept.schema_version if kept is not None else None,
        )
        return Rejection(original, None, record.version, record.event_type, reason, aggregate)

    # --- reading the result -------------------------------------------------------------
    @property
    def length(self) -> int:
        """Rows of the changed history (tombstones included): the what-if timeline's
        length."""
        return self.layout.size

    def display_version(self, original: int | None) -> int:
        """The changed history's row for "up to original version N" (None: the end)."""
        if original is None:
            return self.layout.size
        return self.layout.display_upto(original)

    def entry(self, display: int) -> WhatIfEntry:
        """What row `display` of the changed history is (for the explorer's focus)."""
        if not 1 <= display <= self.layout.size:
            raise DomainError(f"the what-if history has rows 1 to {self.layout.size}")
        segment = self.layout.segment_at(display)
        if segment.insert is not None:
            refused = self._inserted[segment.insert].decode_error
            return WhatIfEntry(
                display,
                "refused" if refused else "inserted",
                None,
                after=segment.first,
                insert_index=segment.insert,
                reason=refused,
            )
        original = display - segment.display + segment.first
        found = self._marks.get(original)
        if found is None:
            return WhatIfEntry(display, "kept", original)
        return WhatIfEntry(display, found.kind, original, reason=found.reason)

    def original_version(self, display: int) -> int:
        """The original version whose state corresponds to row `display` (an inserted
        row corresponds to the version it follows)."""
        if display <= 0:
            return 0
        entry = self.entry(display)
        return entry.version if entry.version is not None else entry.after or 0

    def applied_upto(self, display: int) -> int:
        """Events that count in the changed history among its first `display` rows."""
        tombstones = sum(
            1 for v, m in self._marks.items() if m.kind != "replaced" and self._row(v) <= display
        )
        for index, record in enumerate(self._inserted):
            if record.decode_error is not None and self._insert_row(index) <= display:
                tombstones += 1
        return display - tombstones

    def _row(self, original: int) -> int:
        return self.layout.display_of(original)

    def _insert_row(self, index: int) -> int:
        return next(s.display for s in self.layout.segments if s.insert == index)

    def result(self, version: int | None = None) -> WhatIfResult:
        """Actual state at original `version` (None: latest) and the what-if state of the
        history up to the same point, with their diff."""
        actual = self.actual.state_at(version)
        display = self.display_version(actual.version if version is not None else None)
        what_if = self.timeline.state_at(display)
        return WhatIfResult(
            self.stream_id,
            self.edits,
            actual,
            what_if,
            self.applied_upto(display),
            diff(actual.state, what_if.state),
            tuple(r for r in self.rejected if r.display_version <= display),
        )

    def projection_state(self, name: str, position: int | None = None) -> ProjectionState:
        """A read model over the changed history, as of a global position (None: head),
        in memory. Each event is fed at a position of its own (an inserted event right
        after the one it follows), so the fold's idempotency by position holds."""
        projection = self.engine.projection(name)
        head = self.source.head_position() if position is None else position
        fold = ProjectionFold(projection, self.registry)
        if projection.handles:
            wanted = EventFilter(event_types=list(projection.handles))
            fold.feed_many(_spread(self.source.read_all(0, head, filter=wanted)))
        fold.state.position = head
        fold.state.positions = {k: (p + 1) // 2 for k, p in fold.state.positions.items()}
        return fold.state

    def labels(self) -> list[str]:
        """What is changed, and what the domain refused, in short phrases."""
        return self.edits.describe() + [r.label() for r in self.rejected]


def _spread(records: Iterable[RecordedEvent]) -> Iterator[RecordedEvent]:
    """Positions doubled, an event sharing its predecessor's position one above it."""
    last = -1
    for record in records:
        position = record.position * 2
        if position <= last:
            position = last + 1
        last = position
        yield replace(record, position=position)
