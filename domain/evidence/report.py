"""The audit report of one stream at one moment: a plain model, then Markdown or HTML.

    text = render_report(engine, "account-000001", at=moment)            # Markdown
    text = render_report(engine, "account-000001", version=12, fmt="html")

`build_report` gathers everything a reviewer asks about a stream at a moment, from the
engine only (so any `EventSource` works and the explorer's timeline can call it for its
"export report" action): the state, field-by-field blame (who, when, which event and
command), every event up to that moment with actor, correlation id and both timestamps,
the schema upcasts applied, the events the derivation had to skip, the stored snapshots
and projection rows checked against the replay, and the store's chain verification
with its head digest. Renderers turn the model into text and escape every data string;
the model itself holds data exactly as stored.

With `what_if=WhatIfEdits(...)` the report also carries a *hypothetical* section (the
state had the history been different, its diff against the real state, and what the
domain would have refused), computed in memory by `domain.whatif` and rendered last,
under a heading that says it is not evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from eventscope.domain.blame import BlameEntry
from eventscope.domain.business_time import business_time_words
from eventscope.domain.diff import DiffEntry, diff
from eventscope.domain.errors import DomainError
from eventscope.domain.evidence.bundle import tool_version
from eventscope.domain.evidence.errors import EvidenceError
from eventscope.domain.timeline import Axis, SkippedEvent
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import Digest, JSONObject, SourceInfo, VerifyReport

Format = Literal["md", "html"]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of the report's history, as stored plus what the engine made of it."""

    version: int
    position: int
    event_id: str
    event_type: str
    schema_version: int
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    command: str | None
    occurred_at: datetime
    recorded_at: datetime
    hash: str
    data: JSONObject
    upcast_chain: tuple[str, ...] = ()
    upcast_schema_version: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """A stored snapshot or projection row compared with the replay from events."""

    kind: Literal["snapshot", "projection"]
    label: str  # "version 8 (bank-2.1, created ...)" or "account_balances / acct-1"
    status: Literal["matches", "differs", "unchecked"]
    differences: tuple[DiffEntry, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The store's hash-chain verification at the time the report was made."""

    has_chain: bool
    report: VerifyReport | None
    head: Digest | None

    def marks(self) -> dict[int, str]:
        """Position -> what is wrong with that event, for marking its row: "link broken"
        (its hash does not follow, or it was cut from the chain), "columns altered" or
        another `BadPosition.mark`."""
        if self.report is None:
            return {}
        return {bad.position: bad.mark for bad in self.report.bad_positions}


@dataclass(frozen=True, slots=True)
class HypotheticalSection:
    """A what-if over the same stream and moment: explicitly not evidence."""

    edits: list[str]
    actual_version: int
    what_if_version: int
    state: JSONObject
    differences: tuple[DiffEntry, ...]
    rejected: tuple[str, ...]


@dataclass
class AuditReport:
    """Everything a report shows; renderers only format it."""

    stream_id: str
    stream_type: str
    version: int
    latest_version: int
    requested_at: datetime | None
    requested_version: int | None
    axis: Axis
    moment: datetime | None  # recorded_at (or occurred_at) of `version`
    derivation: str
    source: SourceInfo
    generated_at: datetime
    tool_version: str
    state: JSONObject
    blame: list[BlameEntry]
    events: list[EventRow]
    skipped: list[SkippedEvent]
    claims: list[ClaimCheck] = field(default_factory=list)
    chain: ChainCheck | None = None
    # The business-time axis: what was asked about and what was folded, in that order.
    known_at: datetime | None = None
    applied_versions: tuple[int, ...] | None = None
    latest_recorded_at: datetime | None = None
    hypothetical: HypotheticalSection | None = None

    @property
    def upcasts(self) -> list[EventRow]:
        """Events whose stored payload was upcast before it was applied."""
        return [row for row in self.events if row.upcast_chain]

    @property
    def business_time(self) -> bool:
        return self.applied_versions is not None

    @property
    def title(self) -> str:
        if self.business_time and self.requested_at is not None:
            return f"Audit report: {self.stream_id} as of business time {self.requested_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"Audit report: {self.stream_id} at version {self.version}"

    def asked(self, show: Callable[[datetime | None], str]) -> str:
        """What the report answers, in words ("as of business time O, as known at R")."""
        if self.business_time and self.requested_at is not None:
            return business_time_words(
                self.requested_at, self.known_at, self.latest_recorded_at, show
            )
        if self.requested_at is not None:
            return f"as of {show(self.requested_at)} ({self.axis} time)"
        if self.requested_version is not None:
            return f"at version {self.requested_version}"
        return "at its latest version"

    @property
    def events_heading(self) -> str:
        if self.business_time:
            return (
                f"Events applied, in business-time order ({len(self.events)} of "
                f"{self.latest_version})"
            )
        return f"Events up to version {self.version}"


def build_report(
    engine: Any,
    stream_id: str,
    *,
    at: datetime | None = None,
    version: int | None = None,
    axis: Axis = "recorded",
    known_at: datetime | None = None,
    verify_chain: bool = True,
    generated_at: datetime | None = None,
    progress: ProgressCallback | None = None,
    what_if: Any = None,
) -> AuditReport:
    """Gather the report of `stream_id` at a time (`at` on `axis`), a version, or latest.

    On the occurred axis `at` is business time O and `known_at` R (default everything
    recorded): the state, blame and event list are those of the events applied, in
    business-time order. `verify_chain=False` skips the whole-store chain walk (the
    report then says so) -- for a caller that has just verified, such as the explorer's
    integrity screen.
    """
    if at is not None and version is not None:
        raise EvidenceError("give a version or a time, not both")
    if known_at is not None and (at is None or axis != "occurred"):
        raise EvidenceError("a known-at time needs a business time (at, on the occurred axis)")
    asked_version = version
    timeline = engine.timeline(stream_id)
    info = engine.stream_info(stream_id)
    business = at is not None and axis == "occurred"
    if business:
        state_at = timeline.state_as_of(at, known_at)
        blame = timeline.blame_as_of(at, known_at)
        versions = list(state_at.applied_versions or ())
        moment = at
    else:
        if at is not None:
            version = timeline.version_at_time(at, axis)
        state_at = timeline.state_at(version)
        blame = timeline.blame_at(state_at.version)
        versions = list(range(1, state_at.version + 1))
        moment = timeline.time_of(state_at.version, axis) if state_at.version else None
    version = state_at.version
    events = [_row(timeline, v) for v in versions]
    source = engine.source
    return AuditReport(
        stream_id=stream_id,
        stream_type=info.stream_type,
        version=version,
        latest_version=timeline.length,
        requested_at=at,
        requested_version=asked_version,
        axis=axis,
        moment=moment,
        derivation=state_at.derivation,
        source=source.describe(),
        generated_at=generated_at or datetime.now(UTC),
        tool_version=tool_version(),
        state=state_at.state,
        blame=blame,
        events=events,
        skipped=list(state_at.skipped),
        claims=_snapshot_checks(engine, info.stream_type, stream_id, version, timeline)
        + _projection_checks(engine, stream_id),
        chain=_chain(source, progress) if verify_chain else None,
        known_at=known_at if business else None,
        applied_versions=state_at.applied_versions,
        latest_recorded_at=timeline.latest_recorded_at,
        hypothetical=_hypothetical(engine, stream_id, version, what_if),
    )


def _hypothetical(
    engine: Any, stream_id: str, version: int, edits: Any
) -> HypotheticalSection | None:
    """The what-if section (None without edits), at the report's version."""
    if edits is None or edits.is_empty:
        return None
    from eventscope.domain.whatif import WhatIf

    result = WhatIf(engine, stream_id, edits).result(version)
    return HypotheticalSection(
        edits=edits.describe(),
        actual_version=result.actual.version,
        what_if_version=result.applied_version,
        state=result.what_if.state,
        differences=tuple(result.differences),
        rejected=tuple(r.label() for r in result.rejected),
    )


def render_report(
    engine: Any,
    stream_id: str,
    at: datetime | None = None,
    version: int | None = None,
    fmt: Format = "md",
    *,
    axis: Axis = "recorded",
    known_at: datetime | None = None,
    verify_chain: bool = True,
    what_if: Any = None,
) -> str:
    """The report as Markdown (``fmt="md"``) or one self-contained HTML page (``"html"``).

    Raises `StreamNotFound`, `VersionOutOfRange` or `EvidenceError` with one sentence.
    """
    report = build_report(
        engine,
        stream_id,
        at=at,
        version=version,
        axis=axis,
        known_at=known_at,
        verify_chain=verify_chain,
        what_if=what_if,
    )
    if fmt == "md":
        from eventscope.domain.evidence.render_md import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from eventscope.domain.evidence.render_html import render_html

        return render_html(report)
    raise EvidenceError(f"a report format is 'md' or 'html', not {fmt!r}")


def _row(timeline: Any, version: int) -> EventRow:
    decoded = timeline.event(version)
    record = decoded.recorded
    command = record.metadata.get("command")
    upcast = decoded.chain
    return EventRow(
        version=record.version,
        position=record.position,
        event_id=record.event_id,
        event_type=record.event_type,
        schema_version=record.schema_version,
        actor=record.actor,
        correlation_id=record.correlation_id,
        causation_id=record.causation_id,
        command=command if isinstance(command, str) else None,
        occurred_at=record.occurred_at,
        recorded_at=record.recorded_at,
        hash=record.hash,
        data=record.data,
        upcast_chain=tuple(upcast),
        upcast_schema_version=decoded.schema_version if upcast else None,
        error=decoded.error,
    )


def _snapshot_checks(
    engine: Any, stream_type: str, stream_id: str, version: int, timeline: Any
) -> list[ClaimCheck]:
    """Stored snapshots up to `version`, each against the replay at its version."""
    out: list[ClaimCheck] = []
    generic = engine.folder_for(stream_type).name == "generic"
    for snapshot in engine.source.snapshots(stream_id):
        if snapshot.version > version:
            continue
        label = (
            f"snapshot at version {snapshot.version} (written by "
            f"{snapshot.aggregate_type or 'generic'} code {snapshot.code_version}, state "
            f"schema {snapshot.schema_version}, created "
            f"{snapshot.created_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
        if generic and snapshot.aggregate_type not in ("", "generic"):
            out.append(
                ClaimCheck(
                    "snapshot",
                    label,
                    "unchecked",
                    note=f"written by {snapshot.aggregate_type}, whose code is not loaded "
                    "(use --domain)",
                )
            )
            continue
        entries = diff(snapshot.state, timeline.state_at(snapshot.version).state)
        out.append(
            ClaimCheck("snapshot", label, "differs" if entries else "matches", tuple(entries))
        )
    return out


def _projection_checks(engine: Any, stream_id: str) -> list[ClaimCheck]:
    """Stored projection rows keyed by this stream, against the replay as of the store's
    checkpoint (read models hold their current claim, not a history)."""
    out: list[ClaimCheck] = []
    replayable = set(engine.projection_names())
    for name in engine.source.projection_names():
        row = engine.source.projection_row(name, stream_id)
        if row is None:
            continue
        label = f"projection {name}, row {stream_id} (last changed at position {row.position})"
        if name not in replayable:
            out.append(
                ClaimCheck(
                    "projection", label, "unchecked", note="its code is not loaded (use --domain)"
                )
            )
            continue
        try:
            entries = engine.diff_projection(name, stream_id)
        except DomainError as exc:
            out.append(ClaimCheck("projection", label, "unchecked", note=str(exc)))
            continue
        checkpoint = engine.source.checkpoints().get(name)
        note = f"replayed as of the store's checkpoint {checkpoint}" if checkpoint else ""
        out.append(
            ClaimCheck(
                "projection", label, "differs" if entries else "matches", tuple(entries), note
            )
        )
    return out


def _chain(source: Any, progress: ProgressCallback | None) -> ChainCheck:
    """The chain walk, or for a source without one the structural checks that stand in
    for it (`store.structural_check`): a report always says what was checked."""
    from eventscope.store.structural_check import verify_source

    info = source.describe()
    report = verify_source(source, progress=progress)
    if not info.has_hash_chain:
        return ChainCheck(False, report, None)
    head = report.head if report.ok else source.head_digest()
    return ChainCheck(True, report, head)
