"""Field blame: for each leaf of a state, the event that last set it.

"Set" means *changed*: the blamed event is the latest one whose application changed the
value at that path (or created it), so the leaf has held its current value continuously
since that event. This definition works the same for a user's aggregates (whose code we
cannot see into) and for the generic fold. Version 0 means "the initial state" (a default
of the aggregate's state model, set by no event).

Leaves are scalars and empty objects/lists; the root object itself is never a leaf.

The blame *tree* mirrors the state: objects map to objects, lists to lists, and each leaf
holds the version that last set it. It is updated from the per-event diffs, so blame at
any version costs what the temporal engine's state does (checkpoint + at most K steps).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventscope.domain.diff import DiffEntry, Path
from eventscope.store.records import format_timestamp

BlameTree = Any  # dict | list | int, mirroring a state


@dataclass(frozen=True, slots=True)
class BlameEntry:
    """Who set one leaf: `version` 0 (and no event fields) means the initial state."""

    path: Path
    value: Any
    version: int
    position: int | None = None
    event_type: str | None = None
    actor: str | None = None
    recorded_at: datetime | None = None
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `blame --json` shape."""
        return {
            "path": list(self.path),
            "value": self.value,
            "position": self.position,
            "version": self.version,
            "event_type": self.event_type,
            "actor": self.actor,
            "recorded_at": format_timestamp(self.recorded_at) if self.recorded_at else None,
        }


def stamp(value: Any, version: int) -> BlameTree:
    """A blame tree for `value` with every leaf set by `version`."""
    if type(value) is dict and value:
        return {key: stamp(item, version) for key, item in value.items()}
    if type(value) is list and value:
        return [stamp(item, version) for item in value]
    return version


def initial_tree(state: dict[str, Any], version: int = 0) -> dict[str, Any]:
    """The blame tree of a whole state (the root stays an object even when empty)."""
    return {key: stamp(item, version) for key, item in state.items()}


def update(tree: dict[str, Any], entries: list[DiffEntry], version: int) -> dict[str, Any]:
    """Apply one event's diff entries to a blame tree in place; return the tree.

    `entries` must be the diff from the state before the event to the state after it.
    """
    for entry in entries:
        if not entry.path:
            after = entry.after if type(entry.after) is dict else {}
            tree = initial_tree(after, version)
            continue
        parent, key = _parent(tree, entry.path)
        if entry.op == "removed":
            if type(parent) is list:
                parent.pop(key)
            else:
                parent.pop(key, None)
            if not parent and parent is not tree:
                _set(tree, entry.path[:-1], version)  # an emptied container is a leaf now
        elif entry.op == "added" and type(parent) is list:
            parent.insert(key, stamp(entry.after, version))
        else:
            parent[key] = stamp(entry.after, version)
    return tree


def _parent(tree: dict[str, Any], path: Path) -> tuple[Any, Any]:
    """The container holding `path[-1]`, turning empty-container leaves into containers."""
    node: Any = tree
    for depth, step in enumerate(path[:-1]):
        child = node[step]
        if type(child) is int:  # an empty container (a leaf) is gaining its first item
            child = [] if type(path[depth + 1]) is int else {}
            node[step] = child
        node = child
    return node, path[-1]


def _set(tree: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def leaves(state: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) leaf of a state, in document order (the root is not a leaf)."""
    if type(state) is dict and (state or not path):
        for key, item in state.items():
            yield from leaves(item, (*path, key))
    elif type(state) is list and state:
        for index, item in enumerate(state):
            yield from leaves(item, (*path, index))
    else:
        yield path, state


def blamed_leaves(state: dict[str, Any], tree: dict[str, Any]) -> Iterator[tuple[Path, Any, int]]:
    """(path, value, version) for each leaf, walking the state and its tree together."""
    yield from _walk(state, tree, ())


def _walk(state: Any, node: Any, path: Path) -> Iterator[tuple[Path, Any, int]]:
    if type(state) is dict and (state or not path):
        for key, item in state.items():
            child = node.get(key, 0) if type(node) is dict else node
            yield from _walk(item, child, (*path, key))
    elif type(state) is list and state:
        for index, item in enumerate(state):
            child = node[index] if type(node) is list and index < len(node) else node
            yield from _walk(item, child, (*path, index))
    else:
        yield path, state, node if type(node) is int else _newest(node)


def _newest(node: Any) -> int:
    """Defensive: a leaf whose tree node is a container takes its newest version."""
    if type(node) is dict:
        return max((_newest(v) for v in node.values()), default=0)
    if type(node) is list:
        return max((_newest(v) for v in node), default=0)
    return int(node)
