"""Banking scenarios: onboarding with KYC, deposits, withdrawals, transfers (the saga),
address changes, freezes, closures and the month-end fee and interest batch.

Every movement is checked with the aggregate's own rule functions first; a refused
command records nothing (it is counted in `sim.stats["rejected_commands"]`), exactly as
the `Account` aggregate would behave. Transfers follow `domain.demo.saga.TransferSaga`
step by step (a test holds the two to the same events).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from eventscope.demo_data import catalog, clock
from eventscope.domain.demo import banking
from eventscope.domain.demo.events import address_to_v1, money_to_v1
from eventscope.domain.demo.money import cents_to_text
from eventscope.domain.demo.saga import SAGA_ACTOR
from eventscope.domain.errors import CommandRejected

if TYPE_CHECKING:
    from eventscope.demo_data.simulation import Stream
    from eventscope.demo_data.world import World

MINUTE = 60.0
HOUR = clock.HOUR
DAY = clock.DAY


# --- people -------------------------------------------------------------------------------
def _postcode(world: World, pattern: str) -> str:
    rng = world.rng
    return "".join(
        str(rng.randrange(10))
        if char == "#"
        else chr(65 + rng.randrange(26))
        if char == "@"
        else char
        for char in pattern
    )


def random_address(world: World) -> dict[str, str]:
    rng = world.rng
    city, country, pattern = rng.choice(catalog.CITIES)
    street = rng.choice(catalog.STREETS[country])
    number = rng.randint(1, 240)
    line = f"{number} {street}" if country in catalog.NUMBER_FIRST else f"{street} {number}"
    return {"street": line, "postcode": _postcode(world, pattern), "city": city, "country": country}


def _ascii(text: str) -> str:
    """ "zoë.yılmaz" -> "zoe.ylmaz": e-mail addresses stay plain ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def onboard(world: World) -> None:
    """A new customer registers (in a branch or online); KYC follows later."""
    sim, rng = world.sim, world.rng
    customer_id = world.next_id("customer", 6)
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    handle = _ascii(f"{first}.{last}".lower().replace(" ", "").replace("'", ""))
    email = f"{handle}{rng.randint(1, 99)}@{rng.choice(catalog.EMAIL_DOMAINS)}"
    customer = sim.new_stream(customer_id, "customer")
    online = rng.random() < 0.55
    actor = world.customer_actor(customer_id) if online else world.teller()
    correlation = f"onboarding-{customer_id}"
    registered = sim.emit(
        customer,
        "CustomerRegistered",
        {
            "customer_id": customer_id,
            "name": f"{first} {last}",
            "email": email,
            "address": random_address(world),
        },
        actor,
        correlation,
        sim.command_id(),
        command="register",
        schema_1=address_to_v1 if world.address_v1() else None,
    )
    world.customers.append(customer)
    world.customers_by_id[customer_id] = customer
    delay = (
        rng.uniform(8 * MINUTE, 30 * MINUTE)
        if rng.random() < 0.7
        else rng.uniform(4 * HOUR, 2 * DAY)
    )
    sim.schedule(sim.now + delay, kyc_decision, world, customer, correlation, registered)


def kyc_decision(world: World, customer: Stream, correlation: str, cause: str) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(4):
        return
    if rng.random() < 0.03:
        sim.emit(
            customer,
            "KycRejected",
            {"reason": rng.choice(("document could not be verified", "sanctions list match"))},
            catalog.COMPLIANCE_OFFICER,
            correlation,
            cause,
            command="reject_kyc",
        )
        return
    enhanced = rng.random() < 0.08
    verified = sim.emit(
        customer,
        "KycVerified",
        {
            "method": rng.choice(("id-document", "video-call", "in-branch")),
            "level": "enhanced" if enhanced else "standard",
        },
        catalog.COMPLIANCE_OFFICER if enhanced else catalog.KYC_PROVIDER,
        correlation,
        cause,
        command="verify_kyc",
    )
    world.verified.append(customer)
    sim.tick(20, 300)
    account, opened = open_account(world, customer, "checking", "EUR", correlation, verified)
    sim.tick(60, 3600)
    cents = rng.randrange(50, 2500) * 100
    sim.emit(
        account,
        "MoneyDeposited",
        {
            "amount": cents_to_text(cents),
            "currency": "EUR",
            "channel": rng.choice(("branch", "online")),
        },
        world.customer_actor(customer.id),
        correlation,
        opened,
        command="deposit",
        schema_1=money_to_v1 if world.money_v1() else None,
    )


