"""Marks for events that `verify` found altered, shown in every list and in the event
detail once the integrity screen has walked the chain.

Why one module: the mark must look and read the same wherever an event appears (the
timeline's event list, the correlation trace, field history, the detail pane), and it
comes from one place, `app.integrity.marks` (position -> "link broken" / "columns
altered"), which the integrity screen sets when a walk ends and clears when one starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventscope.store.records import VerifyReport

FLAG = "⚠"
"""Put before the version (or position) cell of an altered event's row."""
ROW_STYLE = "bold red"


def marks_of(report: VerifyReport) -> dict[int, str]:
    """Position -> what verify found wrong with that event (the first 1,000 named)."""
    return {
        bad.position: bad.mark
        for bad in report.bad_positions
        if bad.kind not in ("missing", "head")  # named after the last event: no row to mark
    }


def app_marks(app: Any) -> Mapping[int, str]:
    """The marks the app knows now (empty before a walk, or without an app)."""
    integrity = getattr(app, "integrity", None)
    return getattr(integrity, "marks", None) or {}


def flagged(cell: str, mark: str | None) -> str:
    """`cell` with the flag in front when the event is marked."""
    return f"{FLAG} {cell}" if mark else cell
