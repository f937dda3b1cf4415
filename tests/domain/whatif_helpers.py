"""A small domain with per-event rules (`@checks`) for the what-if tests, and a plain
reference of what a changed history folds to.

`Tally` is a counter that may not go below zero: `Taken` is refused when it would, and
nothing is accepted before `Started`. The reference functions below are written from the
definitions in the README (generic fold) and in `domain.whatif` (changed history, refusals
from the first change on), deliberately without eventscope's own code.
"""

from __future__ import annotations

import copy
from typing import Any

from eventscope.domain.aggregate import Aggregate, applies, checks
from eventscope.domain.errors import CommandRejected
from eventscope.domain.events import DomainEvent
from eventscope.domain.plugin import DomainPlugin
from pydantic import BaseModel


class Started(DomainEvent):
    label: str


class Added(DomainEvent):
    n: int


class Taken(DomainEvent):
    n: int


class TallyState(BaseModel):
    label: str = ""
    count: int = 0
    moves: int = 0


def check_started(state: dict[str, Any]) -> None:
    if not state["label"]:
        raise CommandRejected("the tally is not started")


class Tally(Aggregate[TallyState]):
    stream_type = "tally"
    State = TallyState

    @checks(Started)
    def _check_started(state: dict[str, Any], data: dict[str, Any]) -> None:
        if state["label"]:
            raise CommandRejected("the tally is already started")

    @checks(Added)
    def _check_added(state: dict[str, Any], data: dict[str, Any]) -> None:
        check_started(state)

    @checks(Taken)
    def _check_taken(state: dict[str, Any], data: dict[str, Any]) -> None:
        check_started(state)
        if data["n"] > state["count"]:
            raise CommandRejected(f"only {state['count']} left, {data['n']} taken")

    @applies(Started)
    def _started(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["label"] = data["label"]

    @applies(Added)
    def _added(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["count"] += data["n"]
        state["moves"] += 1

    @applies(Taken)
    def _taken(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["count"] -= data["n"]
        state["moves"] += 1


PLUGIN = DomainPlugin(aggregates={"tally": Tally}, events=[Started, Added, Taken])
TALLY_INITIAL = {"label": "", "count": 0, "moves": 0}


# --- the reference ------------------------------------------------------------------------
def reference_merge(state: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The generic fold of one payload, as the README defines it (returns a new state)."""
    out = dict(state)
    for key, value in data.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            old = out.get(key)
            out[key] = reference_merge(old if isinstance(old, dict) else {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def changed_history(
    events: list[Any],
    skips: set[int],
    replacements: dict[int, Any],
    inserts: list[tuple[int, Any]],
    upto: int | None,
) -> list[tuple[int | None, Any]]:
    """(original version or None, event) in the changed order, up to original `upto`
    (insertions right after `upto` included)."""
    last = len(events) if upto is None else upto
    out: list[tuple[int | None, Any]] = [(None, e) for after, e in inserts if after == 0]
    for version in range(1, last + 1):
        if version not in skips:
            out.append((version, replacements.get(version, events[version - 1])))
        out.extend((None, e) for after, e in inserts if after == version)
    return out


def reference_tally(
    history: list[tuple[int | None, tuple[str, int | str]]], first_changed_index: int
) -> tuple[dict[str, Any], list[int]]:
    """Fold (type, value) events as `Tally` does; from `first_changed_index` on, an event
    the rules refuse is left out. Returns the state and the indexes refused."""
    state = dict(TALLY_INITIAL)
    refused: list[int] = []
    for index, (_version, (kind, value)) in enumerate(history):
        ok = True
        if index >= first_changed_index:
            if kind == "Started":
                ok = not state["label"]
            elif kind == "Added":
                ok = bool(state["label"])
            else:
                ok = bool(state["label"]) and int(value) <= state["count"]
        if not ok:
            refused.append(index)
            continue
        if kind == "Started":
            state["label"] = value
        elif kind == "Added":
            state["count"] += int(value)
            state["moves"] += 1
        else:
            state["count"] -= int(value)
            state["moves"] += 1
    return state, refused