def open_account(
    world: World, customer: Stream, kind: str, currency: str, correlation: str, cause: str
) -> tuple[Stream, str]:
    sim, rng = world.sim, world.rng
    account_id = world.next_id("account", 6)
    account = sim.new_stream(account_id, "account")
    limit = rng.choice((0, 0, 250, 500, 1000)) * 100 if kind == "checking" else 0
    opened = sim.emit(
        account,
        "AccountOpened",
        {
            "account_id": account_id,
            "customer_id": customer.id,
            "kind": kind,
            "currency": currency,
            "overdraft_limit": cents_to_text(limit),
        },
        world.teller() if rng.random() < 0.4 else world.customer_actor(customer.id),
        correlation,
        cause,
        command="open",
    )
    account.meta["opened_at"] = sim.now
    account.meta["fees_cents"] = 0
    if kind == "checking" and "salaried" not in customer.meta:
        # Most customers have their salary paid into their first current account.
        customer.meta["salaried"] = rng.random() < 0.7
        if customer.meta["salaried"]:
            account.meta["salary_cents"] = rng.randrange(1800, 5200) * 100 + rng.randrange(100)
            account.meta["employer"] = rng.choice(catalog.EMPLOYERS)
    customer.meta.setdefault("accounts", []).append(account)
    world.add_account(account)
    return account, opened


def open_second_account(world: World) -> None:
    sim, rng = world.sim, world.rng
    if not world.verified:
        return
    customer = rng.choice(world.verified)
    currency = "EUR"
    if not world.money_v1() and rng.random() < 0.35:
        currency = (
            "GBP"
            if customer.state["address"].get("country") == "GB"
            else rng.choice(("USD", "GBP"))
        )
    correlation = sim.command_id()
    open_account(
        world,
        customer,
        "savings" if rng.random() < 0.7 else "checking",
        currency,
        correlation,
        correlation,
    )


def change_address(world: World) -> None:
    sim, rng = world.sim, world.rng
    if not world.verified:
        return
    customer = rng.choice(world.verified)
    command = sim.command_id()
    sim.emit(
        customer,
        "CustomerAddressChanged",
        {"address": random_address(world)},
        world.customer_actor(customer.id) if rng.random() < 0.6 else world.teller(),
        command,
        command,
        command="change_address",
    )


# --- movements ----------------------------------------------------------------------------
def _rejected(world: World, stream: Stream, command: str, refusal: CommandRejected) -> None:
    world.sim.reject(stream, command, refusal.reason)


def deposit(world: World, account: Stream | None = None) -> None:
    sim, rng = world.sim, world.rng
    if account is None:
        if not world.accounts:
            return
        account = rng.choice(world.accounts)
    state = account.state
    roll = rng.random()
    customer_id = state["customer_id"]
    if roll < 0.4:
        channel, actor, cents = "atm", catalog.ATM, rng.randrange(2, 40) * 1000
    elif roll < 0.65:
        channel, actor, cents = "branch", world.teller(), rng.randrange(50, 3000) * 100
    else:
        channel, actor, cents = (
            "online",
            world.customer_actor(customer_id),
            rng.randrange(1000, 80000),
        )
    currency = state["currency"]
    try:
        banking.check_credit(state, cents, currency)
    except CommandRejected as refusal:
        _rejected(world, account, "deposit", refusal)
        return
    command = sim.command_id()
    sim.emit(
        account,
        "MoneyDeposited",
        {"amount": cents_to_text(cents), "currency": currency, "channel": channel},
        actor,
        command,
        command,
        command="deposit",
        schema_1=money_to_v1 if world.money_v1() else None,
    )


def withdraw(
    world: World,
    account: Stream | None = None,
    cents: int | None = None,
    channel: str | None = None,
) -> bool:
    sim, rng = world.sim, world.rng
    if account is None:
        if not world.accounts:
            return False
        account = rng.choice(world.accounts)
    state = account.state
    if channel is None:
        roll = rng.random()
        channel = (
            "atm"
            if roll < 0.6
            else "card"
            if roll < 0.85
            else "branch"
            if roll < 0.95
            else "online"
        )
    if cents is None:
        cents = rng.randrange(2, 30) * 1000 if channel == "atm" else rng.randrange(500, 150000)
    if channel == "atm":
        actor = catalog.ATM
    elif channel == "branch":
        actor = world.teller()
    else:
        actor = world.customer_actor(state["customer_id"])
    currency = state["currency"] or "EUR"
    try:
        banking.check_debit(state, cents, currency)
    except CommandRejected as refusal:
        _rejected(world, account, "withdraw", refusal)
        return False
    command = sim.command_id()
    sim.emit(
        account,
        "MoneyWithdrawn",
        {"amount": cents_to_text(cents), "currency": currency, "channel": channel},
        actor,
        command,
        command,
        command="withdraw",
        schema_1=money_to_v1 if world.money_v1() else None,
    )
    return True


