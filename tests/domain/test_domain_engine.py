"""The Engine facade: snapshot and projection diffs, bisect, consistency, plugins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from domain_helpers import PLUGIN, Ledger, LedgerV2, ledger_event, unique_stream
from eventscope.domain.bisect import first_divergence, first_divergence_linear
from eventscope.domain.diff import DiffEntry, same
from eventscope.domain.engine import Engine
from eventscope.domain.errors import DomainError, PluginError
from eventscope.domain.plugin import load_plugin
from eventscope.domain.projection_runner import ProjectionRunner
from eventscope.store import EventStore, NewEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@given(n=st.integers(0, 300), threshold=st.integers(1, 302))
def test_bisect_finds_the_same_version_as_a_linear_scan(n: int, threshold: int) -> None:
    calls: list[int] = []

    def differs(version: int) -> bool:
        calls.append(version)
        return version >= threshold

    fast = first_divergence(0, n, differs)
    bisect_calls = len(calls)
    slow = first_divergence_linear(0, n, differs)
    assert fast.version == slow.version == (threshold if threshold <= n else None)
    assert bisect_calls <= max(1, n).bit_length() + 1  # O(log n) evaluations


@given(st.lists(st.booleans(), min_size=1, max_size=50))
def test_bisect_always_returns_a_real_boundary_even_when_not_monotone(flags) -> None:
    flags = [False, *flags]  # they agree at the start
    result = first_divergence(0, len(flags) - 1, lambda v: flags[v])
    if result.version is not None:
        assert flags[result.version] and not flags[result.version - 1]
    else:
        assert not flags[-1]


COMMANDS = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 50)),
        st.tuples(st.just("debit"), st.integers(1, 30)),
        st.tuples(st.just("tag"), st.sampled_from(["a", "b"])),
    ),
    max_size=30,
)


@PROPERTY
@given(commands=COMMANDS)
def test_code_a_vs_code_b_bisect_equals_a_linear_scan(sqlite_store: EventStore, commands) -> None:
    from eventscope.domain.errors import CommandRejected
    from eventscope.domain.repository import Repository

    stream = unique_stream("ledger")
    ledger = Ledger(stream)
    ledger.open("ann")
    for name, arg in commands:
        try:
            getattr(ledger, name)(arg)
        except CommandRejected:
            pass
    Repository(sqlite_store, Ledger).save(ledger, actor="ann")
    engine = Engine(sqlite_store, PLUGIN, checkpoint_every=4)
    found = engine.first_divergence(stream, LedgerV2)
    replay = engine.derivation(stream, "replay")
    code_b = engine.derivation(stream, LedgerV2)
    linear = first_divergence_linear(
        0, ledger.version, lambda v: not same(replay(v), code_b(v))
    ).version
    assert (found.version if found else None) == linear
    if found is not None:
        assert found.differences == [DiffEntry(("credits",), "changed", *_credits(found))]
        assert found.evaluations <= ledger.version.bit_length() + 2


def _credits(found) -> tuple[int, int]:
    return found.left["credits"], found.right["credits"]


def _ledger_with_snapshots(store: EventStore) -> str:
    stream = unique_stream("ledger")
    store.append(
        stream,
        [ledger_event("Opened", {"owner": "ann"})]
        + [ledger_event("Credited", {"amount": i, "currency": "EUR"}, schema_version=2)
           for i in range(1, 10)],
        stream_type="ledger",
    )  # fmt: skip
    good = Engine(store, PLUGIN).timeline(stream)
    for version in (2, 4, 6, 8):
        state = dict(good.state_at(version).state)
        if version >= 6:
            state["balance"] += 1000  # a buggy snapshot writer from version 6 on
        store.save_snapshot(stream, version, state, "Ledger", 1, "ledger-1")
    return stream


def test_diff_snapshot_and_the_first_wrong_snapshot(sqlite_store: EventStore) -> None:
    stream = _ledger_with_snapshots(sqlite_store)
    engine = Engine(sqlite_store, PLUGIN)
    assert engine.diff_snapshot(stream, 4) == []
    assert engine.diff_snapshot(stream, 6) == [DiffEntry(("balance",), "changed", 1015, 15)]
    assert engine.first_divergent_snapshot(stream).version == 6
    with pytest.raises(
        DomainError, match="no snapshot at version 5 \\(snapshots at: 2, 4, 6, 8\\)"
    ):
        engine.diff_snapshot(stream, 5)
    report = engine.consistency()
    assert report.checked_snapshots == 4
    assert [(p.kind, p.stream_id, p.version) for p in report.problems] == [
        ("snapshot", stream, 6),
        ("snapshot", stream, 8),
    ]
    # Without the code, aggregate snapshots are listed as unchecked, not as wrong.
    generic = Engine(sqlite_store).consistency()
    assert generic.problems == [] and len(generic.unchecked) == 4


def test_diff_projection_and_projection_as_of(store: EventStore) -> None:
    for i in range(3):
        store.append(
            f"L-{i}",
            [
                ledger_event("Opened", {"owner": f"o{i}"}),
                ledger_event("Credited", {"amount": 10}, schema_version=1),
            ],
            stream_type="ledger",
        )
    ProjectionRunner(store, PLUGIN.projections, PLUGIN.registry).catch_up_all()
    engine = Engine(store, PLUGIN)
    assert engine.diff_projection("balances", "L-1") == []
    assert engine.projection_as_of("balances", 3) == {
        "L-0": {"owner": "o0", "balance": 10, "events": 2},
        "L-1": {"owner": "o1", "balance": 0, "events": 1},
    }
    assert sorted(engine.projection_names()) == ["balances", "owners"]
    # Tamper with a stored row: the diff shows stored (left) vs replay (right).
    row = store.projection_row("balances", "L-1")
    store.put_projection_rows("balances", [("L-1", {**row.document, "balance": 7}, row.position)])
    assert engine.diff_projection("balances", "L-1") == [DiffEntry(("balance",), "changed", 7, 10)]
    report = engine.consistency()
    assert report.checked_rows == 6
    assert [(p.projection, p.key) for p in report.problems] == [("balances", "L-1")]
    with pytest.raises(DomainError, match="no stored row with key 'L-9'"):
        engine.diff_projection("balances", "L-9")
    with pytest.raises(PluginError, match="needs its code"):
        Engine(store).diff_projection("balances", "L-1")
    with pytest.raises(PluginError, match="no projection named 'nope'"):
        engine.projection_as_of("nope", 1)


def test_engine_works_on_streams_of_unknown_types_without_a_plugin(
    sqlite_store: EventStore,
) -> None:
    sqlite_store.append("x-1", [NewEvent("Whatever", {"a": {"b": 1}}), NewEvent("W", {"a": None})])
    engine = Engine(sqlite_store, PLUGIN)  # the plugin has no aggregate for "x"
    assert engine.state("x-1", version=1).state == {"a": {"b": 1}}
    assert engine.diff_versions("x-1", 1, 2) == [DiffEntry(("a",), "removed", {"b": 1}, None)]


def _write_module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("esplug_")]:
        del sys.modules[name]


def test_load_plugin_and_its_errors(plugin_dir: Path) -> None:
    _write_module(
        plugin_dir,
        "esplug_good",
        """
        from domain_helpers import PLUGIN as DOMAIN
        OTHER = DOMAIN
        """,
    )
    _write_module(plugin_dir, "esplug_broken", "raise RuntimeError('config missing')\n")
    _write_module(plugin_dir, "esplug_needs", "import esplug_not_installed\n")
    _write_module(plugin_dir, "esplug_empty", "X = 1\n")
    _write_module(plugin_dir, "esplug_wrong", "DOMAIN = {'aggregates': {}}\n")
    assert load_plugin("esplug_good").aggregate_for("ledger") is Ledger
    assert load_plugin("esplug_good:OTHER") is load_plugin("esplug_good")
    cases = {
        "esplug_absent": "cannot import domain module 'esplug_absent': no such module",
        "esplug_broken": "failed to import (RuntimeError: config missing)",
        "esplug_needs": "needs module 'esplug_not_installed', which is not installed",
        "esplug_empty": "has no DOMAIN object; define DOMAIN = DomainPlugin(...) in it",
        "esplug_wrong": "esplug_wrong.DOMAIN is a dict, not a DomainPlugin",
        "": "--domain needs a module name",
    }
    for spec, message in cases.items():
        with pytest.raises(PluginError) as info:
            load_plugin(spec)
        assert message in str(info.value)
        assert "\n" not in str(info.value)


def test_foreign_json_lines_history_with_an_unreadable_event(tmp_path: Path) -> None:
    from eventscope.store.sources.jsonl.source import JsonlSource

    lines = [
        {"stream_id": "order-7", "event_type": "Placed", "data": {"total": 10, "lines": [1]},
         "metadata": {"actor": "shop"}, "recorded_at": "2026-01-01T10:00:00Z"},
        {"stream_id": "order-7", "event_type": "Mangled", "data": {},
         "decode_error": "payload was not valid JSON", "recorded_at": "2026-01-01T11:00:00Z"},
        {"stream_id": "order-7", "event_type": "Paid", "data": {"total": 12, "paid": True},
         "metadata": {"actor": "psp"}, "recorded_at": "2026-01-01T12:00:00Z"},
    ]  # fmt: skip
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    source = JsonlSource.open(path)
    try:
        engine = Engine(source)
        timeline = engine.timeline("order-7")
        latest = timeline.state_at()
        assert latest.state == {"total": 12, "lines": [1], "paid": True}
        assert [(s.version, s.reason) for s in latest.skipped] == [
            (2, "payload was not valid JSON")
        ]
        assert timeline.event(2).error == "payload was not valid JSON"
        assert {b.path: b.actor for b in timeline.blame_at()} == {
            ("total",): "psp",
            ("lines", 0): "shop",
            ("paid",): "psp",
        }
        assert timeline.version_at_time("2026-01-01T11:30:00Z") == 2
    finally:
        source.close()


def test_engine_on_both_backends(store: EventStore) -> None:
    store.append("acct-1", [NewEvent("A", {"x": {"y": i}}, {"actor": "ann"}) for i in range(70)])
    engine = Engine(store, checkpoint_every=16)
    timeline = engine.timeline("acct-1")
    assert timeline.state_at(33).state == {"x": {"y": 32}}
    assert timeline.changes_at(70) == [DiffEntry(("x", "y"), "changed", 68, 69)]
    assert [(b.path, b.version, b.actor) for b in timeline.blame_at(50)] == [
        (("x", "y"), 50, "ann")
    ]


def test_first_projection_divergence_between_two_projection_codes(store: EventStore) -> None:
    from domain_helpers import Balances

    class BuggyBalances(Balances):
        """Ignores debits of 5 or more: diverges at the first such debit."""

        def apply(self, document, event):
            if event.event_type == "Debited" and event.data["amount"] >= 5:
                document["events"] += 1
                return document
            return super().apply(document, event)

    for i in range(8):
        store.append(
            f"L-{i}",
            [
                ledger_event("Opened", {"owner": "o"}),
                ledger_event("Credited", {"amount": 20}, schema_version=1),
                ledger_event("Debited", {"amount": i}),
            ],
            stream_type="ledger",
        )
    engine = Engine(store, PLUGIN)
    found = engine.first_projection_divergence(BuggyBalances())
    assert found is not None and found.position == 18  # L-5's debit: the first of 5+
    assert found.evaluations <= (24).bit_length() + 2
    assert [(d.path, d.before, d.after) for d in found.differences] == [
        (("L-5", "balance"), 15, 20)
    ]
    keyed = engine.first_projection_divergence(BuggyBalances(), key="L-7")
    assert keyed.position == 24 and keyed.key == "L-7"
    assert engine.first_projection_divergence(Balances(), "balances") is None


def test_a_single_stale_snapshot_among_good_ones_is_found(sqlite_store: EventStore) -> None:
    """Snapshots are independent claims: one wrong snapshot between good ones must be
    found although a pure bisect (which assumes 'once wrong, stays wrong') misses it."""
    stream = "ledger-lone"
    sqlite_store.append(
        stream,
        [ledger_event("Opened", {"owner": "ann"})]
        + [ledger_event("Credited", {"amount": i, "currency": "EUR"}, schema_version=2)
           for i in range(1, 10)],
        stream_type="ledger",
    )  # fmt: skip
    good = Engine(sqlite_store, PLUGIN).timeline(stream)
    for version in (2, 4, 6, 8):
        state = dict(good.state_at(version).state)
        if version == 4:
            state["balance"] += 7
        sqlite_store.save_snapshot(stream, version, state, "Ledger", 1, "ledger-1")
    engine = Engine(sqlite_store, PLUGIN)
    assert engine.first_divergent_snapshot(stream).version == 4
    sqlite_store.save_snapshot(stream, 99, {}, "Ledger", 1, "ledger-1")
    assert Engine(sqlite_store, PLUGIN).first_divergent_snapshot(stream).version == 4
