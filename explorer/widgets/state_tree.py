"""The state of an aggregate at one version, as an indented tree with blame.

Fields the selected event changed are highlighted (changed / added / removed, the removed
ones shown struck through where they used to be), containers holding a change get a dot,
and a right-hand column says who last set each leaf: the event's version and type, the
actor and the time. That answers the compliance question "who set this field, when, by
which command" without leaving the slider.

`build_state_lines` is a pure function so the timeline runs it in a thread worker; the
widget only paints the lines on screen (see `LinesView`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from eventscope.explorer.safe_text import shorten, visible_text
from eventscope.explorer.widgets.lines_view import Line, LinesView, Part

Path = tuple[Any, ...]

MAX_VALUE_CHARS = 400
"""Longer values are cut in the tree; the event detail shows the full payload."""

_MARKERS = {"changed": "● ", "added": "+ ", "removed": "− ", "inside": "· "}
_ROW_ROLES = {"changed": "changed-row", "added": "added-row", "removed": "removed-row"}


def get_field(item: Any, name: str, default: Any = None) -> Any:
    """Read `name` from a dict or an object (engine results come as either)."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def format_value(value: Any) -> str:
    """A JSON-ish one-line rendering of a leaf, safe to show (escapes made visible)."""
    if isinstance(value, str):
        text = orjson.dumps(value).decode()
    elif value is None or isinstance(value, bool | int | float):
        text = orjson.dumps(value).decode()
    else:
        try:
            text = orjson.dumps(value, default=str).decode()
        except TypeError:
            text = repr(value)
    return visible_text(shorten(text, MAX_VALUE_CHARS))


def copy_value(value: Any) -> str:
    """A value as a reviewer would paste it: strings bare, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return repr(value)


def path_text(path: Sequence[Any]) -> str:
    """``address.city`` / ``lines[2].sku``: a field's path as a person writes it."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(whole state)"


def format_key(key: Any) -> str:
    """A dict key as text, or ``[i]`` for a list index."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    return visible_text(shorten(str(key), 120))


def format_time(moment: Any) -> str:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS`` (UTC); text is passed through safely."""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment is None:
        return ""
    return visible_text(str(moment))[:19].replace("T", " ")


def blame_text(entry: Any) -> tuple[Part, ...]:
    """The blame column for one leaf: ``v12 Deposited · alice · 2026-03-01 10:00``.

    Who and which come first: the version and the actor are what a reviewer needs, so
    the time is last and `blame_variants` drops it (then the event type) before anything
    else when the column is narrow."""
    return blame_variants(entry)[0]


def blame_variants(entry: Any) -> tuple[tuple[Part, ...], ...]:
    """The blame column, fullest first: with the time, without it, without the event type."""
    version = get_field(entry, "version")
    if not version:
        return ((("initial state", "muted"),),)
    event_type = visible_text(shorten(str(get_field(entry, "event_type", "") or ""), 32))
    actor = get_field(entry, "actor")
    actor_text = visible_text(shorten(str(actor), 48)) if actor else "—"
    when = format_time(get_field(entry, "recorded_at"))[:16]
    head: tuple[Part, ...] = ((f"v{version} ", "accent"),)
    full = (*head, (event_type, ""), (" · ", "muted"), (actor_text, ""))
    return (
        (*full, (" · ", "muted"), (when, "muted")),
        full,
        (*head, ("· ", "muted"), (actor_text, "")),
    )


def _path(value: Any) -> Path:
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, str):  # a dotted path, as some engines report
        return tuple(part for part in value.split(".") if part)
    return (value,)


def _children(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, list):
        return enumerate(value)
    return ()


