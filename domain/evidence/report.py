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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from domain.blame import BlameEntry
from domain.diff import DiffEntry, diff
from domain.errors import DomainError
from domain.evidence.bundle import tool_version
from domain.evidence.errors import EvidenceError
from domain.timeline import Axis, SkippedEvent
from store.records import Digest, JSONObject, SourceInfo, VerifyReport

Format = Literal["md", "html"]
ProgressCallback = Callable[[int, int], None]


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

    @property
    def upcasts(self) -> list[EventRow]:
        """Events whose stored payload was upcast before it was applied."""
        return [row for row in self.events if row.upcast_chain]

    @property
    def title(self) -> str:
        return f"Audit report: {self.stream_id} at version {self.version}"


def build_report(
    engine: Any,
    stream_id: str,
    *,
    at: datetime | None = None,
    version: int | None = None,
    axis: Axis = "recorded",
    verify_chain: bool = True,
    generated_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> AuditReport:
    """Gather the report of `stream_id` at a time (`at` on `axis`), a version, or latest.

    `verify_chain=False` skips the whole-store chain walk (the report then says so) --
    for a caller that has just verified, such as the explorer's integrity screen.
    """
    if at is not None and version is not None:
        raise EvidenceError("give a version or a time, not both")
    asked_version = version
    timeline = engine.timeline(stream_id)
    info = engine.stream_info(stream_id)
    if at is not None:
        version = timeline.version_at_time(at, axis)
    state_at = timeline.state_at(version)
    version = state_at.version
    moment = timeline.time_of(version, axis) if version else None
    events = [_row(timeline, v) for v in range(1, version + 1)]
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
        blame=timeline.blame_at(version),
        events=events,
        skipped=list(state_at.skipped),
        claims=_snapshot_checks(engine, info.stream_type, stream_id, version, timeline)
        + _projection_checks(engine, stream_id),
        chain=_chain(source, progress) if verify_chain else None,
    )


def render_report(
    engine: Any,
    stream_id: str,
    at: datetime | None = None,
    version: int | None = None,
    fmt: Format = "md",
    *,
    axis: Axis = "recorded",
    verify_chain: bool = True,
) -> str:
    """The report as Markdown (``fmt="md"``) or one self-contained HTML page (``"html"``).

    Raises `StreamNotFound`, `VersionOutOfRange` or `EvidenceError` with one sentence.
    """
    report = build_report(
        engine, stream_id, at=at, version=version, axis=axis, verify_chain=verify_chain
    )
    if fmt == "md":
        from domain.evidence.render_md import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from domain.evidence.render_html import render_html

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
            f"snapshot at version {snapshot.version} ({snapshot.aggregate_type or 'generic'} "
            f"{snapshot.code_version}, created {snapshot.created_at:%Y-%m-%d %H:%M:%S} UTC)"
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
    info = source.describe()
    if not info.has_hash_chain:
        return ChainCheck(False, None, None)
    report = source.verify(progress=progress)
    head = report.head if report.ok else source.head_digest()
    return ChainCheck(True, report, head)
