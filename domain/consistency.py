"""Consistency: every stored claim (snapshot, projection row) checked against the events.

Snapshots are compared with the replay at their version (with the plugin's aggregate when
it has one for the stream type; a snapshot written by an aggregate whose code is not loaded
is listed as *unchecked*, because comparing it with the generic fold would be noise).
Projection rows are compared with a replay of the projection as of the store's checkpoint
for it; all projections sharing a checkpoint are replayed in one read of the log. Rows the
replay has but the store lacks are reported too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from eventscope.domain.diff import DiffEntry, diff
from eventscope.domain.projection import Projection
from eventscope.domain.projection_runner import ProjectionState, evaluate_many
from eventscope.domain.timeline import Folder, Timeline
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import JSONObject, Snapshot, StreamInfo, format_timestamp

if TYPE_CHECKING:
    from eventscope.domain.engine import Engine


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """A stored claim (snapshot or projection row) that the events do not support."""

    kind: Literal["snapshot", "projection"]
    differences: list[DiffEntry]
    stream_id: str | None = None
    version: int | None = None
    projection: str | None = None
    key: str | None = None
    position: int | None = None
    # A snapshot's provenance: which code wrote the claim, and when.
    code_version: str | None = None
    created_at: datetime | None = None

    def to_json(self) -> JSONObject:
        return {
            "kind": self.kind,
            "stream_id": self.stream_id,
            "version": self.version,
            "projection": self.projection,
            "key": self.key,
            "position": self.position,
            "code_version": self.code_version,
            "created_at": format_timestamp(self.created_at) if self.created_at else None,
            "differences": [d.to_json() for d in self.differences],
        }


@dataclass
class ConsistencyReport:
    """What `Engine.consistency` checked, what disagrees, and what it could not check."""

    checked_snapshots: int = 0
    checked_rows: int = 0
    problems: list[Inconsistency] = field(default_factory=list)
    # Claims that need code we do not have (e.g. a snapshot written by an aggregate class
    # that no --domain plugin provides); comparing them to the generic fold would be noise.
    unchecked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> JSONObject:
        return {
            "ok": self.ok,
            "checked_snapshots": self.checked_snapshots,
            "checked_rows": self.checked_rows,
            "problems": [p.to_json() for p in self.problems],
            "unchecked": self.unchecked,
        }


class ConsistencyChecker:
    """One consistency run over an engine's source (use `Engine.consistency`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _all_streams(self) -> Iterator[StreamInfo]:
        after: str | None = None
        while True:
            page = self.engine.source.streams(after=after, limit=500)
            yield from page
            if len(page) < 500:
                return
            after = page[-1].stream_id

    def run(self, progress: ProgressCallback | None = None) -> ConsistencyReport:
        """Check every stored snapshot and projection row against a replay from events."""
        report = ConsistencyReport()
        projection_names = self.engine.source.projection_names()
        total = self.engine.source.count_streams() + len(projection_names)
        done = 0
        for info in self._all_streams():
            snapshots = self.engine.source.snapshots(info.stream_id)
            if snapshots:
                self._check_snapshots(info, snapshots, report)
            done += 1
            if progress is not None and done % 100 == 0:
                progress(done, total)
        replays = self._replay_projections(projection_names)
        for name in projection_names:
            self._check_projection(name, report, replays.get(name))
            done += 1
            if progress is not None:
                progress(done, total)
        if progress is not None:
            progress(total, total)
        return report

    def _check_snapshots(
        self, info: StreamInfo, snapshots: list[Snapshot], report: ConsistencyReport
    ) -> None:
        folder = self.engine.folder_for(info.stream_type)
        timeline: Timeline | None = None
        for snapshot in snapshots:
            if type(folder) is Folder and snapshot.aggregate_type not in ("", "generic"):
                report.unchecked.append(
                    f"snapshot of {info.stream_id} at version {snapshot.version} "
                    f"(written by {snapshot.aggregate_type}, whose code is not loaded)"
                )
                continue
            if snapshot.version > info.version:
                report.problems.append(
                    Inconsistency(
                        "snapshot",
                        [DiffEntry((), "changed", snapshot.version, info.version)],
                        info.stream_id,
                        snapshot.version,
                        code_version=snapshot.code_version,
                        created_at=snapshot.created_at,
                    )
                )
                continue
            if timeline is None:
                timeline = Timeline(
                    self.engine.source,
                    info.stream_id,
                    folder=folder,
                    registry=self.engine.registry,
                    checkpoint_every=self.engine.checkpoint_every,
                )
            report.checked_snapshots += 1
            entries = diff(snapshot.state, timeline.state_at(snapshot.version).state)
            if entries:
                report.problems.append(
                    Inconsistency(
                        "snapshot",
                        entries,
                        info.stream_id,
                        snapshot.version,
                        code_version=snapshot.code_version,
                        created_at=snapshot.created_at,
                    )
                )

    def _replay_projections(self, names: list[str]) -> dict[str, ProjectionState]:
        """Replays of every checkable projection as of its checkpoint, one read of the
        log per distinct checkpoint (projections usually share one)."""
        if self.engine.plugin is None:
            return {}
        checkpoints = self.engine.source.checkpoints()
        groups: dict[int, list[Projection]] = {}
        for name in names:
            if name in self.engine.plugin.projection_names() and name in checkpoints:
                groups.setdefault(checkpoints[name], []).append(self.engine.plugin.projection(name))
        out: dict[str, ProjectionState] = {}
        for position, projections in groups.items():
            out.update(
                evaluate_many(self.engine.source, projections, position, self.engine.registry)
            )
        return out

    def _check_projection(
        self, name: str, report: ConsistencyReport, replay: ProjectionState | None = None
    ) -> None:
        if self.engine.plugin is None or name not in self.engine.plugin.projection_names():
            report.unchecked.append(f"projection {name} (its code is not loaded)")
            return
        checkpoint = self.engine.source.checkpoints().get(name)
        after: str | None = None
        rows = []
        while True:
            page = self.engine.source.projection_rows(name, after=after, limit=500)
            rows.extend(page)
            if len(page) < 500:
                break
            after = page[-1].key
        position = (
            checkpoint if checkpoint is not None else max((r.position for r in rows), default=0)
        )
        if replay is None or replay.position != position:
            replay = self.engine.projection_state(name, position)
        stored_keys = set()
        for row in rows:
            stored_keys.add(row.key)
            report.checked_rows += 1
            expected = replay.documents.get(row.key)
            if expected is None:
                entries = [DiffEntry((), "removed", row.document, None)]
            else:
                entries = diff(row.document, expected)
            if entries:
                report.problems.append(
                    Inconsistency(
                        "projection", entries, projection=name, key=row.key, position=row.position
                    )
                )
        for key in sorted(set(replay.documents) - stored_keys):
            report.problems.append(
                Inconsistency(
                    "projection",
                    [DiffEntry((), "added", None, replay.documents[key])],
                    projection=name,
                    key=key,
                    position=replay.positions.get(key),
                )
            )
