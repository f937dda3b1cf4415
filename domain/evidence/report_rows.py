"""The rows of the report's tables, built once for every output format.

Markdown and HTML differ only in how a cell is escaped, so each renderer passes its
escaper (`text.md` or `text.h`) and draws the table its own way; what a row *says* (which
fields, in which order, what "initial state" means) lives here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable

from eventscope.domain.evidence.report import AuditReport
from eventscope.domain.evidence.text import json_text, path_text, time_text

Escape = Callable[[str], str]

BLAME_HEADERS = ("Field", "Value", "Set by", "Event", "Command", "Actor", "Recorded at")
EVENT_HEADERS = (
    "Version",
    "Position",
    "Event",
    "Command",
    "Actor",
    "Correlation",
    "Occurred at",
    "Recorded at",
    "Payload (as stored)",
    "Hash",
)


def blame_rows(report: AuditReport, escape: Escape) -> list[tuple[str, ...]]:
    """One row per field of the state: the event, command, actor and time that set it."""
    rows: list[tuple[str, ...]] = []
    for entry in report.blame:
        field, value = escape(path_text(entry.path)), escape(json_text(entry.value))
        if entry.version == 0:
            rows.append((field, value, "initial state", "", "", "", ""))
            continue
        rows.append(
            (
                field,
                value,
                f"v{entry.version} @{entry.position}",
                escape(entry.event_type or ""),
                escape(entry.command or ""),
                escape(entry.actor or ""),
                escape(time_text(entry.recorded_at)),
            )
        )
    return rows


def event_rows(report: AuditReport, escape: Escape) -> list[tuple[str, ...]]:
    """One row per event up to the report's moment, payload as stored; an event that
    verify found altered carries the mark in its hash cell ("LINK BROKEN: ...")."""
    marks = report.chain.marks() if report.chain is not None else {}
    return [
        (
            str(row.version),
            str(row.position),
            escape(row.event_type)
            + (f" (v{row.schema_version})" if row.schema_version != 1 else ""),
            escape(row.command or ""),
            escape(row.actor or ""),
            escape(row.correlation_id or ""),
            escape(time_text(row.occurred_at)),
            escape(time_text(row.recorded_at)),
            escape(json_text(row.data)),
            (f"{marks[row.position].upper()}: " if row.position in marks else "")
            + escape(row.hash),
        )
        for row in report.events
    ]
