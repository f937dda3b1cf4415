"""Field history: every event that changed one field, with the value before and after.

Blame answers "who set this field last"; an analyst asking "why is this balance wrong?"
needs the whole story of the field -- each deposit, fee and correction that moved it,
with who did it and when. The history is read through the timeline's public `state_at`
(a checkpoint plus at most K applies per version), so it is exactly the fold the state
pane shows, for native and foreign sources and for plugin aggregates alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from eventscope.domain.diff import Path, same
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import JSONObject, RecordedEvent, format_timestamp

ChangeKind = Literal["added", "removed", "changed"]

_ABSENT: Any = object()


class StateHistory(Protocol):
    """What field history reads of a `Timeline`."""

    @property
    def length(self) -> int: ...

    def state_at(self, version: int | None = None) -> Any: ...

    def record(self, version: int) -> RecordedEvent: ...


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One event that changed the field: `before`/`after` are None when absent."""

    version: int
    position: int
    event_type: str
    actor: str | None
    recorded_at: datetime
    occurred_at: datetime
    kind: ChangeKind
    before: Any = None
    after: Any = None

    def to_json(self) -> JSONObject:
        return {
            "version": self.version,
            "position": self.position,
            "event_type": self.event_type,
            "actor": self.actor,
            "recorded_at": format_timestamp(self.recorded_at),
            "occurred_at": format_timestamp(self.occurred_at),
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
        }


def value_at(state: Any, path: Sequence[str | int]) -> Any:
    """The value at `path` in a JSON-like state, or a private "absent" marker."""
    node = state
    for step in path:
        if type(node) is dict and type(step) is str:
            if step not in node:
                return _ABSENT
            node = node[step]
        elif type(node) is list and type(step) is int and 0 <= step < len(node):
            node = node[step]
        else:
            return _ABSENT
    return node


def field_history(
    timeline: StateHistory,
    path: Path,
    *,
    progress: ProgressCallback | None = None,
    every: int = 2000,
) -> list[FieldChange]:
    """The events that changed the value at `path`, oldest first (JSON equality with
    types kept apart, as in `domain.diff`: ``1`` -> ``1.0`` is a change)."""
    length = timeline.length
    previous = value_at(timeline.state_at(0).state, path)
    out: list[FieldChange] = []
    for version in range(1, length + 1):
        current = value_at(timeline.state_at(version).state, path)
        if progress is not None and version % every == 0:
            progress(version, length)
        if current is _ABSENT and previous is _ABSENT:
            continue
        if current is not _ABSENT and previous is not _ABSENT and same(previous, current):
            continue
        if previous is _ABSENT:
            kind: ChangeKind = "added"
        elif current is _ABSENT:
            kind = "removed"
        else:
            kind = "changed"
        record = timeline.record(version)
        out.append(
            FieldChange(
                version,
                record.position,
                record.event_type,
                record.actor,
                record.recorded_at,
                record.occurred_at,
                kind,
                None if previous is _ABSENT else previous,
                None if current is _ABSENT else current,
            )
        )
        previous = current
    if progress is not None:
        progress(length, length)
    return out
