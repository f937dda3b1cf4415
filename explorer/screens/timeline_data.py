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

from eventscope.explorer.widgets.event_detail import EventView, build_detail_lines
from eventscope.explorer.widgets.field_chart import Series
from eventscope.explorer.widgets.lines_view import Line, left_width_of
from eventscope.explorer.widgets.state_tree import build_state_lines, format_time, get_field
from eventscope.store.records import RecordedEvent

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
    position: int | None = None
    """The event's global position: how its integrity mark is found (`integrity_marks`)."""
    blamed: bool = True
    """False while the state was drawn without its blame column (first paint only)."""
    mode: tuple[Any, ...] = ("version",)
    """Which question the step answers: ("version",) or ("occurred", as_of, known_at)."""
    business: str = ""
    """On the occurred axis: "as of business time O, as known at R" in words."""
    applied: frozenset[int] | None = None
    """On the occurred axis: the versions in the answer (the others are dimmed)."""
    as_of: datetime | None = None
    known_at: datetime | None = None
    refused: tuple[Any, ...] = ()
    """Events that could not be applied in business-time order (SkippedEvent)."""


@dataclass(slots=True)
class StreamOverview:
    """Loaded once when the timeline opens."""

    stream_id: str
    stream_type: str
    length: int
    extent_recorded: tuple[datetime, datetime] | None = None
    extent_occurred: tuple[datetime, datetime] | None = None
    extent_recorded_text: tuple[str, str] | None = None
    """The first and last recorded times as shown: "unknown" where the source has none."""
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
        position=record.position,
        blamed=with_blame,
    )


def compute_business_step(
    timeline: Any,
    version: int,
    known_at: datetime | None,
    as_of: datetime | None = None,
    with_blame: bool = True,
) -> Step:
    """The occurred axis at the selected event `version`: the state as of business time
    O (`as_of`, default the event's occurred_at), as known at R (`known_at`, None =
    everything recorded) -- the events applied in occurred order -- with what applying
    this event changed in that order, blame in that order, and which versions are in the
    answer (the event list dims the others)."""
    from eventscope.domain.business_time import business_time_words

    record = timeline.record(version) if version > 0 else None
    moment = as_of if as_of is not None else (record.occurred_at if record else None)
    mode = ("occurred", as_of, known_at)
    if moment is None:  # before the first event: nothing has happened yet
        return Step(0, build_state_lines({}), build_detail_lines(None), mode=mode)
    result = timeline.state_as_of(moment, known_at)
    applied = frozenset(result.applied_versions or ())
    changes: Sequence[Any] = (
        list(timeline.changes_in_business_order(version, known_at) or ())
        if version in applied
        else []
    )
    blame: Sequence[Any] = list(timeline.blame_as_of(moment, known_at) or ()) if with_blame else ()
    state_lines = build_state_lines(result.state, changes, blame)
    words = business_time_words(
        moment, known_at, timeline.latest_recorded_at, lambda t: format_time(t) + " UTC"
    )
    if record is None:
        view_lines = build_detail_lines(None)
        event_type, correlation, recorded, occurred = "", None, None, None
    else:
        view = event_view(timeline.event(version))
        refused = next((s for s in result.skipped if s.version == version), None)
        if refused is not None and view.error is None:
            view = EventView(
                record=view.record,
                upcast_data=view.upcast_data,
                upcast_version=view.upcast_version,
                upcast_chain=view.upcast_chain,
                error=refused.reason,
            )
        view_lines = build_detail_lines(view)
        event_type, correlation = record.event_type, record.correlation_id
        recorded, occurred = record.recorded_at, record.occurred_at
    return Step(
        version=version,
        state_lines=state_lines,
        state_left_width=left_width_of(state_lines) + 2,
        detail_lines=view_lines,
        changes=len(changes),
        skipped=len(result.skipped),
        recorded_at=recorded,
        occurred_at=occurred,
        event_type=event_type,
        correlation_id=correlation,
        position=record.position if record is not None else None,
        blamed=with_blame,
        mode=mode,
        business=words,
        applied=applied,
        as_of=moment,
        known_at=known_at,
        refused=tuple(result.skipped),
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
        overview.extent_recorded_text = (
            first_rec.time_text("recorded_at")[:19],
            last_rec.time_text("recorded_at")[:19],
        )
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


@dataclass(frozen=True, slots=True)
class FieldData:
    """One numeric field at every version where it is a number, with each version's
    times on both axes, so the chart can follow whichever axis the slider is on."""

    path: tuple[Any, ...]
    versions: list[int]
    values: list[float]
    recorded: list[float]
    occurred: list[float]
    unit: Any = None
    unit_name: str = ""

    def series(self, axis: str) -> Series:
        """The chart series on `axis`: over versions, or over recorded/occurred time
        (points in time order: a backdated event lands where it occurred)."""
        label = path_label(self.path)
        if axis == "version":
            xs = [float(v) for v in self.versions]
            return Series(label, xs, list(self.values), unit=self.unit, unit_name=self.unit_name)
        times = self.recorded if axis == "recorded" else self.occurred
        pairs = sorted(zip(times, self.values, strict=True))
        return Series(
            label,
            [t for t, _ in pairs],
            [v for _, v in pairs],
            x_is_time=True,
            unit=self.unit,
            unit_name=self.unit_name,
        )


def load_series(timeline: Any, path: tuple[Any, ...], engine: Any = None) -> FieldData:
    """The field's value at every version where it is numeric, with the event times."""
    raw = timeline.series(path)
    if isinstance(raw, tuple) and len(raw) == 2 and not isinstance(raw[0], int | float):
        pairs: Any = zip(raw[0], raw[1], strict=False)
    else:
        pairs = raw
    versions: list[int] = []
    values: list[float] = []
    recorded: list[float] = []
    occurred: list[float] = []
    for x, y in pairs:
        if isinstance(y, bool) or not isinstance(y, int | float):
            continue
        version = int(x)
        record = timeline.record(version) if version else None
        versions.append(version)
        values.append(float(y))
        recorded.append(record.recorded_at.timestamp() if record else 0.0)
        occurred.append(record.occurred_at.timestamp() if record else 0.0)
    unit = display_unit(engine, path)
    unit_name = ""
    if unit is not None and versions:
        state, _ = _state_of(timeline.state_at(versions[-1]))
        parent = state
        for part in path[:-1]:
            parent = parent.get(part, {}) if isinstance(parent, Mapping) else {}
        unit_name = unit.name(parent if isinstance(parent, Mapping) else None)
    return FieldData(path, versions, values, recorded, occurred, unit, unit_name)


def display_unit(engine: Any, path: Sequence[Any]) -> Any:
    """The display unit the loaded domain declares for a field (None: plain numbers)."""
    from eventscope.domain.units import unit_for

    plugin = getattr(engine, "plugin", None)
    units = getattr(plugin, "display_units", None) or {}
    return unit_for(units, path)


def version_at_time(timeline: Any, moment: datetime, axis: str) -> int:
    """The version current at `moment` on `axis` ("recorded" or "occurred")."""
    return int(timeline.version_at_time(moment, axis))
