"""What the timeline asks of the domain engine, and what it turns the answers into.

The timeline screen calls these functions from thread workers only. They read through the
engine's `Timeline` facade (``state_at``, ``event``, ``changes_at``, ``blame_at``,
``version_at_time``, ``numeric_paths``, ``series``) and return plain view data -- lines
ready to paint, times for the slider -- so the event loop does no decoding, folding or
formatting on a slider step. Keeping the engine calls in this one module also means a
change in the engine's facade is a change here, not in every widget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from explorer.widgets.event_detail import EventView, build_detail_lines
from explorer.widgets.field_chart import Series
from explorer.widgets.lines_view import Line, left_width_of
from explorer.widgets.state_tree import build_state_lines, get_field
from store.records import RecordedEvent

PREFERRED_FIELDS = ("balance", "total", "amount", "quantity", "count")
"""Numeric fields charted first when their name contains one of these (the demo's
``balance_cents`` is charted before ``version``-like counters)."""


@dataclass(frozen=True, slots=True)
class Step:
    """Everything one slider position shows, computed off the event loop."""

    version: int
    state_lines: list[Line]
    detail_lines: list[Line]
    changes: int = 0
    skipped: int = 0
    recorded_at: datetime | None = None
    occurred_at: datetime | None = None
    event_type: str = ""
    correlation_id: str | None = None
    state_left_width: int | None = None
    """Where the blame column starts (computed here, off the event loop)."""
    blamed: bool = True
    """False while the state was drawn without its blame column (first paint only)."""


@dataclass(slots=True)
class StreamOverview:
    """Loaded once when the timeline opens."""

    stream_id: str
    stream_type: str
    length: int
    extent_recorded: tuple[datetime, datetime] | None = None
    extent_occurred: tuple[datetime, datetime] | None = None
    numeric_paths: list[tuple[Any, ...]] = field(default_factory=list)


def event_view(decoded: Any) -> EventView:
    """Adapt the engine's decoded event (or a bare `RecordedEvent`) for the detail pane."""
    if isinstance(decoded, RecordedEvent):
        return EventView(record=decoded, error=decoded.decode_error)
    record = get_field(decoded, "recorded") or get_field(decoded, "record")
    data = get_field(decoded, "data")
    return EventView(
        record=record,
        upcast_data=data if isinstance(data, Mapping) else None,
        upcast_version=get_field(decoded, "schema_version"),
        upcast_chain=tuple(get_field(decoded, "chain", ()) or ()),
        error=get_field(decoded, "error") or getattr(record, "decode_error", None),
    )


def _state_of(result: Any) -> tuple[Mapping[str, Any], int]:
    """(state, number of skipped events) from `state_at`'s result."""
    if isinstance(result, Mapping):
        return result, 0
    state = get_field(result, "state", {}) or {}
    skipped = get_field(result, "skipped", ()) or ()
    count = skipped if isinstance(skipped, int) else len(skipped)
    return state, count


def compute_step(timeline: Any, version: int, with_blame: bool = True) -> Step:
    """State, changes, blame and the event at `version`, as lines (0 = before any event).

    `with_blame=False` skips blame: its first request makes the engine walk the whole
    stream once (≈1.5 s for 100k events), so the timeline first shows the state without it.
    """
    if version <= 0:
        return Step(0, build_state_lines({}), build_detail_lines(None))
    state, skipped = _state_of(timeline.state_at(version))
    decoded = timeline.event(version)
    view = event_view(decoded)
    changes: Sequence[Any] = list(timeline.changes_at(version) or ())
    blame: Sequence[Any] = list(timeline.blame_at(version) or ()) if with_blame else ()
    record = view.record
    state_lines = build_state_lines(state, changes, blame)
    return Step(
        version=version,
        state_lines=state_lines,
        state_left_width=left_width_of(state_lines) + 2,
        detail_lines=build_detail_lines(view),
        changes=len(changes),
        skipped=skipped,
        recorded_at=record.recorded_at,
        occurred_at=record.occurred_at,
        event_type=record.event_type,
        correlation_id=record.correlation_id,
        blamed=with_blame,
    )


def load_overview(engine: Any, source: Any, stream_id: str) -> tuple[Any, StreamOverview]:
    """Open the engine's timeline for `stream_id` and read what the screen shows once."""
    timeline = engine.timeline(stream_id)
    length = int(timeline.length)
    info = source.stream_info(stream_id)
    stream_type = info.stream_type if info is not None else ""
    overview = StreamOverview(stream_id, stream_type, length)
    if length:
        first, last = timeline.event(1), timeline.event(length)
        first_rec = event_view(first).record
        last_rec = event_view(last).record
        overview.extent_recorded = (first_rec.recorded_at, last_rec.recorded_at)
        low = min(first_rec.occurred_at, last_rec.occurred_at)
        high = max(first_rec.occurred_at, last_rec.occurred_at)
        overview.extent_occurred = (low, high)
        overview.numeric_paths = numeric_paths(timeline, length)
    return timeline, overview


def numeric_paths(timeline: Any, version: int) -> list[tuple[Any, ...]]:
    """Numeric fields of the state at `version`, the likely-interesting ones first."""
    paths = [_as_path(path) for path in (timeline.numeric_paths(version) or ())]

    def rank(path: tuple[Any, ...]) -> tuple[int, int, str]:
        name = str(path[-1]).lower() if path else ""
        preferred = next((i for i, word in enumerate(PREFERRED_FIELDS) if word in name), 99)
        return (preferred, len(path), ".".join(map(str, path)))

    return sorted(paths, key=rank)


def _as_path(path: Any) -> tuple[Any, ...]:
    if isinstance(path, tuple):
        return path
    if isinstance(path, list):
        return tuple(path)
    return tuple(part for part in str(path).split(".") if part)


def path_label(path: Sequence[Any]) -> str:
    return ".".join(str(part) for part in path) or "(root)"


def load_series(timeline: Any, path: tuple[Any, ...]) -> Series:
    """The field's value at every version where it is numeric, as a chart series."""
    raw = timeline.series(path)
    xs: list[float] = []
    ys: list[float] = []
    if isinstance(raw, tuple) and len(raw) == 2 and not isinstance(raw[0], int | float):
        pairs: Any = zip(raw[0], raw[1], strict=False)
    else:
        pairs = raw
    for x, y in pairs:
        if isinstance(y, bool) or not isinstance(y, int | float):
            continue
        xs.append(float(x))
        ys.append(float(y))
    return Series(path_label(path), xs, ys)


def version_at_time(timeline: Any, moment: datetime, axis: str) -> int:
    """The version current at `moment` on `axis` ("recorded" or "occurred")."""
    return int(timeline.version_at_time(moment, axis))
