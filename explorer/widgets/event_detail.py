"""Everything stored about one event: ids, both timestamps, metadata, hash, the raw payload,
and the upcast payload with its chain when schema evolution changed it.

An undecodable event (bad JSON, unknown type, a failing upcaster) is shown with its reason
rather than hidden: the state next to it was computed with that event skipped, and the
reviewer has to see why. Huge payloads are cut at `MAX_PAYLOAD_LINES` here (lines are built
only for the selected event, in a worker, and painted only where visible).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from eventscope.explorer.safe_text import visible_text
from eventscope.explorer.widgets.lines_view import Line, LinesView, Part, line
from eventscope.explorer.widgets.state_tree import format_time
from eventscope.store.records import RecordedEvent

MAX_PAYLOAD_LINES = 2_000
MAX_LINE_CHARS = 4_000
"""A longer JSON line (one huge string) is cut; painting it would cost on every repaint."""


@dataclass(frozen=True, slots=True)
class EventView:
    """What the detail pane shows; built by the timeline from the engine's decoded event."""

    record: RecordedEvent
    upcast_data: Mapping[str, Any] | None = None
    upcast_version: int | None = None
    upcast_chain: Sequence[str] = field(default_factory=tuple)
    error: str | None = None


def json_lines(value: Any, limit: int = MAX_PAYLOAD_LINES) -> list[str]:
    """Indented JSON, one safe string per line, cut after `limit` lines with a note."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()
    except TypeError:
        text = repr(value)
    out: list[str] = []
    for count, raw in enumerate(text.split("\n")):
        if count >= limit:
            total = text.count("\n") + 1
            out.append(f"… {total - limit:,} more lines (see `eventscope events --json`)")
            break
        if len(raw) > MAX_LINE_CHARS:
            more = len(raw) - MAX_LINE_CHARS
            raw = raw[:MAX_LINE_CHARS] + f"… ({more:,} more characters)"
        out.append(visible_text(raw))
    return out


LABEL_WIDTH = 14


def _field(label: str, value: str, role: str = "value", copy: str | None = None) -> Line:
    """``label  value``; wrapped values continue under the value, and the copy key copies
    `copy` (the raw value) when it is given."""
    return Line(
        ((f"{label:<{LABEL_WIDTH}}", "muted"), (value, role)),
        hang=LABEL_WIDTH,
        copy=(label, copy) if copy else None,
    )


def _payload_lines(title: Line, value: Any, what: str) -> list[Line]:
    """A title and the JSON lines of a payload; every line copies the whole payload."""
    text = _compact_json(value)
    lines = [Line(title.parts, title.right, title.row_role, copy=(what, text))]
    lines += [Line(((text_line, "value"),), copy=(what, text)) for text_line in json_lines(value)]
    return lines


def _compact_json(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return repr(value)


def build_detail_lines(view: EventView | None) -> list[Line]:
    """The detail pane's lines for `view` (None: nothing selected, e.g. version 0)."""
    if view is None:
        return [line(("version 0: before the first event — the state is empty", "muted"))]
    record = view.record
    lines: list[Line] = [
        line(
            (visible_text(record.event_type), "title"),
            (f"  v{record.version}", "accent"),
            (f"  schema {record.schema_version}", "muted"),
            (f"  position {record.position:,}", "muted"),
        )
    ]
    if view.error:
        # A what-if tombstone (no hash: not a stored record) is left out, not undecodable.
        hypothetical = not record.hash and "what-if" in view.error
        label = "✗ not applied: " if hypothetical else "✗ undecodable: "
        lines.append(line((label, "error"), (visible_text(view.error), "error")))
        lines.append(line(("  the state shown was computed with this event skipped", "muted")))
    meta = record.metadata if isinstance(record.metadata, Mapping) else {}
    lines += [
        _field("recorded at", _time_text(record, "recorded_at")),
        _field("occurred at", _time_text(record, "occurred_at"), _occurred_role(record)),
        _field("actor", _meta_text(meta, "actor"), copy=_raw(meta, "actor")),
        _field("event id", visible_text(str(record.event_id)), copy=str(record.event_id)),
        _field(
            "correlation", _meta_text(meta, "correlation_id"), copy=_raw(meta, "correlation_id")
        ),
        _field("causation", _meta_text(meta, "causation_id"), copy=_raw(meta, "causation_id")),
        _field("stream", visible_text(record.stream_id), copy=record.stream_id),
        _field("stream type", visible_text(record.stream_type or "—")),
        _field("hash", visible_text(record.hash or "—"), "muted", copy=record.hash or None),
    ]
    if view.upcast_data is not None and view.upcast_data != record.data:
        chain = " → ".join(visible_text(str(step)) for step in view.upcast_chain) or "upcast"
        target = f" to schema {view.upcast_version}" if view.upcast_version else ""
        lines.append(line(("", "")))
        title = line((f"data (upcast{target})", "title"), ("  via " + chain, "muted"))
        lines += _payload_lines(title, view.upcast_data, "upcast payload")
        lines.append(line(("", "")))
        lines += _payload_lines(line(("data (as stored)", "title")), record.data, "payload")
    else:
        lines.append(line(("", "")))
        lines += _payload_lines(line(("data", "title")), record.data, "payload")
    lines.append(line(("", "")))
    lines += _payload_lines(line(("metadata", "title")), meta, "metadata")
    return lines


def _time_text(record: RecordedEvent, name: str) -> str:
    """A time in UTC, or "unknown" when the source did not record it (never the
    stand-in used for ordering, which is not a real date)."""
    if name in getattr(record, "times_unknown", ()):
        return "unknown (not recorded by the source)"
    return format_time(getattr(record, name)) + " UTC"


def _raw(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return None if value is None or value == "" else str(value)


def _meta_text(meta: Mapping[str, Any], key: str) -> str:
    value = meta.get(key)
    return "—" if value is None or value == "" else visible_text(str(value))


def _occurred_role(record: RecordedEvent) -> str:
    """Backdated events (occurred long before they were recorded) stand out."""
    if getattr(record, "times_unknown", ()):
        return "value"
    try:
        lag = (record.recorded_at - record.occurred_at).total_seconds()
    except (TypeError, AttributeError):
        return "value"
    return "changed" if lag > 3600 else "value"


def with_integrity_mark(lines: list[Line], mark: str | None) -> list[Line]:
    """`lines` with the integrity verdict for this event under its title, when verify
    found it altered (`explorer.integrity_marks`): the first thing a reviewer must see."""
    if not mark or not lines:
        return lines
    warning = line(
        (f"⚠ {mark.upper()}: ", "error"),
        ("verify found this event is not what was written; what it shows is not proven", "error"),
    )
    return [lines[0], warning, *lines[1:]]


class EventDetail(LinesView):
    """The selected event, scrollable; long values (hashes, payload lines) wrap."""

    WRAP = True

    DEFAULT_CSS = """
    EventDetail {
        height: 1fr;
    }
    """

    def show(self, lines: list[Line]) -> None:
        self.set_lines(lines, keep_scroll=False)


__all__ = [
    "EventDetail",
    "EventView",
    "Part",
    "build_detail_lines",
    "json_lines",
    "with_integrity_mark",
]