def transfer(world: World) -> None:
    rng = world.rng
    if len(world.accounts) < 2:
        return
    source = rng.choice(world.accounts)
    if rng.random() < 0.2:
        # Saving: from a current account to the customer's own savings account.
        own = [a for a in world.customer_accounts(source) if a is not source]
        if own:
            target = rng.choice(own)
            cents = rng.randrange(25, 500) * 100
            run_transfer(world, source, target, cents, "savings")
            return
    currency = source.state["currency"]
    pool = world.accounts_by_currency.get(currency, world.accounts)
    target = rng.choice(pool if rng.random() < 0.97 else world.accounts)
    if target is source:
        return
    cents = int(rng.paretovariate(1.3) * 2000) + rng.randrange(100)
    cents = min(cents, 2_000_000)
    run_transfer(world, source, target, cents, rng.choice(catalog.TRANSFER_REFERENCES))


def run_transfer(
    world: World,
    source: Stream,
    target: Stream,
    cents: int,
    reference: str,
    actor: str | None = None,
) -> str:
    """The transfer saga on plain state (mirrors `domain.demo.saga.TransferSaga`).
    Returns the outcome: completed, declined or failed."""
    sim = world.sim
    transfer_id = world.next_id("transfer", 7)
    stream = sim.new_stream(transfer_id, "transfer")
    currency = source.state["currency"]
    amount = cents_to_text(cents)
    requested = sim.emit(
        stream,
        "TransferRequested",
        {
            "transfer_id": transfer_id,
            "from_account": source.id,
            "to_account": target.id,
            "amount": amount,
            "currency": currency,
            "reference": reference,
        },
        actor or world.customer_actor(source.state["customer_id"]),
        transfer_id,
        sim.command_id(),
        command="request",
    )
    sim.tick(0.05, 0.4)
    try:
        banking.check_debit(source.state, cents, currency)
    except CommandRejected as refusal:
        sim.emit(
            stream,
            "TransferDeclined",
            {"reason": refusal.reason},
            SAGA_ACTOR,
            transfer_id,
            requested,
            command="decline",
        )
        return "declined"
    debited = sim.emit(
        source,
        "TransferDebited",
        {
            "transfer_id": transfer_id,
            "amount": amount,
            "currency": currency,
            "counterparty": target.id,
        },
        SAGA_ACTOR,
        transfer_id,
        requested,
        command="debit_for_transfer",
    )
    sim.tick(0.05, 0.6)
    try:
        banking.check_credit(target.state, cents, currency)
    except CommandRejected as refusal:
        reversed_id = sim.emit(
            source,
            "TransferDebitReversed",
            {
                "transfer_id": transfer_id,
                "amount": amount,
                "currency": currency,
                "reason": refusal.reason,
            },
            SAGA_ACTOR,
            transfer_id,
            debited,
            command="reverse_transfer_debit",
        )
        sim.tick(0.02, 0.2)
        sim.emit(
            stream,
            "TransferFailed",
            {"reason": refusal.reason, "compensated": True},
            SAGA_ACTOR,
            transfer_id,
            reversed_id,
            command="fail",
        )
        return "failed"
    credited = sim.emit(
        target,
        "TransferCredited",
        {
            "transfer_id": transfer_id,
            "amount": amount,
            "currency": currency,
            "counterparty": source.id,
        },
        SAGA_ACTOR,
        transfer_id,
        debited,
        command="credit_for_transfer",
    )
    sim.tick(0.02, 0.2)
    sim.emit(stream, "TransferCompleted", {}, SAGA_ACTOR, transfer_id, credited, command="complete")
    return "completed"


# --- compliance and lifecycle -------------------------------------------------------------
def freeze(world: World, account: Stream, reason: str, case_id: str) -> str | None:
    sim = world.sim
    try:
        banking.check_freeze(account.state)
    except CommandRejected as refusal:
        _rejected(world, account, "freeze", refusal)
        return None
    return sim.emit(
        account,
        "AccountFrozen",
        {"reason": reason, "case_id": case_id},
        catalog.COMPLIANCE_OFFICER,
        case_id,
        sim.command_id(),
        command="freeze",
    )


