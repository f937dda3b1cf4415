"""Projection runner on SQLite and PostgreSQL: a re-run is a no-op, a rebuild equals an
incremental run, lag is head - checkpoint, evaluation as of a position writes nothing."""

from __future__ import annotations

from typing import Any

from domain_helpers import LEDGER_EVENTS, LEDGER_UPCASTERS, Balances, Owners, ledger_event
from eventscope.domain.events import DecodedEvent, EventRegistry
from eventscope.domain.projection import Projection
from eventscope.domain.projection_runner import ProjectionRunner, evaluate_as_of
from eventscope.store import EventStore

REGISTRY = EventRegistry(LEDGER_EVENTS, LEDGER_UPCASTERS)


def stored(store: EventStore, name: str) -> dict[str, tuple[dict[str, Any], int]]:
    return {r.key: (r.document, r.position) for r in store.projection_rows(name, limit=10_000)}


def fill(store: EventStore, streams: range, owner_of=lambda i: f"owner-{i % 3}") -> None:
    for i in streams:
        store.append(
            f"L-{i}",
            [
                ledger_event("Opened", {"owner": owner_of(i)}),
                ledger_event("Credited", {"amount": 10 + i}, schema_version=1),
                ledger_event("Tagged", {"tags": ["x"]}),  # not handled by Balances
                ledger_event("Debited", {"amount": i}),
            ],
            stream_type="ledger",
        )


def runner(store: EventStore, batch: int = 7) -> ProjectionRunner:
    return ProjectionRunner(store, [Balances(), Owners()], REGISTRY, batch_size=batch)


def test_catch_up_applies_in_batches_and_a_rerun_is_a_noop(store: EventStore) -> None:
    fill(store, range(5))
    run = runner(store)
    assert run.lag("balances") == 20
    report = run.catch_up("balances")
    assert report.applied == 15 and report.to_position == 20
    assert run.lag("balances") == 0
    rows = stored(store, "balances")
    assert rows["L-2"] == ({"owner": "owner-2", "balance": 10, "events": 3}, 12)
    again = run.catch_up("balances")
    assert again.applied == 0 and again.rows_written == 0
    assert stored(store, "balances") == rows


def test_incremental_runs_equal_a_rebuild(store: EventStore) -> None:
    run = runner(store, batch=3)
    fill(store, range(3))
    run.catch_up_all()
    fill(store, range(3, 6))
    assert run.lags() == {"balances": 12, "owners": 12}
    run.catch_up_all()
    incremental = {name: stored(store, name) for name in ("balances", "owners")}
    for name in ("balances", "owners"):
        report = run.rebuild(name)
        assert report.from_position == 0
        assert stored(store, name) == incremental[name]
    assert incremental["owners"]["owner-0"][0] == {"ledgers": 2, "streams": ["L-0", "L-3"]}


def test_idempotent_by_position_even_when_the_checkpoint_is_behind(store: EventStore) -> None:
    fill(store, range(2))
    run = runner(store)
    run.catch_up("balances")
    rows = stored(store, "balances")
    store.save_checkpoint("balances", 0)  # as if a crash lost the checkpoint, not the rows
    report = run.catch_up("balances")
    assert report.applied == 0  # each row remembers the position that last changed it
    assert stored(store, "balances") == rows


def test_evaluate_as_of_a_position_writes_nothing(store: EventStore) -> None:
    fill(store, range(3))
    state = evaluate_as_of(store, Balances(), 5, REGISTRY)
    assert state.documents == {
        "L-0": {"owner": "owner-0", "balance": 10, "events": 3},
        "L-1": {"owner": "owner-1", "balance": 0, "events": 1},
    }
    assert state.positions == {"L-0": 4, "L-1": 5}
    assert store.projection_rows("balances") == []
    assert store.checkpoints() == {}
    full = evaluate_as_of(store, Balances(), None, REGISTRY)
    assert full.position == 12 and full.documents["L-2"]["balance"] == 10


def test_failures_are_recorded_and_do_not_stop_a_run(store: EventStore) -> None:
    class Fragile(Projection):
        name = "fragile"
        handles = ("Credited",)

        def apply(self, document: dict[str, Any], event: DecodedEvent) -> dict[str, Any]:
            if event.data["amount"] == 11:
                raise ValueError("eleven is unlucky")
            document["sum"] = document.get("sum", 0) + event.data["amount"]
            return document

    fill(store, range(3))
    store.append("L-0", [ledger_event("Credited", {"amount": 1}, schema_version=9)])
    report = ProjectionRunner(store, [Fragile()], REGISTRY).catch_up("fragile")
    assert [(f.position, f.reason) for f in report.failures] == [
        (6, "ValueError: eleven is unlucky"),
        (13, "stored schema version 9 is newer than the code's version 2"),
    ]
    assert {k: v[0] for k, v in stored(store, "fragile").items()} == {
        "L-0": {"sum": 10},
        "L-2": {"sum": 12},
    }


def test_projection_history_as_of_any_position_equals_a_fresh_evaluation(
    store: EventStore,
) -> None:
    import random

    from eventscope.domain.projection_runner import ProjectionHistory

    fill(store, range(12))
    history = ProjectionHistory(store, Owners(), REGISTRY, checkpoints=4, min_step=5)
    rng = random.Random(3)
    for position in [48, 0, 7, *(rng.randint(0, 48) for _ in range(25)), 48, 3]:
        got = history.as_of(position)
        fresh = evaluate_as_of(store, Owners(), position, REGISTRY)
        assert (got.documents, got.positions) == (fresh.documents, fresh.positions), position
    assert len(history._positions) > 2  # checkpoints were kept
    # the caller may mutate what it got without harming later answers
    history.as_of(48).documents["owner-0"]["ledgers"] = 999
    assert history.as_of(48).documents["owner-0"]["ledgers"] == 4
