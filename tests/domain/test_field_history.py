"""Field history against a plain reference: fold the payloads by hand (the generic fold's
rule) and list every version where the value at the path changed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from eventscope.domain import Engine
from eventscope.domain.field_history import field_history
from eventscope.domain.units import MONEY_CENTS, DisplayUnit, unit_for
from eventscope.store import EventStore, NewEvent, open_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VALUES = st.one_of(st.none(), st.integers(-5, 5), st.booleans(), st.sampled_from(["a", "b"]))
PAYLOADS = st.lists(
    st.dictionaries(st.sampled_from(["x", "y"]), VALUES, min_size=1, max_size=2),
    min_size=1,
    max_size=12,
)
MISSING = object()


def reference(payloads: list[dict[str, Any]], key: str) -> list[tuple[int, Any, Any]]:
    state: dict[str, Any] = {}
    out = []
    for version, data in enumerate(payloads, start=1):
        before = state.get(key, MISSING)
        for name, value in data.items():  # the generic fold: None removes, else replaces
            if value is None:
                state.pop(name, None)
            else:
                state[name] = copy.deepcopy(value)
        after = state.get(key, MISSING)
        same = type(before) is type(after) and before == after
        if not same:
            out.append(
                (
                    version,
                    None if before is MISSING else before,
                    None if after is MISSING else after,
                )
            )
    return out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payloads=PAYLOADS)
def test_field_history_matches_a_plain_fold(
    tmp_path_factory: Any, payloads: list[dict[str, Any]]
) -> None:
    path: Path = tmp_path_factory.mktemp("fh") / "store.db"
    store = EventStore.open(path)
    try:
        store.append("s-1", [NewEvent("Set", data, {"actor": "ann"}) for data in payloads])
    finally:
        store.close()
    source = open_source(str(path), read_only=True)
    try:
        timeline = Engine(source).timeline("s-1")
        changes = field_history(timeline, ("x",))
        assert [(c.version, c.before, c.after) for c in changes] == reference(payloads, "x")
        assert all(c.actor == "ann" for c in changes)
    finally:
        source.close()


def test_units_are_labels_only() -> None:
    assert MONEY_CENTS.format(454246) == "4,542.46"
    assert MONEY_CENTS.name({"currency": "EUR"}) == "EUR" and MONEY_CENTS.name({}) == "money"
    units = {"balance_cents": MONEY_CENTS, "a.b": DisplayUnit(scale=10, decimals=1)}
    assert unit_for(units, ("x", "balance_cents")) is MONEY_CENTS
    assert unit_for(units, ("a", "b")).format(15) == "1.5" and unit_for(units, ()) is None
