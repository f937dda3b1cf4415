"""The one-row "what-if vs actual" line under the what-if banner.

The chart draws only the changed history, and at 80×24 the chart is not on screen at all
(the narrow layout shows one pane below the list), so without this line a reader has to
open the diff to learn what the what-if changes. The line answers it in place, at every
size: the charted field's what-if value against the actual value at the focused row, the
difference, and how many fields differ in all -- computed in a worker (two `state_at`
calls from the timelines' checkpoints), dropped if the slider has moved on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.wording import noun_for, plural, signed
from rich.text import Text
from textual.widgets import Static

MISSING = object()
"""A field the state does not have (told apart from a stored ``null``)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """The focused row's what-if and actual values of one field, and the diff size."""

    row: int
    original: int
    path: tuple[Any, ...]
    what_if: Any
    actual: Any
    differences: int
    unit: Any = None
    unit_name: str = ""


class WhatIfCompare(Static):
    """What-if vs actual at the focused row (shown only while a what-if is active)."""


def value_at(state: Any, path: Sequence[Any]) -> Any:
    """The value at `path` in a JSON state, or `MISSING`."""
    for part in path:
        if isinstance(state, dict) and part in state:
            state = state[part]
        elif isinstance(state, list) and isinstance(part, int) and 0 <= part < len(state):
            state = state[part]
        else:
            return MISSING
    return state


def compare(what_if: Any, row: int, path: tuple[Any, ...] | None, unit: Any = None) -> Comparison:
    """Both states at the focused row: the what-if's row itself (an inserted event
    included) against the actual state at the original version it corresponds to.
    `unit` is the domain's display unit for the field (cents as money), if any."""
    from eventscope.domain.diff import diff

    original = what_if.original_version(row)
    changed = what_if.timeline.state_at(row).state
    actual = what_if.actual.state_at(original).state
    path = tuple(path or ())
    name = ""
    if unit is not None and path:
        parent = value_at(actual, path[:-1])
        name = str(unit.name(parent if isinstance(parent, dict) else None) or "")
    return Comparison(
        row,
        original,
        path,
        value_at(changed, path) if path else MISSING,
        value_at(actual, path) if path else MISSING,
        len(diff(actual, changed)),
        unit,
        name,
    )


def _shown(value: Any, unit: Any) -> str:
    if value is MISSING:
        return "absent"
    if unit is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return str(unit.format(value))
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return visible_text(shorten(repr(value) if isinstance(value, str) else str(value), 24))


def compare_text(found: Comparison, *, narrow: bool = False, width: int = 0) -> Text:
    """``balance_cents  what-if 0.00  actual 1,484.00 EUR  −1,484.00 · 1 field differs``."""
    from eventscope.explorer.screens.whatif import WHAT_IF_COLOUR, WHAT_IF_STYLE

    text = Text(no_wrap=True, overflow="ellipsis")
    # Narrow: 78 columns for the field, both values, the delta and the count; the row is
    # on the slider just below, and the unit is said once.
    if not narrow:
        text.append(" WHAT-IF vs ACTUAL ", style=WHAT_IF_STYLE)
        text.append(f" row {found.row:,}", style="bold")
        if found.original != found.row:
            text.append(f" (v{found.original:,})", style="dim")
        text.append(" · ")
    if found.path:
        label = ".".join(str(p) for p in found.path)
        unit = f" {visible_text(found.unit_name)}" if found.unit_name else ""
        text.append(visible_text(shorten(label, 20 if narrow else 28)) + ":", style="bold")
        text.append(" what-if ")
        shown = _shown(found.what_if, found.unit) + ("" if narrow else unit)
        text.append(shown, style=f"bold {WHAT_IF_COLOUR}")
        text.append(", actual ")
        text.append(_shown(found.actual, found.unit) + unit, style="bold")
        delta = _delta(found)
        if delta:
            text.append(f" ({delta})")
    count = found.differences
    if count:
        tail = f"{plural(count, 'field')} {noun_for(count, 'differs', 'differ')}"
    else:
        tail = "the same state as the actual"
    # The count is the least important part: left out whole rather than cut mid-word.
    if not width or not found.path or text.cell_len + 3 + len(tail) <= width:
        text.append(" · " if found.path else "")
        text.append(tail, style="" if count else "dim")
    text.append("  D: diff" if not narrow else "", style="dim")
    return text


def _delta(found: Comparison) -> str:
    numbers = [found.what_if, found.actual]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        return ""
    change = found.what_if - found.actual
    if change == 0:
        return "="
    if found.unit is not None:
        return signed(found.unit.shown(change), found.unit.decimals)
    return signed(change, 0 if isinstance(change, int) else 2)


def refresh(screen: Any, row: int) -> None:
    """Compute the line for `row` in a worker; drop the result if the row changed."""
    what_if = screen.what_if
    if what_if is None:
        return
    from eventscope.explorer.screens.timeline_data import display_unit

    overview = screen.overview
    path = None
    if overview is not None and overview.numeric_paths:
        path = overview.numeric_paths[screen._field_index % len(overview.numeric_paths)]
    app = screen.app

    def work() -> None:
        try:
            unit = display_unit(app.engine, path) if path else None
            found = compare(what_if, row, path, unit)
        except Exception:  # the banner and the panes still say WHAT-IF; only this is lost
            return
        app.call_from_thread(_show, screen, what_if, found)

    screen.run_worker(
        work, thread=True, exclusive=True, group="timeline-what-if-compare", description="compare"
    )


def _show(screen: Any, what_if: Any, found: Comparison) -> None:
    if not screen.is_attached or screen.what_if is not what_if or screen.version != found.row:
        return
    line = screen.query_one(WhatIfCompare)
    width = line.content_region.width
    line.update(compare_text(found, narrow=screen.narrow, width=width))
