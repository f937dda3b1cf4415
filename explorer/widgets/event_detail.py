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

from explorer.safe_text import visible_text
from explorer.widgets.lines_view import Line, LinesView, Part, line
from explorer.widgets.state_tree import format_time
from store.records import RecordedEvent

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


def _field(label: str, value: str, role: str = "value") -> Line:
    return line((f"{label:<14}", "muted"), (value, role))


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
        lines.append(line(("✗ undecodable: ", "error"), (visible_text(view.error), "error")))
        lines.append(line(("  the state shown was computed with this event skipped", "muted")))
    meta = record.metadata if isinstance(record.metadata, Mapping) else {}
    lines += [
        _field("recorded at", format_time(record.recorded_at) + " UTC"),
        _field("occurred at", format_time(record.occurred_at) + " UTC", _occurred_role(record)),
        _field("actor", _meta_text(meta, "actor")),
        _field("event id", visible_text(str(record.event_id))),
        _field("correlation", _meta_text(meta, "correlation_id")),
        _field("causation", _meta_text(meta, "causation_id")),
        _field("stream", visible_text(f"{record.stream_id}  ({record.stream_type})")),
        _field("hash", visible_text(record.hash or "—"), "muted"),
    ]
    if view.upcast_data is not None and view.upcast_data != record.data:
        chain = " → ".join(visible_text(str(step)) for step in view.upcast_chain) or "upcast"
        target = f" to schema {view.upcast_version}" if view.upcast_version else ""
        lines.append(line(("", "")))
        lines.append(line((f"data (upcast{target})", "title"), ("  via " + chain, "muted")))
        lines += [line((text, "value")) for text in json_lines(view.upcast_data)]
        lines.append(line(("", "")))
        lines.append(line(("data (as stored)", "title")))
    else:
        lines.append(line(("", "")))
        lines.append(line(("data", "title")))
    lines += [line((text, "value")) for text in json_lines(record.data)]
    lines.append(line(("", "")))
    lines.append(line(("metadata", "title")))
    lines += [line((text, "value")) for text in json_lines(meta)]
    return lines


def _meta_text(meta: Mapping[str, Any], key: str) -> str:
    value = meta.get(key)
    return "—" if value is None or value == "" else visible_text(str(value))


def _occurred_role(record: RecordedEvent) -> str:
    """Backdated events (occurred long before they were recorded) stand out."""
    try:
        lag = (record.recorded_at - record.occurred_at).total_seconds()
    except (TypeError, AttributeError):
        return "value"
    return "changed" if lag > 3600 else "value"


class EventDetail(LinesView):
    """The selected event, scrollable; see the module docstring."""

    DEFAULT_CSS = """
    EventDetail {
        height: 1fr;
    }
    """

    def show(self, lines: list[Line]) -> None:
        self.set_lines(lines, keep_scroll=False)


__all__ = ["EventDetail", "EventView", "Part", "build_detail_lines", "json_lines"]
