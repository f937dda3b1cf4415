"""The planted anomalies: what an auditor is asked to find in every demo history.

1. ``stale_snapshot`` -- a maintenance job rebuilt snapshots of three accounts (fewer in
   the tiniest demos, where fewer accounts have paid fees by then) with the
   previous release (``bank-2.1``), whose account code ignored `FeeCharged`: the stored
   snapshot's balance is higher than the replay by exactly the fees paid so far.
   Find it with ``eventscope diff DB ACCOUNT --snapshot V``; bisect finds the first fee.
2. ``projection_missed_event`` -- the `account_balances` projector skipped one deposit
   (a crash between handling and checkpointing, say): the stored row stays short by that
   amount forever. Find it with ``eventscope diff DB ACCOUNT --projection account_balances``.
3. ``backdated_correction`` -- four back-office corrections booked days after the business
   day they fix: `occurred_at` is earlier than `recorded_at` (the bitemporal slider shows
   two different histories).
4. ``burst_before_freeze`` -- a cash deposit at night, then dozens of withdrawals and
   transfers out within minutes, then a compliance freeze; later attempts are declined.
5. ``tampered_event`` (only with ``--tamper``) -- one stored event edited by raw SQL after
   the fact; ``eventscope verify DB`` names its position (see `demo_data.tamper`).

Each is scheduled at a fixed instant of the simulated span, with events held back from
the budget (`sim.reserve`) so it happens in every demo of any allowed size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from eventscope.demo_data import bank, catalog, clock
from eventscope.domain.demo.banking import check_debit
from eventscope.domain.demo.money import cents_to_text
from eventscope.domain.errors import CommandRejected
from eventscope.store.records import format_timestamp

if TYPE_CHECKING:
    from eventscope.demo_data.simulation import Stream
    from eventscope.demo_data.world import World

LEGACY_CODE_VERSION = "bank-2.1"
STALE_SNAPSHOTS = 3
CORRECTIONS_AT = (0.30, 0.48, 0.66, 0.80)
BURST_RESERVE = 60
KINDS = ("stale_snapshot", "projection_missed_event", "backdated_correction", "burst_before_freeze")


def plan(world: World) -> None:
    sim = world.sim
    span_seconds = sim.clock.wall_seconds(sim.clock.span_activity)

    def at(fraction: float, hour: float) -> float:
        return clock.next_business_time(fraction * span_seconds, hour)

    sim.schedule(
        clock.day_start(0.62 * span_seconds) + 3 * clock.HOUR + 7 * 60, stale_snapshots, world
    )
    sim.schedule(at(0.70, 10.5), miss_next_deposit, world)
    for index, fraction in enumerate(CORRECTIONS_AT):
        sim.reserve += 1
        sim.schedule(at(fraction, 10 + index * 1.5), backdated_correction, world, index)
    saturday = clock.day_start(0.86 * span_seconds)
    while clock.weekday(saturday) != 5:
        saturday += clock.DAY
    sim.reserve += BURST_RESERVE
    sim.schedule(saturday + 1 * clock.HOUR + 52 * 60, burst_before_freeze, world)


def _open_accounts(world: World, predicate: Any) -> list[Stream]:
    return [a for a in world.accounts if a.state["status"] == "open" and predicate(a)]


# --- 1. stale snapshots -------------------------------------------------------------------
def stale_snapshots(world: World) -> None:
    sim, rng = world.sim, world.rng
    every = sim.snapshot_every
    candidates = _open_accounts(
        world, lambda a: a.meta.get("fees_cents", 0) > 0 and a.version % every != 0
    )
    for account in rng.sample(candidates, min(STALE_SNAPSHOTS, len(candidates))):
        fees = account.meta["fees_cents"]
        legacy = orjson.loads(orjson.dumps(account.state))
        legacy["balance_cents"] += fees  # bank-2.1 never applied FeeCharged
        sim.snapshot(account, legacy, LEGACY_CODE_VERSION)
        sim.anomalies.append(
            {
                "kind": "stale_snapshot",
                "stream_id": account.id,
                "version": account.version,
                "code_version": LEGACY_CODE_VERSION,
                "written_at": format_timestamp(sim.moment()),
                "field": "balance_cents",
                "snapshot_value": legacy["balance_cents"],
                "replay_value": account.state["balance_cents"],
                "explanation": (
                    f"a maintenance job rebuilt this snapshot with release {LEGACY_CODE_VERSION}, "
                    "which ignored FeeCharged: the snapshot's balance is higher than the replay "
                    f"by the fees paid so far ({cents_to_text(fees)} {account.state['currency']})"
                ),
                "find_with": (
                    f"eventscope diff DB {account.id} --snapshot {account.version} "
                    "--domain eventscope.domain.demo"
                ),
            }
        )


# --- 2. a projection row that missed one event --------------------------------------------
def miss_next_deposit(world: World) -> None:
    sim = world.sim

    def skip(projection: str, key: str, event_type: str, data: dict) -> bool:
        if projection != "account_balances" or event_type != "MoneyDeposited":
            return False
        sim.skip_projection = None
        sim.anomalies.append(
            {
                "kind": "projection_missed_event",
                "projection": "account_balances",
                "key": key,
                "stream_id": key,
                "position": sim.count,
                "event_type": event_type,
                "field": "balance_cents",
                "missing_amount": data["amount"],
                "explanation": (
                    "the account_balances projector skipped this deposit (it crashed after "
                    "reading it and resumed past it): the stored row is short by "
                    f"{data['amount']} {data['currency']} and one movement"
                ),
                "find_with": (
                    f"eventscope diff DB {key} --projection account_balances --domain eventscope.domain.demo"
                ),
            }
        )
        return True

    sim.skip_projection = skip


# --- 3. backdated corrections -------------------------------------------------------------
def backdated_correction(world: World, index: int) -> None:
    sim, rng = world.sim, world.rng
    sim.reserve -= 1
    days_back = 2 + index * 2 + rng.randrange(2)
    business_day = clock.day_start(sim.now) - days_back * clock.DAY
    while clock.weekday(business_day) >= 5:
        business_day -= clock.DAY
    occurred = business_day + rng.uniform(10, 16) * clock.HOUR
    candidates = _open_accounts(world, lambda a: a.meta["opened_at"] < occurred - clock.DAY)
    if not candidates:
        candidates = _open_accounts(world, lambda a: True)
    account = rng.choice(candidates)
    reason, _ = catalog.CORRECTION_REASONS[index % len(catalog.CORRECTION_REASONS)]
    cents = 250 if index == 0 else rng.randrange(10, 120) * 100
    ticket = f"OPS-{4100 + index * 37 + rng.randrange(30)}"
    currency = account.state["currency"]
    sim.emit(
        account,
        "CorrectionPosted",
        {"amount": cents_to_text(cents), "currency": currency, "reason": reason, "ticket": ticket},
        catalog.BACK_OFFICE,
        ticket,
        sim.command_id(),
        command="post_correction",
        occurred=occurred,
    )
    occurred_text = format_timestamp(clock.moment(occurred))
    sim.anomalies.append(
        {
            "kind": "backdated_correction",
            "stream_id": account.id,
            "version": account.version,
            "position": sim.count,
            "occurred_at": occurred_text,
            "recorded_at": format_timestamp(sim.moment()),
            "explanation": (
                f"{ticket}: {reason}; booked {days_back}+ days after the business day it "
                "corrects, so occurred_at is earlier than recorded_at"
            ),
            "find_with": (
                f"eventscope state DB {account.id} --at {occurred_text} --axis occurred "
                "--domain eventscope.domain.demo"
            ),
        }
    )


# --- 4. burst of activity before a freeze -------------------------------------------------
def burst_before_freeze(world: World) -> None:
    sim, rng = world.sim, world.rng
    sim.reserve -= BURST_RESERVE
    budget_end = sim.count + BURST_RESERVE
    candidates = _open_accounts(
        world, lambda a: a.state["kind"] == "checking" and a.state["currency"] == "EUR"
    )
    account = rng.choice(candidates)
    targets = [a for a in world.accounts_by_currency["EUR"] if a is not account][:200]
    first = sim.count + 1
    sim.emit(
        account,
        "MoneyDeposited",
        {"amount": "9800.00", "currency": "EUR", "channel": "atm"},
        catalog.ATM,
        sim.command_id(),
        sim.command_id(),
        command="deposit",
    )
    sim.now += rng.uniform(10, 14) * 60
    movements = 0
    while sim.count + 6 < budget_end - 8 and movements < 40:
        sim.now += rng.uniform(8, 35)
        balance = account.state["balance_cents"] + account.state["overdraft_limit_cents"]
        cents = rng.randrange(180, 420) * 100
        if balance < cents:
            break
        if rng.random() < 0.3 and targets:
            bank.run_transfer(world, account, rng.choice(targets), cents, "consulting fee")
        else:
            bank.withdraw(world, account, cents, rng.choice(("atm", "card", "online")))
        movements += 1
    last = sim.count
    sim.now += rng.uniform(25, 40) * 60
    case_id = "AML-2026-0142"
    frozen = bank.freeze(
        world, account, "unusual activity flagged by transaction monitoring", case_id
    )
    freeze_position = sim.count
    declined = []
    for _ in range(2):
        sim.now += rng.uniform(5, 20) * 60
        if targets and sim.count + 2 <= budget_end:
            declined_at = sim.count + 1
            outcome = bank.run_transfer(
                world, account, rng.choice(targets), rng.randrange(200, 400) * 100, "consulting fee"
            )
            if outcome == "declined":
                declined.append(declined_at)
    try:
        check_debit(account.state, 100, "EUR")
    except CommandRejected as refusal:
        refused = refusal.reason
    else:  # pragma: no cover - the freeze above always lands
        refused = ""
    sim.anomalies.append(
        {
            "kind": "burst_before_freeze",
            "stream_id": account.id,
            "first_position": first,
            "last_position": last,
            "movements": movements,
            "freeze_position": freeze_position if frozen else None,
            "case_id": case_id,
            "declined_transfer_positions": declined,
            "explanation": (
                "a 9,800.00 EUR cash deposit at an ATM in the night, then "
                f"{movements} withdrawals and transfers out within minutes, then a compliance "
                f"freeze (case {case_id}); afterwards the account refuses movements: {refused}"
            ),
            "find_with": f"eventscope events DB {account.id} --json",
        }
    )


def check_complete(world: World) -> None:
    """Fail loudly rather than ship a demo that misses a planted anomaly."""
    found = {item["kind"] for item in world.sim.anomalies}
    missing = [kind for kind in KINDS if kind not in found]
    if missing:
        raise RuntimeError(f"the demo generator did not plant: {', '.join(missing)}")
