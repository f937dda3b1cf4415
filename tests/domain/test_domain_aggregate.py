"""Aggregates: commands validate and record, rejections record nothing, one apply path."""

from __future__ import annotations

import uuid

import pytest
from domain_helpers import Credited, Ledger, LedgerState, Tagged
from eventscope.domain.aggregate import Aggregate, applies
from eventscope.domain.errors import CommandRejected


def opened(owner: str = "ann") -> Ledger:
    ledger = Ledger("L-1")
    ledger.open(owner)
    return ledger


def test_commands_record_events_and_update_typed_state() -> None:
    ledger = opened()
    ledger.credit(30)
    ledger.debit(10)
    assert ledger.version == 3
    assert ledger.state == LedgerState(owner="ann", balance=20, tags=[], credits=1)
    assert [p.event.event_type for p in ledger.pending] == ["Opened", "Credited", "Debited"]
    assert [p.command for p in ledger.pending] == ["open", "credit", "debit"]


@pytest.mark.parametrize(
    ("setup", "act", "reason"),
    [
        (lambda: Ledger("L-1"), lambda a: a.credit(5), "is not open"),
        (lambda: Ledger("L-1"), lambda a: a.open(""), "needs an owner"),
        (opened, lambda a: a.open("bob"), "already open"),
        (opened, lambda a: a.credit(0), "must be positive"),
        (opened, lambda a: a.debit(1), "insufficient funds: balance 0"),
        (opened, lambda a: a.credit_then_overdraw(5), "insufficient funds: balance 5"),
    ],
)
def test_each_rejected_command_raises_with_its_reason_and_records_nothing(
    setup, act, reason
) -> None:
    ledger = setup()
    before_version = ledger.version
    before_state = dict(ledger.plain_state)
    before_pending = len(ledger.pending)
    with pytest.raises(CommandRejected, match=reason) as info:
        act(ledger)
    assert reason in info.value.reason
    assert ledger.version == before_version
    assert ledger.plain_state == before_state
    assert len(ledger.pending) == before_pending


def test_a_command_calling_a_command_is_one_unit_of_work() -> None:
    ledger = opened()
    ledger.credit(7)
    ledger.mark_saved()
    with pytest.raises(CommandRejected):
        ledger.credit_then_overdraw(5)  # its inner credit(5) must be undone too
    assert ledger.state.balance == 7
    assert ledger.pending == []
    assert ledger.saved_version == ledger.version == 2


def test_pending_events_carry_audit_metadata_and_schema_versions() -> None:
    ledger = opened()
    ledger.credit(5)
    events = ledger.pending_events(actor="ann", correlation_id="req-1", causation_id="cmd-9")
    assert [e.event_type for e in events] == ["Opened", "Credited"]
    assert events[1].data == {"amount": 5, "currency": "EUR"}
    assert events[1].schema_version == 2
    assert events[0].metadata == {
        "actor": "ann",
        "correlation_id": "req-1",
        "causation_id": "cmd-9",
        "command": "open",
    }
    assert isinstance(events[0].event_id, uuid.UUID)
    # a batch without a correlation id gets one, shared by all its events
    auto = ledger.pending_events(actor="ann")
    assert auto[0].metadata["correlation_id"] == auto[1].metadata["correlation_id"]
    assert auto[0].event_id == events[0].event_id  # ids are stable until saved


def test_replay_uses_the_same_apply_path_as_commands() -> None:
    ledger = opened()
    ledger.credit(12)
    ledger.tag("vip", "eu")
    replayed = Ledger("L-1")
    for pending in ledger.pending:
        replayed.apply(pending.event.event_type, pending.event.payload())
    assert replayed.plain_state == ledger.plain_state
    assert replayed.version == ledger.version
    assert replayed.pending == []


def test_initial_state_is_the_state_models_defaults_and_is_fresh_each_time() -> None:
    first = Ledger.initial_state()
    first["tags"].append("x")
    assert Ledger.initial_state() == {"owner": None, "balance": 0, "tags": [], "credits": 0}


def test_from_state_copies_the_given_state() -> None:
    state = {"owner": "z", "balance": 3, "tags": ["a"], "credits": 1}
    ledger = Ledger.from_state("L-9", state, 4)
    ledger.plain_state["tags"].append("b")
    assert state["tags"] == ["a"]
    assert ledger.version == 4 and ledger.state.balance == 3


def test_recording_an_event_the_aggregate_cannot_apply_is_a_programming_error() -> None:
    class Other(Aggregate[LedgerState]):
        State = LedgerState

        @applies(Credited)
        def _credited(state: dict, data: dict) -> None:
            state["balance"] += data["amount"]

    other = Other("o")
    with pytest.raises(TypeError, match="no applier for Tagged"):
        other.record(Tagged(tags=[]))
    assert Other.stream_type == "other"
    assert Other.handled_event_types() == ["Credited"]