def _summary(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"{{{len(value)}}}" if value else "{}"
    return f"[{len(value)}]" if value else "[]"


def build_state_lines(
    state: Mapping[str, Any],
    changes: Sequence[Any] = (),
    blame: Sequence[Any] = (),
    *,
    ghosts: bool = True,
) -> list[Line]:
    """Flatten `state` into tree lines, marking `changes` ({path, op, before, after}) and
    attaching `blame` entries ({path, version, event_type, actor, recorded_at}) to leaves.

    With `ghosts`, removed fields (no longer in `state`) are shown struck through where
    they were; without, a "removed" change marks a field that *is* in `state` (the left
    side of a diff)."""
    marks: dict[Path, str] = {}
    removed_under: dict[Path, list[tuple[Any, Any]]] = {}
    inside: set[Path] = set()
    for change in changes:
        path = _path(get_field(change, "path", ()))
        op = str(get_field(change, "op", "changed"))
        marks[path] = op
        for depth in range(len(path)):
            inside.add(path[:depth])
        if op == "removed" and path and ghosts:
            removed_under.setdefault(path[:-1], []).append((path[-1], get_field(change, "before")))
    blame_by_path = {_path(get_field(entry, "path", ())): entry for entry in blame}

    lines: list[Line] = []

    def emit(key: Any, value: Any, path: Path, depth: int, inherited: str | None) -> None:
        op = marks.get(path) or inherited
        is_container = isinstance(value, Mapping | list) and bool(value)
        mark = op or ("inside" if path in inside else None)
        parts: list[Part] = [(_MARKERS.get(mark or "", "  "), mark or "muted")]
        parts.append(("  " * depth, ""))
        parts.append((format_key(key), "key"))
        if is_container:
            parts.append((" " + _summary(value), "muted"))
            right: tuple[Part, ...] = ()
            compact: tuple[tuple[Part, ...], ...] = ()
        else:
            parts.append((": ", "muted"))
            parts.append((format_value(value), op if op in ("added", "changed") else "value"))
            entry = blame_by_path.get(path)
            variants = blame_variants(entry) if entry is not None else ((),)
            right, compact = variants[0], variants[1:]
        if op == "changed" and not is_container and ghosts:
            before = _before_of(changes, path)
            if before is not _MISSING:
                parts.append(("  was ", "muted"))
                parts.append((format_value(before), "muted"))
        copy = (path_text(path), copy_value(value))
        lines.append(
            Line(tuple(parts), right, _ROW_ROLES.get(op or "", ""), compact, copy=copy, data=path)
        )
        if is_container:
            child_inherited = op if op in ("added", "removed") else None
            for child_key, child in _children(value):
                emit(child_key, child, (*path, child_key), depth + 1, child_inherited)
            emit_removed(path, depth + 1)

    def emit_removed(parent: Path, depth: int) -> None:
        for key, before in removed_under.get(parent, ()):
            parts: list[Part] = [
                (_MARKERS["removed"], "removed"),
                ("  " * depth, ""),
                (format_key(key), "removed"),
                (": ", "muted"),
                (format_value(before), "removed"),
            ]
            path = (*parent, key)
            lines.append(
                Line(
                    tuple(parts),
                    (("removed by this event", "muted"),),
                    "removed-row",
                    copy=(path_text(path), copy_value(before)),
                    data=path,
                )
            )

    for key, value in state.items():
        emit(key, value, (key,), 0, None)
    emit_removed((), 0)
    return lines


_MISSING = object()


def _before_of(changes: Sequence[Any], path: Path) -> Any:
    for change in changes:
        if _path(get_field(change, "path", ())) == path:
            return get_field(change, "before", _MISSING)
    return _MISSING


class StateTree(LinesView):
    """State at the selected version: a tree, changed fields highlighted, blame on the right.

    Fixed height (set by the screen's CSS) so a new state never re-lays out the screen.
    """

    DEFAULT_CSS = """
    StateTree {
        height: 1fr;
    }
    """

    @property
    def show_blame(self) -> bool:
        """Whether the blame column is drawn (the timeline's `b` key toggles it)."""
        return self.show_right

    @show_blame.setter
    def show_blame(self, value: bool) -> None:
        self.show_right = value
        self.refresh()

    def first_marked_line(self) -> int | None:
        """Index of the first highlighted line, to scroll a change into view."""
        for index, item in enumerate(self.lines):
            if item.row_role:
                return index
        return None

    @property
    def cursor_path(self) -> Path | None:
        """The path of the highlighted field (for field history and copying)."""
        item = self.cursor_item
        return item.data if item is not None and isinstance(item.data, tuple) else None

    def show_state(self, lines: list[Line], left_width: int | None, path: Path | None) -> None:
        """Show a new state, keeping the cursor on the field at `path` when it is still
        there, else on the first changed field (scrolled into view)."""
        self.set_lines(lines, left_width=left_width)
        if path is not None and self.move_cursor_to(lambda item: item.data == path):
            return
        self.reveal_changes()

    def reveal_changes(self) -> None:
        """Put the cursor on the first changed field and scroll it into view."""
        index = self.first_marked_line()
        if index is None:
            return
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        self.set_reactive(StateTree.cursor_line, index)
        if not top <= index < top + height:
            self.scroll_to(y=max(0, index - 2), animate=False, immediate=True)
        self.refresh()
