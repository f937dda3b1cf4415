"""A structural diff shown as a tree of paths: added in green, removed struck in red,
changed in amber with ``before → after``.

`build_diff_lines` is pure (it runs in the diff screen's worker); the widget paints only
the visible lines. Paths are grouped under their parents so a reviewer reads the diff as
the same tree the state pane shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from explorer.widgets.lines_view import Line, LinesView, Part
from explorer.widgets.state_tree import format_key, format_value, get_field

_MARK = {"added": "+ ", "removed": "− ", "changed": "~ "}
_ROW = {"added": "added-row", "removed": "removed-row", "changed": "changed-row"}


@dataclass(frozen=True, slots=True)
class DiffCounts:
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    def summary(self) -> str:
        if not self.total:
            return "no differences: both sides agree"
        return f"+{self.added} added   −{self.removed} removed   ~{self.changed} changed"


def _path(entry: Any) -> tuple[Any, ...]:
    return tuple(get_field(entry, "path", ()) or ())


def build_diff_lines(entries: Sequence[Any]) -> tuple[list[Line], DiffCounts]:
    """Lines for `entries` ({path, op, before, after}), with parent headings, and counts."""
    lines: list[Line] = []
    counts = {"added": 0, "removed": 0, "changed": 0}
    shown_parents: set[tuple[Any, ...]] = set()
    for entry in entries:
        path = _path(entry)
        op = str(get_field(entry, "op", "changed"))
        counts[op] = counts.get(op, 0) + 1
        for depth in range(1, len(path)):
            parent = path[:depth]
            if parent not in shown_parents:
                shown_parents.add(parent)
                lines.append(
                    Line((("  ", ""), ("  " * (depth - 1), ""), (format_key(parent[-1]), "key")))
                )
        depth = max(0, len(path) - 1)
        key = format_key(path[-1]) if path else "(whole state)"
        before, after = get_field(entry, "before"), get_field(entry, "after")
        parts: list[Part] = [(_MARK.get(op, "  "), op), ("  " * depth, ""), (key, "key")]
        parts.append((": ", "muted"))
        if op == "added":
            parts.append((format_value(after), "added"))
        elif op == "removed":
            parts.append((format_value(before), "removed"))
        else:
            parts.append((format_value(before), "removed"))
            parts.append((" → ", "muted"))
            parts.append((format_value(after), "added"))
        lines.append(Line(tuple(parts), (), _ROW.get(op, "")))
    if not lines:
        lines.append(Line((("  no differences: both sides agree", "muted"),)))
    return lines, DiffCounts(counts["added"], counts["removed"], counts["changed"])


class DiffView(LinesView):
    """The diff between the two picked sides (see the module docstring)."""

    DEFAULT_CSS = """
    DiffView {
        height: 1fr;
    }
    """
