"""The generic fold's exact rules and the structural diff (pure functions on plain data)."""

from __future__ import annotations

import copy
from typing import Any

from domain_helpers import HISTORIES, PAYLOADS, STATES
from eventscope.domain.blame import leaves
from eventscope.domain.diff import DiffEntry, apply_diff, diff, same
from eventscope.domain.fold import fold_generic, merge
from hypothesis import given


def test_generic_fold_rules() -> None:
    state: dict[str, Any] = {}
    merge(state, {"a": 1, "o": {"x": 1, "y": 2}, "l": [1, 2], "s": "keep"})
    merge(state, {"a": None, "o": {"x": None, "z": {"deep": None, "k": 3}}, "l": [3]})
    assert state == {"o": {"y": 2, "z": {"k": 3}}, "l": [3], "s": "keep"}
    merge(state, {"s": {"now": "an object", "gone": None}})  # non-object -> object: fresh
    merge(state, {"o": 5})  # object -> scalar: replaced
    merge(state, {"missing": None})  # removing an absent key is a no-op
    assert state == {"o": 5, "l": [3], "s": {"now": "an object"}}


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    return False  # lists replace wholesale and may legitimately hold null items


def _model_fold(history: list[dict[str, Any]]) -> dict[str, Any]:
    """An independent, non-mutating statement of the rules, for comparison."""

    def merged(old: Any, new: dict[str, Any]) -> dict[str, Any]:
        out = dict(old) if isinstance(old, dict) else {}
        for key, value in new.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, dict):
                out[key] = merged(out.get(key), value)
            else:
                out[key] = value
        return out

    state: dict[str, Any] = {}
    for payload in history:
        state = merged(state, payload)
    return state


@given(HISTORIES)
def test_generic_fold_matches_the_rules_and_never_holds_null_nor_touches_events(history) -> None:
    pristine = copy.deepcopy(history)
    state = fold_generic(history)
    assert state == _model_fold(history)
    assert not any(_has_null(v) for v in state.values())
    assert history == pristine  # events are never mutated by the fold


@given(STATES, STATES)
def test_applying_the_diff_to_the_left_state_gives_the_right_state(left, right) -> None:
    entries = diff(left, right)
    assert same(apply_diff(left, entries), right)
    assert (entries == []) == same(left, right)
    for entry in entries:
        assert entry.op in ("added", "removed", "changed")
        assert isinstance(entry.path, tuple) and entry.path


@given(PAYLOADS, PAYLOADS)
def test_diff_applies_on_any_json_including_nulls(left, right) -> None:
    assert same(apply_diff(left, diff(left, right)), right)


def test_diff_shapes_and_order() -> None:
    left = {"a": 1, "b": {"x": [1, 2, 3]}, "gone": True, "t": 1}
    right = {"a": 2, "b": {"x": [1, 9]}, "new": {"k": None}, "t": True}
    assert [e.to_json() for e in diff(left, right)] == [
        {"path": ["a"], "op": "changed", "before": 1, "after": 2},
        {"path": ["b", "x", 1], "op": "changed", "before": 2, "after": 9},
        {"path": ["b", "x", 2], "op": "removed", "before": 3, "after": None},
        {"path": ["gone"], "op": "removed", "before": True, "after": None},
        {"path": ["new"], "op": "added", "before": None, "after": {"k": None}},
        {"path": ["t"], "op": "changed", "before": 1, "after": True},  # 1 is not true
    ]
    assert diff({"n": 1}, {"n": 1.0}) == [DiffEntry(("n",), "changed", 1, 1.0)]
    assert diff({"l": [{"a": True}]}, {"l": [{"a": 1}]}) == [
        DiffEntry(("l", 0, "a"), "changed", True, 1)
    ]


def test_list_removals_come_last_to_first_so_they_apply_in_order() -> None:
    entries = diff({"l": [1, 2, 3, 4]}, {"l": [1]})
    assert [e.path for e in entries] == [("l", 3), ("l", 2), ("l", 1)]
    assert apply_diff({"l": [1, 2, 3, 4]}, entries) == {"l": [1]}


def test_leaves_include_empty_containers_but_not_the_root() -> None:
    assert list(leaves({})) == []
    assert list(leaves({"a": {}, "b": [], "c": [1, {"d": 2}]})) == [
        (("a",), {}),
        (("b",), []),
        (("c", 0), 1),
        (("c", 1, "d"), 2),
    ]
