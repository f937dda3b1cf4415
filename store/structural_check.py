"""What `verify` checks on a source without a hash chain, once, over `EventSource`.

Why: JSON Lines without hashes, the `eventsourcing` library's tables and every foreign
store (Message DB, Emmett, Marten, Eventuous, Axon, ...) cannot prove that nothing was
altered; reporting "ok" for them would claim a proof that does not exist. What can be
checked is the history's shape, which is what the explorer's views rely on:
* global positions strictly increasing;
* each stream's versions contiguous from 1;
* the stream catalog agreeing with the events (version, count, first/last time);
* payloads decodable (no `decode_error`, nothing the source skipped as malformed).
The report says `chain=False` and names these checks (`CHECKS`), so the CLI, the
explorer and reports can say plainly that integrity is not proven.

Memory: one small tuple per stream (the catalog comparison needs every stream's
figures); events are streamed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from eventscope.store.progress import ProgressCallback
from eventscope.store.records import (
    BAD_POSITIONS_KEPT,
    BadPosition,
    Digest,
    StreamInfo,
    VerifyReport,
)
from eventscope.store.source import EventSource

CHECKS = (
    "positions strictly increasing",
    "versions contiguous in every stream",
    "stream catalog agreeing with the events",
    "payloads decodable",
)
NO_CHAIN = (
    "this source keeps no hash chain, so its integrity cannot be proven; checked "
    "instead: " + ", ".join(CHECKS)
)
_TICK = 5000
_PROBLEMS_KEPT = 1000


def verify_source(
    source: EventSource, against: Digest | None = None, progress: ProgressCallback | None = None
) -> VerifyReport:
    """`source.verify` for a source with a hash chain; otherwise the source's own
    check (for what it skipped as malformed) and the structural checks, `chain=False`."""
    if source.describe().has_hash_chain:
        return source.verify(against=against, progress=progress)
    own = source.verify(against=against)
    if against is not None:  # the source explains why a digest cannot be checked
        return dataclasses.replace(own, chain=False, checks=CHECKS)
    report = structural_check(
        source, progress, malformed=own.malformed, malformed_reason=own.reason
    )
    if own.reason and own.reason != report.reason:
        # what the source itself knows (commands left out, its catalog running ahead)
        ok = report.ok and own.ok
        reason = f"{report.reason}; {own.reason}" if report.ok else report.reason
        if not own.ok and report.ok:
            reason = own.reason
        return dataclasses.replace(report, ok=ok, reason=reason)
    return report


@dataclass(slots=True)
class _Stream:
    """One stream's figures; `prefix` is the highest version v such that 1..v were all
    seen, `ahead` the versions seen beyond it (version -> position). Why: a source's
    global order may interleave a stream's versions out of order (Axon's `global_index`
    under Hibernate's block allocation), so contiguity is judged per stream as a set,
    not in global order; `ahead` stays small unless versions are really missing."""

    stream_type: str
    version: int
    count: int
    first: datetime
    last: datetime
    prefix: int = 0
    ahead: dict[int, int] = dataclasses.field(default_factory=dict)

    def take(self, version: int, position: int) -> bool:
        """Record `version`; False when it was already seen (a duplicate)."""
        if version <= self.prefix or version in self.ahead:
            return False
        if version == self.prefix + 1:
            self.prefix = version
            while self.prefix + 1 in self.ahead:
                self.prefix += 1
                del self.ahead[self.prefix]
        else:
            self.ahead[version] = position
        return True


def structural_check(
    source: EventSource,
    progress: ProgressCallback | None = None,
    *,
    malformed: int = 0,
    malformed_reason: str | None = None,
) -> VerifyReport:
    """Walk every event once and compare the catalog; see the module docstring."""
    total = source.event_count()
    bad: list[BadPosition] = []
    bad_count = 0
    streams: dict[str, _Stream] = {}
    previous = 0
    checked = 0

    def note(position: int, kind: str, reason: str) -> None:
        nonlocal bad_count
        bad_count += 1
        if len(bad) < BAD_POSITIONS_KEPT:
            bad.append(BadPosition(position, kind, reason))

    for event in source.read_all():
        position = event.position
        if position <= previous:
            note(position, "order", f"event {position} comes after position {previous}")
        previous = max(previous, position)
        seen = streams.get(event.stream_id)
        if event.decode_error is not None:
            note(position, "malformed", f"event {position} cannot be decoded: {event.decode_error}")
        if seen is None:
            seen = streams[event.stream_id] = _Stream(
                event.stream_type, event.version, 0, event.recorded_at, event.recorded_at
            )
        if not seen.take(event.version, position):
            note(
                position,
                "version",
                f"event {position} repeats version {event.version} of {event.stream_id!r}",
            )
        seen.version = max(seen.version, event.version)
        seen.count += 1
        seen.first = min(seen.first, event.recorded_at)
        seen.last = max(seen.last, event.recorded_at)
        checked += 1
        if progress is not None and checked % _TICK == 0:
            progress(checked, max(total, checked))
    if progress is not None:
        progress(checked, max(total, checked))
    for stream_id, seen in streams.items():
        if seen.ahead:
            version = min(seen.ahead)
            note(
                seen.ahead[version],
                "version",
                f"event {seen.ahead[version]} is version {version} of {stream_id!r}, "
                f"but version {seen.prefix + 1} is missing",
            )
    problems = _catalog_problems(source, streams)
    ok = not bad_count and not problems and not malformed
    reason = NO_CHAIN  # the first problem found, if any (the text says NO_CHAIN anyway)
    if malformed and malformed_reason:
        reason = malformed_reason
    elif bad:
        reason = bad[0].reason
    elif problems:
        reason = problems[0]
    return VerifyReport(
        ok=ok,
        checked=checked,
        first_bad_position=min((item.position for item in bad), default=None),
        reason=reason,
        malformed=malformed,
        bad_positions=tuple(sorted(bad, key=lambda item: item.position)),
        bad_count=bad_count,
        chain=False,
        checks=CHECKS,
        catalog_problems=tuple(problems),
    )


def _catalog(source: EventSource) -> Iterator[StreamInfo]:
    after: str | None = None
    while True:
        page = source.streams(after=after, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].stream_id


def _catalog_problems(source: EventSource, streams: dict[str, _Stream]) -> list[str]:
    problems: list[str] = []
    listed: set[str] = set()
    for info in _catalog(source):
        listed.add(info.stream_id)
        found = streams.get(info.stream_id)
        if found is None:
            if not info.version and not info.event_count:
                continue  # a stream the store lists as empty (Eventuous's version -1)
            problems.append(f"stream {info.stream_id!r} is in the catalog but has no events")
            continue
        wrong = [
            f"{name} {said!r} (the events say {real!r})"
            for name, said, real in (
                ("version", info.version, found.version),
                ("event count", info.event_count, found.count),
                ("first recorded time", info.first_recorded_at, found.first),
                ("last recorded time", info.last_recorded_at, found.last),
            )
            if said is not None and said != real
        ]
        if wrong:
            problems.append(f"stream {info.stream_id!r}: the catalog records " + ", ".join(wrong))
        if len(problems) >= _PROBLEMS_KEPT:
            return problems
    for stream_id in sorted(set(streams) - listed)[: _PROBLEMS_KEPT - len(problems)]:
        problems.append(f"stream {stream_id!r} has events but no catalog row")
    return problems
