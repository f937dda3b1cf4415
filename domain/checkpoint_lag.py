"""Each projection checkpoint with its lag against the head, over any `EventSource`.

Why: a stored projection row is only as current as its checkpoint; an auditor reading a
read model must see how far behind the head it is (issue 14). Lag is counted in events
stored after the checkpoint, not as a difference of positions, because global positions
have gaps on several sources (Marten's `seq_id`, Axon's `global_index`). Sources that can
count it in SQL say so (`checkpoint_lags`, `processor_lags`); otherwise the events after
the checkpoint are read, which costs only the lag itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope.store.records import JSONObject
from eventscope.store.source import EventSource


@dataclass(frozen=True, slots=True)
class CheckpointLag:
    """One checkpoint: the position it has applied up to and the events after it."""

    name: str
    position: int
    head: int
    lag_events: int

    def to_json(self) -> JSONObject:
        return {
            "name": self.name,
            "position": self.position,
            "head": self.head,
            "lag_events": self.lag_events,
        }


def checkpoint_lags(source: EventSource) -> list[CheckpointLag]:
    """Every checkpoint of `source`, in name order, with its lag."""
    checkpoints = source.checkpoints()
    if not checkpoints:
        return []
    head = source.head_position()
    counted = _counted_by_source(source)
    out = []
    for name in sorted(checkpoints):
        position = checkpoints[name]
        lag = counted.get(name)
        if lag is None:
            lag = sum(1 for _ in source.read_all(position)) if position < head else 0
        out.append(CheckpointLag(name, position, head, lag))
    return out


def _counted_by_source(source: EventSource) -> dict[str, int]:
    """Lags the source counts itself (one SQL count each), by checkpoint name."""
    own = getattr(source, "checkpoint_lags", None)
    if callable(own):
        return {lag.name: int(lag.behind) for lag in own()}
    processors = getattr(source, "processor_lags", None)
    if callable(processors):
        return {name: int(lag) for name, lag in processors().items()}
    return {}
