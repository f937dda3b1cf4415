"""Structural diff of JSON-like values, and its inverse check `apply_diff`.

`diff(left, right)` returns an ordered list of `DiffEntry(path, op, before, after)`:

* `path` is a tuple of object keys (str) and list indices (int) from the root;
* `op` is ``added`` (only in right), ``removed`` (only in left) or ``changed``;
* two objects are compared key by key (keys in sorted order); two lists index by index,
  with extra items on the right ``added`` in ascending index order and extra items on the
  left ``removed`` in *descending* index order, so applying the entries one after another
  always works; anything else that differs is one ``changed`` entry at that path;
* equality is JSON equality with types kept apart: ``1`` vs ``true`` and ``1`` vs ``1.0``
  are changes (Python's ``1 == True`` would hide a real difference in evidence).

`apply_diff(left, entries) == right` holds for every pair (a Hypothesis test checks it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import orjson

Path = tuple[str | int, ...]
Op = Literal["added", "removed", "changed"]

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One difference; `before`/`after` are None when the side does not exist."""

    path: Path
    op: Op
    before: Any = None
    after: Any = None

    def to_json(self) -> dict[str, Any]:
        """The `diff --json` shape: ``{path, op, before, after}`` (path as a list)."""
        return {"path": list(self.path), "op": self.op, "before": self.before, "after": self.after}


def same(left: Any, right: Any) -> bool:
    """JSON equality keeping types apart (``1`` is not ``true``, ``1`` is not ``1.0``)."""
    if type(left) is not type(right):
        return False
    if left != right:
        return False
    if type(left) in (dict, list):
        # `==` already agreed; confirm without bool/int/float conflation (rarely matters).
        return orjson.dumps(left, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
            right, option=orjson.OPT_SORT_KEYS
        )
    return True


def diff(left: Any, right: Any) -> list[DiffEntry]:
    """Ordered differences that turn `left` into `right`."""
    out: list[DiffEntry] = []
    _diff(left, right, (), out)
    return out


def diff_at(left: Any, right: Any, path: Path) -> list[DiffEntry]:
    """Differences between two sub-values found at `path` (entries carry the full path)."""
    out: list[DiffEntry] = []
    _diff(left, right, path, out)
    return out


def _diff(left: Any, right: Any, path: Path, out: list[DiffEntry]) -> None:
    if same(left, right):
        return
    if type(left) is dict and type(right) is dict:
        for key in sorted(left.keys() | right.keys()):
            here = (*path, key)
            if key not in right:
                out.append(DiffEntry(here, "removed", left[key], None))
            elif key not in left:
                out.append(DiffEntry(here, "added", None, right[key]))
            else:
                _diff(left[key], right[key], here, out)
        return
    if type(left) is list and type(right) is list:
        common = min(len(left), len(right))
        for index in range(common):
            _diff(left[index], right[index], (*path, index), out)
        for index in range(common, len(right)):
            out.append(DiffEntry((*path, index), "added", None, right[index]))
        for index in range(len(left) - 1, common - 1, -1):
            out.append(DiffEntry((*path, index), "removed", left[index], None))
        return
    out.append(DiffEntry(path, "changed", left, right))


def apply_diff(left: Any, entries: list[DiffEntry]) -> Any:
    """Apply entries (in order) to a deep copy of `left` and return the result."""
    root: Any = copy.deepcopy(left)
    for entry in entries:
        if not entry.path:
            if entry.op == "removed":
                root = None
            else:
                root = copy.deepcopy(entry.after)
            continue
        parent = root
        for step in entry.path[:-1]:
            parent = parent[step]
        last = entry.path[-1]
        if entry.op == "removed":
            if type(parent) is list:
                parent.pop(last)  # type: ignore[arg-type]
            else:
                del parent[last]
        elif entry.op == "added" and type(parent) is list:
            parent.insert(last, copy.deepcopy(entry.after))  # type: ignore[arg-type]
        else:
            parent[last] = copy.deepcopy(entry.after)
    return root


def changed_paths(entries: list[DiffEntry]) -> set[Path]:
    """The paths touched by a diff (for highlighting changed fields)."""
    return {entry.path for entry in entries}
