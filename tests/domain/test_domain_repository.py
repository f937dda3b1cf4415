"""The repository on SQLite and PostgreSQL: load latest / at a version / at a time, save
with the expected version, and the snapshot policy."""

from __future__ import annotations

import pytest
from domain_helpers import LEDGER_EVENTS, LEDGER_UPCASTERS, Ledger, at, ledger_event
from eventscope.domain.errors import DomainError, VersionOutOfRange
from eventscope.domain.events import EventRegistry
from eventscope.domain.repository import Repository
from eventscope.store import ConcurrencyError, EventStore, NewEvent, StreamNotFound

REGISTRY = EventRegistry(LEDGER_EVENTS, LEDGER_UPCASTERS)


def repo(store: EventStore, snapshot_every: int | None = None) -> Repository[Ledger]:
    return Repository(store, Ledger, REGISTRY, snapshot_every=snapshot_every)


def test_save_then_load_round_trips_with_audit_metadata(store: EventStore) -> None:
    repository = repo(store)
    ledger = Ledger("L-1")
    ledger.open("ann")
    ledger.credit(50)
    recorded = repository.save(ledger, actor="ann", correlation_id="req-1")
    assert [r.version for r in recorded] == [1, 2]
    assert recorded[1].metadata["command"] == "credit"
    assert recorded[1].metadata["correlation_id"] == "req-1"
    assert recorded[1].stream_type == "ledger"
    assert ledger.pending == [] and ledger.saved_version == 2
    loaded = repository.load("L-1")
    assert loaded.version == 2 and loaded.plain_state == ledger.plain_state
    loaded.debit(20)
    repository.save(loaded, actor="bob")
    assert repository.load("L-1").state.balance == 30
    assert repository.load("L-1", version=1).state.balance == 0
    assert repository.save(loaded) == []  # nothing pending: nothing written


def test_stale_aggregate_raises_concurrency_error_and_writes_nothing(store: EventStore) -> None:
    repository = repo(store)
    ledger = Ledger("L-2")
    ledger.open("ann")
    repository.save(ledger)
    first, second = repository.load("L-2"), repository.load("L-2")
    first.credit(5)
    repository.save(first)
    second.credit(7)
    with pytest.raises(ConcurrencyError, match="expected at version 1 but is at version 2"):
        repository.save(second)
    assert store.stream_info("L-2").version == 2
    fresh = Ledger("L-2")
    fresh.open("eve")  # a second "new" stream with the same id
    with pytest.raises(ConcurrencyError):
        repository.save(fresh)


def test_load_at_a_time_on_both_axes(store: EventStore) -> None:
    store.append(
        "L-3",
        [
            ledger_event("Opened", {"owner": "ann"}, occurred_at=at(0), recorded_at=at(1)),
            ledger_event("Credited", {"amount": 10, "currency": "EUR"}, schema_version=2,
                         occurred_at=at(1), recorded_at=at(2)),
            ledger_event("Credited", {"amount": 5}, schema_version=1,  # backdated
                         occurred_at=at(0.5), recorded_at=at(3)),
        ],
        stream_type="ledger",
    )  # fmt: skip
    repository = repo(store)
    assert repository.load("L-3", at=at(0.9)).version == 0
    assert repository.load("L-3", at=at(2.5)).state.balance == 10
    # Business time: as of 0.75 h v1 and the backdated v3 had happened, v2 (at 1 h) not.
    as_of = repository.load("L-3", at=at(0.75), axis="occurred")
    assert as_of.version == 3 and as_of.state.balance == 5
    assert repository.load("L-3", at=at(-1), axis="occurred").version == 0
    with pytest.raises(DomainError, match="business time"):
        repository.save(as_of)  # a view of the past cannot take commands
    assert repository.load("L-3").state.balance == 15  # the v1 event was upcast


def test_snapshot_policy_writes_snapshots_with_code_version_and_they_are_used(
    store: EventStore,
) -> None:
    repository = repo(store, snapshot_every=3)
    ledger = Ledger("L-4")
    ledger.open("ann")
    repository.save(ledger)
    for amount in (1, 2, 3, 4, 5):
        ledger.credit(amount)
        repository.save(ledger)
    snapshots = store.snapshots("L-4")
    assert [s.version for s in snapshots] == [3, 6]
    assert snapshots[-1].code_version == "ledger-1"
    assert snapshots[-1].aggregate_type == "Ledger"
    assert snapshots[-1].schema_version == Ledger.state_schema_version
    assert snapshots[-1].state == ledger.plain_state
    # A snapshot is used when it matches the code: prove it by planting a different one.
    store.save_snapshot("L-4", 6, {**ledger.plain_state, "balance": 999}, "Ledger", 1, "ledger-1")
    assert repository.load("L-4").state.balance == 999
    assert repository.load("L-4", use_snapshots=False).state.balance == 15
    # ... and ignored when another code version wrote it.
    store.save_snapshot("L-4", 6, {**ledger.plain_state, "balance": 999}, "Ledger", 1, "old")
    assert repository.load("L-4").state.balance == 15


def test_load_refuses_unknown_streams_bad_versions_and_unappliable_events(
    store: EventStore,
) -> None:
    repository = repo(store)
    with pytest.raises(StreamNotFound):
        repository.load("missing")
    store.append(
        "L-5",
        [ledger_event("Opened", {"owner": "a"}), NewEvent("Renamed", {"to": "b"})],
        stream_type="ledger",
    )
    with pytest.raises(VersionOutOfRange, match="0 to 2"):
        repository.load("L-5", version=3)
    assert repository.load("L-5", version=1).state.owner == "a"
    with pytest.raises(DomainError, match="event 2 \\(Renamed\\) cannot be applied"):
        repository.load("L-5")
