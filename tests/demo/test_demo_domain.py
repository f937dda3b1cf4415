"""Domain rules of the demo aggregates and the transfer saga, on the real classes."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import orjson
import pytest
from eventscope.demo_data import bank
from eventscope.demo_data.simulation import Simulation
from eventscope.demo_data.world import World
from eventscope.domain.demo import (
    DEMO_STREAM_TYPES,
    PROJECTION_NAMES,
    Account,
    Order,
    Product,
    Transfer,
)
from eventscope.domain.demo.saga import SAGA_ACTOR, TransferSaga
from eventscope.domain.errors import CommandRejected
from eventscope.store import EventStore, NewEvent


def open_account(account_id: str, deposit: str = "100.00", limit: str = "0.00") -> Account:
    account = Account(account_id)
    account.open("customer-000001", "checking", "EUR", limit)
    if deposit != "0.00":
        account.deposit(deposit, "EUR", "branch")
    account.mark_saved()
    return account


def test_overdraft_is_rejected_and_records_nothing() -> None:
    account = open_account("account-1", "100.00", limit="50.00")
    account.withdraw("150.00", "EUR")  # down to the limit exactly: allowed
    assert account.plain_state["balance_cents"] == -5000
    before = (account.version, dict(account.plain_state), len(account.pending))
    with pytest.raises(CommandRejected, match="insufficient funds"):
        account.withdraw("0.01", "EUR")
    assert (account.version, account.plain_state, len(account.pending)) == before


def test_a_frozen_account_rejects_withdrawals_until_unfrozen() -> None:
    account = open_account("account-1", "500.00")
    account.freeze("unusual activity", "CASE-1")
    for attempt in (
        lambda: account.withdraw("10.00", "EUR"),
        lambda: account.debit_for_transfer("transfer-1", "10.00", "EUR", "account-2"),
        lambda: account.charge_fee("2.50", "EUR", "card"),
        lambda: account.deposit("10.00", "EUR"),
    ):
        with pytest.raises(CommandRejected, match="frozen"):
            attempt()
    assert account.plain_state["balance_cents"] == 50000
    account.unfreeze("review completed", "CASE-1")
    account.withdraw("10.00", "EUR")
    assert account.plain_state["balance_cents"] == 49000


def test_other_account_rules() -> None:
    account = open_account("account-1", "20.00")
    with pytest.raises(CommandRejected, match="holds EUR"):
        account.deposit("1.00", "USD")
    with pytest.raises(CommandRejected, match="zero balance"):
        account.close("moving abroad")
    account.withdraw("20.00", "EUR")
    account.close("moving abroad")
    with pytest.raises(CommandRejected, match="closed"):
        account.deposit("1.00", "EUR")
    with pytest.raises(CommandRejected, match="already open"):
        account.open("customer-000001", "checking", "EUR")


def test_order_and_inventory_rules() -> None:
    order = Order("order-1")
    order.place("customer-000001", "EUR", [{"sku": "P0001", "quantity": 2, "unit_price": "12.99"}])
    order.add_line("P0002", 1, "5.00")
    assert order.plain_state["total_cents"] == 2 * 1299 + 500
    with pytest.raises(CommandRejected, match="does not match"):
        order.pay("1.00", "EUR", "PAY-1")
    with pytest.raises(CommandRejected, match="only a paid order"):
        order.ship("DHL", "DH1")
    order.pay("30.98", "EUR", "PAY-1")
    with pytest.raises(CommandRejected, match="not placed"):
        order.add_line("P0003", 1, "1.00")
    order.ship("DHL", "DH1")
    with pytest.raises(CommandRejected, match="exceed"):
        order.refund("31.00", "EUR", "damaged")
    order.refund("30.98", "EUR", "damaged")
    assert order.plain_state["status"] == "refunded"

    product = Product("product-P0001")
    product.list_product("P0001", "Espresso Cups", "12.99", "EUR")
    product.receive(3, "Nordic Wholesale", "DN-1")
    product.reserve("order-1", 2)
    with pytest.raises(CommandRejected, match="only 1 of P0001 available"):
        product.reserve("order-2", 2)
    product.release("order-1", 2, "order cancelled")
    assert (product.plain_state["available"], product.plain_state["reserved"]) == (3, 0)


def _saga() -> TransferSaga:
    counter = itertools.count(1)
    return TransferSaga(new_id=lambda: uuid.UUID(int=next(counter), version=4))


def test_saga_completes_a_transfer_with_one_correlation_and_a_causation_chain() -> None:
    source, target = open_account("account-1", "100.00"), open_account("account-2", "0.00")
    transfer = Transfer("transfer-1")
    writes = _saga().run(transfer, source, target, "40.00", "EUR", "rent", "customer:c1")
    assert [(w.stream_id, w.event.event_type) for w in writes] == [
        ("transfer-1", "TransferRequested"),
        ("account-1", "TransferDebited"),
        ("account-2", "TransferCredited"),
        ("transfer-1", "TransferCompleted"),
    ]
    assert {w.event.metadata["correlation_id"] for w in writes} == {"transfer-1"}
    for cause, effect in itertools.pairwise(writes):
        assert effect.event.metadata["causation_id"] == str(cause.event.event_id)
    assert writes[0].event.metadata["actor"] == "customer:c1"
    assert {w.event.metadata["actor"] for w in writes[1:]} == {SAGA_ACTOR}
    assert source.plain_state["balance_cents"] == 6000
    assert target.plain_state["balance_cents"] == 4000
    assert transfer.plain_state["status"] == "completed"


def test_saga_records_a_declined_transfer_as_a_fact_and_moves_nothing() -> None:
    source, target = open_account("account-1", "10.00"), open_account("account-2", "0.00")
    transfer = Transfer("transfer-1")
    writes = _saga().run(transfer, source, target, "40.00", "EUR", "rent", "customer:c1")
    assert [w.event.event_type for w in writes] == ["TransferRequested", "TransferDeclined"]
    assert "insufficient funds" in writes[1].event.data["reason"]
    assert source.plain_state["balance_cents"] == 1000 and not source.pending
    assert target.plain_state["balance_cents"] == 0 and not target.pending


def test_saga_compensates_when_the_credit_leg_fails() -> None:
    source, target = open_account("account-1", "100.00"), open_account("account-2", "0.00")
    target.freeze("request from law enforcement", "CASE-9")
    target.mark_saved()
    transfer = Transfer("transfer-1")
    writes = _saga().run(transfer, source, target, "40.00", "EUR", "rent", "customer:c1")
    assert [(w.stream_id, w.event.event_type) for w in writes] == [
        ("transfer-1", "TransferRequested"),
        ("account-1", "TransferDebited"),
        ("account-1", "TransferDebitReversed"),
        ("transfer-1", "TransferFailed"),
    ]
    assert writes[3].event.data == {"reason": writes[2].event.data["reason"], "compensated": True}
    assert "frozen" in writes[2].event.data["reason"]
    assert writes[2].event.metadata["causation_id"] == str(writes[1].event.event_id)
    assert source.plain_state["balance_cents"] == 10000  # the money came back
    assert target.plain_state["balance_cents"] == 0 and not target.pending
    assert transfer.plain_state["status"] == "failed"


def test_the_saga_writes_to_a_store_and_replays_to_the_same_states(tmp_path: Path) -> None:
    store = EventStore.open(str(tmp_path / "saga.db"))
    try:
        source, target = Account("account-1"), Account("account-2")
        for account in (source, target):
            account.open("customer-000001", "checking", "EUR")
            account.deposit("100.00", "EUR")
            store.append(
                account.id, account.pending_events(actor="teller:t"), stream_type="account"
            )
            account.mark_saved()
        writes = _saga().run(Transfer("transfer-1"), source, target, "25.00", "EUR", "x", "c")
        for write in writes:
            store.append(write.stream_id, [write.event], stream_type=write.stream_type)
        for account in (source, target):
            replayed = Account(account.id)
            for event in store.read_stream(account.id):
                replayed.apply(event.event_type, event.data)
            assert replayed.plain_state == account.plain_state
    finally:
        store.close()


@pytest.mark.parametrize(
    ("source_deposit", "freeze_target", "outcome"),
    [("100.00", False, "completed"), ("10.00", False, "declined"), ("100.00", True, "failed")],
)
def test_the_generator_runs_transfers_exactly_like_the_saga(
    source_deposit: str, freeze_target: bool, outcome: str
) -> None:
    """The generator's fast plain-dict saga must emit what the aggregate saga emits."""
    sim = Simulation(1_000, seed=1)
    world = World(sim)
    plain = []
    aggregates = []
    for index, deposit in ((1, source_deposit), (2, "0.00")):
        account = open_account(f"account-{index}", deposit)
        if freeze_target and index == 2:
            account.freeze("request from law enforcement", "CASE-9")
        aggregates.append(account)
        stream = sim.new_stream(account.id, "account")
        stream.state = dict(account.plain_state)
        stream.version = account.version
        plain.append(stream)
    world.counters["transfer"] = 0
    assert bank.run_transfer(world, plain[0], plain[1], 4000, "rent", "customer:c1") == outcome
    generated, _ = sim.take_output()
    writes = _saga().run(
        Transfer("transfer-0000001"), *aggregates, "40.00", "EUR", "rent", "customer:c1"
    )
    assert [(g[0], g[3].event_type, orjson.loads(g[3].data_text)) for g in generated] == [
        (w.stream_id, w.event.event_type, w.event.data) for w in writes
    ]
    assert [orjson.loads(g[3].metadata_text)["command"] for g in generated] == [
        w.event.metadata["command"] for w in writes
    ]
    assert [p.state for p in plain] == [a.plain_state for a in aggregates]


def test_demo_domain_applies_only_to_stores_the_demo_labelled(tmp_path: Path) -> None:
    """A real bank's store with every demo stream type -- and the demo's read model names --
    is replayed with the generic fold: only the demo's own label selects its code."""
    from eventscope.demo_data.build import mark_as_demo
    from eventscope.domain.demo import built_by_demo
    from eventscope.explorer.engine_factory import build_engine

    store = EventStore.open(str(tmp_path / "their-bank.db"))
    try:
        for stream_type in sorted(DEMO_STREAM_TYPES):
            store.append(
                f"{stream_type}-1",
                [NewEvent("AccountOpened", {"status": "frozen", "amount": "12.50"})],
                stream_type=stream_type,
            )
        for name in PROJECTION_NAMES:
            store.put_projection_rows(name, [("account-1", {"x": 1}, 1)], checkpoint=5)
        assert not built_by_demo(store)
        engine = build_engine(store)
        assert engine.plugin is None  # the generic fold: their data as stored
        state = engine.state("account-1")
        assert state.state == {"status": "frozen", "amount": "12.50"} and not state.skipped
        mark_as_demo(store)
        assert built_by_demo(store) and build_engine(store).plugin is not None
    finally:
        store.close()