def random_freeze(world: World) -> None:
    sim, rng = world.sim, world.rng
    if not world.accounts:
        return
    account = rng.choice(world.accounts)
    case_id = f"CASE-{rng.randrange(1000, 9999)}"
    if freeze(world, account, rng.choice(catalog.FREEZE_REASONS), case_id) and rng.random() < 0.75:
        when = clock.next_business_time(sim.now + rng.uniform(1, 6) * DAY, rng.uniform(9, 16))
        sim.schedule(when, unfreeze, world, account, case_id)


def unfreeze(world: World, account: Stream, case_id: str) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(1):
        return
    try:
        banking.check_unfreeze(account.state)
    except CommandRejected as refusal:
        _rejected(world, account, "unfreeze", refusal)
        return
    sim.emit(
        account,
        "AccountUnfrozen",
        {"reason": rng.choice(catalog.UNFREEZE_REASONS), "case_id": case_id},
        catalog.COMPLIANCE_OFFICER,
        case_id,
        sim.command_id(),
        command="unfreeze",
    )


def close_account(world: World) -> None:
    """A customer closes an account at a branch: the teller pays out the balance first."""
    sim, rng = world.sim, world.rng
    if not world.accounts:
        return
    account = rng.choice(world.accounts)
    state = account.state
    if state["status"] != "open" or state["balance_cents"] < 0:
        return
    teller = world.teller()
    command = sim.command_id()
    if state["balance_cents"] > 0:
        sim.emit(
            account,
            "MoneyWithdrawn",
            {
                "amount": cents_to_text(state["balance_cents"]),
                "currency": state["currency"],
                "channel": "branch",
            },
            teller,
            command,
            command,
            command="withdraw",
            schema_1=money_to_v1 if world.money_v1() else None,
        )
        sim.tick(30, 240)
    banking.check_close(state)
    sim.emit(
        account,
        "AccountClosed",
        {"reason": "closed at the customer's request"},
        teller,
        command,
        command,
        command="close",
    )


# --- the night batch ----------------------------------------------------------------------
MAINTENANCE_FEE = 250
INTEREST_RATE = "0.0150"


def month_end_batch(world: World) -> None:
    """01:30 on the 1st: maintenance fees on current accounts, interest on savings."""
    sim = world.sim
    month = sim.day(sim.now)[:7]
    batch = f"month-end-{month}"
    for account in list(world.accounts):
        if not sim.room(1):
            return
        state = account.state
        if state["status"] != "open":
            continue
        currency = state["currency"]
        if state["kind"] == "checking":
            try:
                banking.check_debit(state, MAINTENANCE_FEE, currency)
            except CommandRejected as refusal:
                _rejected(world, account, "charge_fee", refusal)
                continue
            sim.emit(
                account,
                "FeeCharged",
                {
                    "amount": cents_to_text(MAINTENANCE_FEE),
                    "currency": currency,
                    "fee": "monthly-maintenance",
                },
                catalog.BILLING,
                batch,
                batch,
                command="charge_fee",
            )
            account.meta["fees_cents"] += MAINTENANCE_FEE
        else:
            cents = state["balance_cents"] * 15 // 12_000
            if cents <= 0:
                continue
            sim.emit(
                account,
                "InterestPaid",
                {"amount": cents_to_text(cents), "currency": currency, "rate": INTEREST_RATE},
                catalog.BILLING,
                batch,
                batch,
                command="pay_interest",
            )
        sim.tick(0.01, 0.05)


def payroll_batch(world: World) -> None:
    """05:30 on payday: employers' salary files credit every salaried current account."""
    sim = world.sim
    batch = f"payroll-{sim.day(sim.now)[:7]}"
    for account in list(world.accounts):
        cents = account.meta.get("salary_cents")
        if cents is None:
            continue
        if not sim.room(1):
            return
        state = account.state
        try:
            banking.check_credit(state, cents, state["currency"])
        except CommandRejected as refusal:  # a frozen or closed account: the salary bounces
            _rejected(world, account, "deposit", refusal)
            continue
        sim.emit(
            account,
            "MoneyDeposited",
            {"amount": cents_to_text(cents), "currency": state["currency"], "channel": "salary"},
            catalog.PAYROLL,
            batch,
            f"{batch}-{account.meta['employer'].lower().replace(' ', '-')}",
            command="deposit",
            schema_1=money_to_v1 if world.money_v1() else None,
        )
        sim.tick(0.01, 0.05)
