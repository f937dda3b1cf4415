"""The temporal engine on real SQLite stores: the checkpoint cache equals a full replay,
changes and blame are right, undecodable events are skipped with reasons, time lookup
works on both axes."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from domain_helpers import (
    HISTORIES,
    LEDGER_EVENTS,
    LEDGER_UPCASTERS,
    PLUGIN,
    Ledger,
    append_payloads,
    at,
    ledger_event,
    unique_stream,
)
from eventscope.domain.blame import leaves
from eventscope.domain.diff import diff, same
from eventscope.domain.engine import Engine
from eventscope.domain.errors import VersionOutOfRange
from eventscope.domain.events import EventRegistry
from eventscope.domain.fold import fold_generic
from eventscope.domain.timeline import AggregateFolder, Timeline
from eventscope.store import EventStore, NewEvent, StreamNotFound
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _get(state: Any, path: tuple) -> Any:
    for step in path:
        state = state[step]
    return state


def _at_path(state: Any, path: tuple) -> tuple[bool, Any]:
    node = state
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return False, None
    return True, node


@PROPERTY
@given(history=HISTORIES, k=st.integers(1, 7), probe=st.data())
def test_state_at_every_version_via_the_cache_equals_a_full_replay(
    sqlite_store: EventStore, history, k, probe
) -> None:
    stream = unique_stream()
    pristine = copy.deepcopy(history)
    append_payloads(sqlite_store, stream, history)
    timeline = Timeline(sqlite_store, stream, checkpoint_every=k, cached_chunks=2)
    assert timeline.length == len(history)
    versions = list(range(len(history) + 1))
    # visit versions in a random order, so the chunk LRU is exercised both ways
    order = probe.draw(st.permutations(versions))
    for version in order:
        got = timeline.state_at(version)
        assert got.version == version
        assert same(got.state, fold_generic(copy.deepcopy(pristine[:version])))
        assert got.skipped == ()
    for version in versions[1:]:
        before = fold_generic(copy.deepcopy(pristine[: version - 1]))
        after = fold_generic(copy.deepcopy(pristine[:version]))
        assert timeline.changes_at(version) == diff(before, after)


@PROPERTY
@given(history=HISTORIES, k=st.integers(1, 6), probe=st.data())
def test_blame_values_are_the_leaves_and_point_at_events_that_set_them(
    sqlite_store: EventStore, history, k, probe
) -> None:
    stream = unique_stream()
    records = append_payloads(sqlite_store, stream, history)
    timeline = Timeline(sqlite_store, stream, checkpoint_every=k)
    stored = [r.data for r in records]  # the store keeps keys in canonical (sorted) order
    states = [fold_generic(copy.deepcopy(stored[:v])) for v in range(len(history) + 1)]
    version = probe.draw(st.integers(0, len(history)))
    blame = timeline.blame_at(version)
    assert [(b.path, b.value) for b in blame] == list(leaves(states[version]))
    for entry in blame:
        assert 1 <= entry.version <= version  # the generic fold has no initial fields
        record = records[entry.version - 1]
        assert (entry.position, entry.event_type, entry.actor, entry.recorded_at) == (
            record.position,
            record.event_type,
            record.actor,
            record.recorded_at,
        )
        # that event really set it: missing or different before, this value since
        existed, previous = _at_path(states[entry.version - 1], entry.path)
        assert not existed or not same(previous, entry.value)
        for later in range(entry.version, version + 1):
            existed, value = _at_path(states[later], entry.path)
            assert existed and same(value, entry.value)


def _ledger_stream(store: EventStore, stream: str) -> None:
    store.append(
        stream,
        [
            ledger_event("Opened", {"owner": "ann"}),
            ledger_event("Credited", {"amount": 100}, schema_version=1),  # upcast: + EUR
            ledger_event("Tagged", {"tags": ["a"]}),
            ledger_event("Exploded", {"why": "bug in applier"}),  # applier raises
            ledger_event("Renamed", {"to": "x"}),  # no handler in Ledger
            ledger_event("Noted", {"note": "x"}, schema_version=1),  # its upcaster fails
            ledger_event("Credited", {"amount": 5, "currency": "EUR"}, schema_version=2),
            ledger_event("Credited", {"amount": 1}, schema_version=9),  # newer than the code
            ledger_event("Debited", {"amount": 30}),
            ledger_event("Tagged", {"tags": ["b", "c"]}),
        ],
        stream_type="ledger",
    )


@pytest.mark.parametrize("k", [1, 3, 64])
def test_undecodable_and_unappliable_events_are_skipped_with_reasons(
    sqlite_store: EventStore, k: int
) -> None:
    stream = unique_stream("ledger")
    _ledger_stream(sqlite_store, stream)
    timeline = Timeline(
        sqlite_store,
        stream,
        folder=AggregateFolder(Ledger),
        registry=EventRegistry(LEDGER_EVENTS, LEDGER_UPCASTERS),
        checkpoint_every=k,
    )
    latest = timeline.state_at()
    assert latest.state == {"owner": "ann", "balance": 75, "tags": ["b", "c"], "credits": 2}
    reasons = {s.version: s.reason for s in latest.skipped}
    assert sorted(reasons) == [4, 5, 6, 8]
    assert "applying it failed: RuntimeError: bug in applier" in reasons[4]
    assert reasons[5] == "Ledger has no handler for Renamed"
    assert "upcaster Noted v1→v2 (body_to_text) failed: KeyError: 'body'" in reasons[6]
    assert "newer than the code" in reasons[8]
    assert not latest.complete
    # The failing applier half-changed the state; the engine re-derived it without it.
    assert timeline.state_at(4).state["balance"] == 100
    assert [s.version for s in timeline.state_at(5).skipped] == [4, 5]
    assert timeline.state_at(3).skipped == ()
    # The event view explains the same thing, raw and upcast payloads side by side.
    failed = timeline.event(4)
    assert failed.error == reasons[4]
    upcast = timeline.event(2)
    assert upcast.ok and upcast.raw == {"amount": 100}
    assert upcast.data == {"amount": 100, "currency": "EUR"}
    assert upcast.chain == ("Credited v1→v2 (add_currency)",)
    # Upcasting is a view: the stored payload and the hash chain are untouched.
    stored = list(sqlite_store.read_stream(stream, 2, 2))[0]
    assert stored.data == {"amount": 100} and stored.schema_version == 1
    assert sqlite_store.verify().ok
    # Skipped events change nothing, so they blame nothing.
    assert timeline.changes_at(4) == [] and timeline.changes_at(6) == []
    blame = {b.path: b.version for b in timeline.blame_at()}
    assert blame == {
        ("owner",): 1,
        ("balance",): 9,
        ("tags", 0): 10,
        ("tags", 1): 10,
        ("credits",): 7,
    }


def test_an_applier_aliasing_payload_lists_cannot_corrupt_cached_events(
    sqlite_store: EventStore,
) -> None:
    class Appending(Ledger):
        stream_type = "ledger"

        from eventscope.domain.aggregate import applies as _applies

        @_applies("Credited")
        def _credited(state: dict, data: dict) -> None:
            state["tags"].append(f"credit-{data['amount']}")  # mutates the aliased list

    stream = unique_stream("ledger")
    sqlite_store.append(
        stream,
        [
            ledger_event("Tagged", {"tags": ["x"]}),
            ledger_event("Credited", {"amount": 1, "currency": "EUR"}, schema_version=2),
            ledger_event("Credited", {"amount": 2, "currency": "EUR"}, schema_version=2),
        ],
        stream_type="ledger",
    )
    timeline = Timeline(sqlite_store, stream, folder=AggregateFolder(Appending))
    first = timeline.state_at(3).state["tags"]
    again = timeline.state_at(3).state["tags"]
    assert first == again == ["x", "credit-1", "credit-2"]
    assert timeline.event(1).raw == {"tags": ["x"]}


def test_version_at_time_on_both_axes_with_backdated_events(sqlite_store: EventStore) -> None:
    stream = unique_stream()
    occurred = [at(1), at(2), at(0.5), at(3)]  # event 3 is backdated
    sqlite_store.append(
        stream,
        [
            NewEvent("Changed", {"i": i}, occurred_at=o, recorded_at=at(10 + i))
            for i, o in enumerate(occurred)
        ],
    )
    timeline = Timeline(sqlite_store, stream)
    assert timeline.version_at_time(at(9)) == 0
    assert timeline.version_at_time(at(10)) == 1
    assert timeline.version_at_time(at(11.5)) == 2
    assert timeline.version_at_time(at(99)) == 4
    assert timeline.version_at_time("2026-03-01T20:00:00") == 2  # naive text means UTC
    assert timeline.version_at_time(at(0.25), axis="occurred") == 0
    assert timeline.version_at_time(at(0.75), axis="occurred") == 3
    assert timeline.version_at_time(at(1.5), axis="occurred") == 3
    assert timeline.version_at_time(at(3), axis="occurred") == 4
    assert timeline.time_of(3, "occurred") == at(0.5)
    assert timeline.time_of(3) == at(12)
    assert timeline.version_at_time(at(11) - timedelta(microseconds=1)) == 1


def test_out_of_range_versions_and_unknown_streams_are_clear_errors(
    sqlite_store: EventStore,
) -> None:
    stream = unique_stream()
    append_payloads(sqlite_store, stream, [{"a": 1}, {"a": 2}])
    timeline = Timeline(sqlite_store, stream)
    with pytest.raises(VersionOutOfRange, match="version 3 is out of range .* 0 to 2"):
        timeline.state_at(3)
    with pytest.raises(VersionOutOfRange):
        timeline.state_at(-1)
    with pytest.raises(VersionOutOfRange, match="1 to 2"):
        timeline.event(0)
    with pytest.raises(StreamNotFound, match="no stream 'nope'"):
        Engine(sqlite_store).timeline("nope")


def test_refresh_folds_events_appended_later(sqlite_store: EventStore) -> None:
    stream = unique_stream()
    append_payloads(sqlite_store, stream, [{"a": i} for i in range(5)])
    timeline = Timeline(sqlite_store, stream, checkpoint_every=3)
    assert timeline.state_at().state == {"a": 4}
    assert timeline.series(("a",))[-1] == (5, 4)
    append_payloads(sqlite_store, stream, [{"b": i} for i in range(4)])
    assert timeline.length == 5  # unchanged until refreshed
    assert timeline.refresh() == 9
    assert timeline.state_at().state == {"a": 4, "b": 3}
    assert timeline.state_at(7).state == {"a": 4, "b": 1}
    assert timeline.series(("b",)) == [(v, None if v <= 5 else v - 6) for v in range(1, 10)]


def test_numeric_paths_and_series_for_a_chart(sqlite_store: EventStore) -> None:
    stream = unique_stream()
    append_payloads(
        sqlite_store,
        stream,
        [{"balance": 10, "ok": True}, {"balance": 12.5, "sub": {"n": 1}}, {"balance": "x"}],
    )
    timeline = Timeline(sqlite_store, stream)
    assert timeline.numeric_paths(2) == [("balance",), ("sub", "n")]  # booleans are not
    assert timeline.series(["balance"]) == [(1, 10), (2, 12.5), (3, None)]
    assert timeline.series(("sub", "n")) == [(1, None), (2, 1), (3, 1)]


def test_memory_is_bounded_by_checkpoints_not_events(sqlite_store: EventStore) -> None:
    stream = unique_stream()
    append_payloads(sqlite_store, stream, [{"i": i, "pad": "x" * 100} for i in range(600)])
    timeline = Timeline(sqlite_store, stream, checkpoint_every=50, cached_chunks=2)
    assert timeline.state_at(321).state["i"] == 320
    assert len(timeline._chunks) <= 2  # the bound is the point of the test
    assert len(timeline._checkpoints) == 600 // 50 + 1


def test_engine_uses_the_plugins_aggregate_and_generic_fold_otherwise(
    sqlite_store: EventStore,
) -> None:
    ledger = unique_stream("ledger")
    _ledger_stream(sqlite_store, ledger)
    other = unique_stream()
    append_payloads(sqlite_store, other, [{"a": 1}])
    engine = Engine(sqlite_store, PLUGIN)
    assert engine.timeline(ledger).derivation == "Ledger"
    assert engine.timeline(other).derivation == "generic"
    assert engine.timeline(ledger) is engine.timeline(ledger)  # cached
    generic = Engine(sqlite_store)
    state = generic.state(ledger).state  # no plugin: every event merges, nothing skipped
    assert state["owner"] == "ann" and state["tags"] == ["b", "c"] and state["to"] == "x"
    assert generic.state(ledger, at=at(-1000)).version == 0


LEDGER_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 50)),
        st.tuples(st.just("debit"), st.integers(1, 30)),
        st.tuples(st.just("tag"), st.sampled_from(["a", "b", "c"])),
        st.tuples(st.just("bad"), st.sampled_from(["Exploded", "Renamed", "Noted"])),
    ),
    max_size=40,
)
BAD = {
    "Exploded": ({"why": "boom"}, 1),
    "Renamed": ({"to": "x"}, 1),
    "Noted": ({"note": "no body"}, 1),
}


@PROPERTY
@given(steps=LEDGER_STEPS, k=st.integers(1, 6), probe=st.data())
def test_aggregate_state_via_the_cache_equals_a_full_replay_skipping_bad_events(
    sqlite_store: EventStore, steps, k, probe
) -> None:
    from eventscope.domain.errors import CommandRejected

    stream = unique_stream("ledger")
    ledger = Ledger(stream)
    ledger.open("ann")
    events = ledger.pending_events(actor="ann")
    expected = [Ledger.initial_state(), copy.deepcopy(ledger.plain_state)]
    bad_versions = []
    for name, arg in steps:
        if name == "bad":
            data, schema = BAD[arg]
            events.append(NewEvent(arg, data, {"actor": "x"}, schema_version=schema))
            bad_versions.append(len(expected))
            expected.append(copy.deepcopy(expected[-1]))
            continue
        ledger.mark_saved()
        try:
            getattr(ledger, name)(arg)
        except CommandRejected:
            continue
        events.extend(ledger.pending_events(actor="ann"))
        expected.append(copy.deepcopy(ledger.plain_state))
    sqlite_store.append(stream, events, stream_type="ledger")
    timeline = Engine(sqlite_store, PLUGIN, checkpoint_every=k).timeline(stream)
    assert timeline.length == len(expected) - 1
    for version in probe.draw(st.permutations(range(len(expected)))):
        got = timeline.state_at(version)
        assert got.state == expected[version]
        assert [s.version for s in got.skipped] == [v for v in bad_versions if v <= version]


def test_an_applier_leaving_non_json_values_does_not_stop_the_view(
    sqlite_store: EventStore,
) -> None:
    from decimal import Decimal

    from eventscope.domain.aggregate import applies as _applies

    class Sloppy(Ledger):
        stream_type = "ledger"

        @_applies("Credited")
        def _credited(state: dict, data: dict) -> None:
            state["balance"] = Decimal(state["balance"]) + data["amount"]  # not JSON

    stream = unique_stream("ledger")
    sqlite_store.append(
        stream,
        [ledger_event("Credited", {"amount": i, "currency": "EUR"}, schema_version=2)
         for i in range(1, 6)],
        stream_type="ledger",
    )  # fmt: skip
    timeline = Timeline(sqlite_store, stream, folder=AggregateFolder(Sloppy), checkpoint_every=2)
    assert timeline.state_at(4).state["balance"] == "10"  # its JSON form at a checkpoint
    assert timeline.state_at(5).skipped == ()
    assert timeline.blame_at(5)[1].version == 5


def test_state_at_any_version_costs_at_most_k_applies_after_the_first_pass(
    sqlite_store: EventStore,
) -> None:
    class Counting(AggregateFolder):
        calls = 0

        def apply(self, state: dict, event_type: str, data: dict) -> dict:
            Counting.calls += 1
            return super().apply(state, event_type, data)

    stream = unique_stream("ledger")
    sqlite_store.append(
        stream,
        [ledger_event("Credited", {"amount": 1, "currency": "EUR"}, schema_version=2)
         for _ in range(500)],
        stream_type="ledger",
    )  # fmt: skip
    timeline = Timeline(sqlite_store, stream, folder=Counting(Ledger), checkpoint_every=16)
    assert timeline.length == 500
    assert Counting.calls == 500  # the first pass applies each event once
    for version in (0, 1, 15, 16, 17, 250, 255, 499, 500):
        Counting.calls = 0
        assert timeline.state_at(version).state["balance"] == version
        assert Counting.calls <= 15
