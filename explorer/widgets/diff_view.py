"""A structural diff shown as a tree of paths: added in green, removed struck in red,
changed in amber with ``before → after`` (and the difference, for two numbers).

`build_diff_lines` and `build_aligned_lines` are pure (they run in the diff screen's
worker); the widgets paint only the visible lines. Paths are grouped under their parents
so a reviewer reads the diff as the same tree the state pane shows, and the two sides are
laid out row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.explorer.widgets.lines_view import Line, LinesView, Part
from eventscope.explorer.widgets.state_tree import (
    copy_value,
    format_key,
    format_value,
    get_field,
    path_text,
)
from eventscope.explorer.wording import signed

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


def number_delta(before: Any, after: Any) -> str:
    """``+1,000`` / ``−2.5`` between two numbers (booleans are not numbers); else empty."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after)):
        return ""
    delta = after - before
    return signed(delta, 0 if isinstance(delta, int) else 2)


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
            delta = number_delta(before, after)
            if delta:
                parts.append((f"  ({delta})", "muted"))
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


_ABSENT: Any = object()


def _ordered_keys(left: Any, right: Any) -> list[Any]:
    """Keys of two objects in one order: the left's, then the right's new ones."""
    keys = list(left) if isinstance(left, dict) else []
    seen = set(keys)
    for key in right if isinstance(right, dict) else ():
        if key not in seen:
            keys.append(key)
    return keys


def build_aligned_lines(
    left: Any, right: Any, entries: Sequence[Any]
) -> tuple[list[Line], list[Line]]:
    """Both sides of a diff as trees in one key order, row for row: line *i* of the left
    and line *i* of the right are the same field, so a reviewer reads across. A field on
    one side only is a ``░`` row on the other."""
    ops = {_path(entry): str(get_field(entry, "op", "changed")) for entry in entries}
    inside: set[tuple[Any, ...]] = set()
    for path in ops:
        for depth in range(len(path)):
            inside.add(path[:depth])
    left_lines: list[Line] = []
    right_lines: list[Line] = []

    def side_line(key: Any, value: Any, path: tuple[Any, ...], depth: int, side: str) -> Line:
        op = ops.get(path)
        is_container = isinstance(value, dict | list) and bool(value)
        mark = ""
        if op == "changed":
            mark = "changed"
        elif op == "removed" and side == "left":
            mark = "removed"
        elif op == "added" and side == "right":
            mark = "added"
        elif path in inside:
            mark = "inside"
        marker = {"changed": "~ ", "removed": "− ", "added": "+ ", "inside": "· "}.get(mark, "  ")
        parts: list[Part] = [
            (marker, mark or "muted"),
            ("  " * depth, ""),
            (format_key(key), "key"),
        ]
        if is_container:
            size = len(value)
            parts.append((f" {{{size}}}" if isinstance(value, dict) else f" [{size}]", "muted"))
        else:
            parts.append((": ", "muted"))
            parts.append(
                (format_value(value), mark if mark in ("changed", "added", "removed") else "value")
            )
        role = _ROW.get(mark, "")
        return Line(tuple(parts), (), role, copy=(path_text(path), copy_value(value)), data=path)

    def blank(key: Any, depth: int, first: bool, path: tuple[Any, ...]) -> Line:
        label = f"{format_key(key)}: (absent)" if first else ""
        return Line((("░ ", "blank"), ("  " * depth, ""), (label, "blank")), (), "", data=path)

    def rows_of(key: Any, value: Any, path: tuple[Any, ...], depth: int, side: str) -> list[Line]:
        out = [side_line(key, value, path, depth, side)]
        if isinstance(value, dict):
            for child in value:
                out += rows_of(child, value[child], (*path, child), depth + 1, side)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                out += rows_of(index, child, (*path, index), depth + 1, side)
        return out

    def emit(key: Any, lv: Any, rv: Any, path: tuple[Any, ...], depth: int) -> None:
        if lv is _ABSENT or rv is _ABSENT:
            present, side = (rv, "right") if lv is _ABSENT else (lv, "left")
            rows = rows_of(key, present, path, depth, side)
            blanks = [blank(key, depth, index == 0, row.data) for index, row in enumerate(rows)]
            left_lines.extend(blanks if side == "right" else rows)
            right_lines.extend(rows if side == "right" else blanks)
            return
        left_lines.append(side_line(key, lv, path, depth, "left"))
        right_lines.append(side_line(key, rv, path, depth, "right"))
        if isinstance(lv, dict) and isinstance(rv, dict):
            for child in _ordered_keys(lv, rv):
                emit(
                    child, lv.get(child, _ABSENT), rv.get(child, _ABSENT), (*path, child), depth + 1
                )
        elif isinstance(lv, list) and isinstance(rv, list):
            for index in range(max(len(lv), len(rv))):
                a = lv[index] if index < len(lv) else _ABSENT
                b = rv[index] if index < len(rv) else _ABSENT
                emit(index, a, b, (*path, index), depth + 1)

    left_state = left if isinstance(left, dict) else {}
    right_state = right if isinstance(right, dict) else {}
    for key in _ordered_keys(left_state, right_state):
        emit(key, left_state.get(key, _ABSENT), right_state.get(key, _ABSENT), (key,), 0)
    return left_lines, right_lines
