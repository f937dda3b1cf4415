"""Banking aggregates: customers (KYC, address), accounts and transfers.

The rules live in small pure functions over the plain state (`check_*`), used both by the
aggregates' command methods and by the demo generator, which runs them on plain dicts so
it can write a million events in seconds. One rule, one place: a generated history can
never contain a movement the aggregate would have refused.

Each aggregate also states its rules per event (`@checks`), with the same functions, so a
changed history ("what if this deposit had not happened?") names the first event the
aggregate would have refused.

Account rules a trainer can show:
* a withdrawal (or transfer debit, or fee) may not take the balance below minus the
  overdraft limit -- the command is rejected and nothing is recorded;
* a frozen account accepts no movement at all until a compliance officer unfreezes it;
* a closed account accepts nothing; it can be closed only at a zero balance.
"""

from __future__ import annotations

from eventscope.domain.aggregate import Aggregate, applies, checks, command
from eventscope.domain.demo import events as ev
from eventscope.domain.demo.money import cents_to_text, text_to_cents
from eventscope.domain.errors import CommandRejected
from eventscope.store.records import JSONObject
from pydantic import BaseModel

CODE_VERSION = "bank-2.3"


# --- customers ----------------------------------------------------------------------------
class CustomerState(BaseModel):
    customer_id: str = ""
    name: str = ""
    email: str = ""
    address: dict[str, str] = {}
    kyc_status: str = "none"
    kyc_level: str | None = None


class Customer(Aggregate[CustomerState]):
    """A bank (and shop) customer: identity, address and KYC status."""

    stream_type = "customer"
    State = CustomerState
    code_version = CODE_VERSION

    @command
    def register(self, customer_id: str, name: str, email: str, address: dict) -> None:
        if self.version:
            raise CommandRejected(f"customer {self.id} is already registered")
        self.record(
            ev.CustomerRegistered(
                customer_id=customer_id, name=name, email=email, address=ev.Address(**address)
            )
        )

    @command
    def verify_kyc(self, method: str, level: str) -> None:
        check_kyc_decision(self.plain_state)
        self.record(ev.KycVerified(method=method, level=level))  # type: ignore[arg-type]

    @command
    def reject_kyc(self, reason: str) -> None:
        check_kyc_decision(self.plain_state)
        self.record(ev.KycRejected(reason=reason))

    @command
    def change_address(self, address: dict) -> None:
        if not self.version:
            raise CommandRejected(f"customer {self.id} is not registered")
        self.record(ev.CustomerAddressChanged(address=ev.Address(**address)))

    # --- the rules, per event (a changed history is checked with these) -------------------
    @checks(ev.CustomerRegistered)
    def _check_registered(state: JSONObject, data: JSONObject) -> None:
        if state["customer_id"]:
            raise CommandRejected(f"customer {state['customer_id']} is already registered")

    @checks(ev.KycVerified, ev.KycRejected)
    def _check_kyc(state: JSONObject, data: JSONObject) -> None:
        check_kyc_decision(state)

    @checks(ev.CustomerAddressChanged)
    def _check_address(state: JSONObject, data: JSONObject) -> None:
        if not state["customer_id"]:
            raise CommandRejected("the customer is not registered")

    @applies(ev.CustomerRegistered)
    def _registered(state: JSONObject, data: JSONObject) -> None:
        state["customer_id"] = data["customer_id"]
        state["name"] = data["name"]
        state["email"] = data["email"]
        state["address"] = dict(data["address"])
        state["kyc_status"] = "pending"

    @applies(ev.KycVerified)
    def _kyc_verified(state: JSONObject, data: JSONObject) -> None:
        state["kyc_status"] = "verified"
        state["kyc_level"] = data["level"]

    @applies(ev.KycRejected)
    def _kyc_rejected(state: JSONObject, data: JSONObject) -> None:
        state["kyc_status"] = "rejected"

    @applies(ev.CustomerAddressChanged)
    def _address_changed(state: JSONObject, data: JSONObject) -> None:
        state["address"] = dict(data["address"])


def check_kyc_decision(state: JSONObject) -> None:
    if state["kyc_status"] != "pending":
        raise CommandRejected(f"KYC is {state['kyc_status']}, not pending")


# --- accounts -----------------------------------------------------------------------------
class AccountState(BaseModel):
    account_id: str = ""
    customer_id: str = ""
    kind: str = ""
    currency: str = ""
    status: str = "none"
    balance_cents: int = 0
    overdraft_limit_cents: int = 0
    frozen_case: str | None = None


def check_open(state: JSONObject) -> None:
    if state["status"] != "none":
        raise CommandRejected(f"account {state['account_id']} is already open")


def check_movement(state: JSONObject, currency: str) -> None:
    """Any movement: the account must be open (not frozen, not closed), same currency."""
    status = state["status"]
    if status == "frozen":
        raise CommandRejected(
            f"account {state['account_id']} is frozen (case {state['frozen_case']})"
        )
    if status != "open":
        raise CommandRejected(f"account {state['account_id'] or '?'} is {status}, not open")
    if currency != state["currency"]:
        raise CommandRejected(
            f"account {state['account_id']} holds {state['currency']}, not {currency}"
        )


def check_debit(state: JSONObject, cents: int, currency: str) -> None:
    """A debit must keep the balance at or above minus the overdraft limit."""
    check_movement(state, currency)
    if cents <= 0:
        raise CommandRejected("an amount must be positive")
    if state["balance_cents"] - cents < -state["overdraft_limit_cents"]:
        raise CommandRejected(
            f"insufficient funds: balance {cents_to_text(state['balance_cents'])} "
            f"{currency}, overdraft limit {cents_to_text(state['overdraft_limit_cents'])}"
        )


def check_credit(state: JSONObject, cents: int, currency: str) -> None:
    check_movement(state, currency)
    if cents <= 0:
        raise CommandRejected("an amount must be positive")


def check_freeze(state: JSONObject) -> None:
    if state["status"] != "open":
        raise CommandRejected(f"only an open account can be frozen, this one is {state['status']}")


def check_unfreeze(state: JSONObject) -> None:
    if state["status"] != "frozen":
        raise CommandRejected("the account is not frozen")


def check_close(state: JSONObject) -> None:
    if state["status"] != "open":
        raise CommandRejected(f"only an open account can be closed, this one is {state['status']}")
    if state["balance_cents"] != 0:
        raise CommandRejected("an account can be closed only at a zero balance")


class Account(Aggregate[AccountState]):
    """A current or savings account: balance in integer cents, status, overdraft limit."""

    stream_type = "account"
    State = AccountState
    code_version = CODE_VERSION

    @command
    def open(
        self, customer_id: str, kind: str, currency: str, overdraft_limit: str = "0.00"
    ) -> None:
        check_open(self.plain_state)
        self.record(
            ev.AccountOpened(
                account_id=self.id,
                customer_id=customer_id,
                kind=kind,  # type: ignore[arg-type]
                currency=currency,
                overdraft_limit=overdraft_limit,
            )
        )

    @command
    def deposit(self, amount: str, currency: str, channel: str = "branch") -> None:
        check_credit(self.plain_state, text_to_cents(amount), currency)
        self.record(ev.MoneyDeposited(amount=amount, currency=currency, channel=channel))  # type: ignore[arg-type]

    @command
    def withdraw(self, amount: str, currency: str, channel: str = "atm") -> None:
        check_debit(self.plain_state, text_to_cents(amount), currency)
        self.record(ev.MoneyWithdrawn(amount=amount, currency=currency, channel=channel))  # type: ignore[arg-type]

    @command
    def charge_fee(self, amount: str, currency: str, fee: str) -> None:
        check_debit(self.plain_state, text_to_cents(amount), currency)
        self.record(ev.FeeCharged(amount=amount, currency=currency, fee=fee))  # type: ignore[arg-type]

    @command
    def pay_interest(self, amount: str, currency: str, rate: str) -> None:
        check_credit(self.plain_state, text_to_cents(amount), currency)
        self.record(ev.InterestPaid(amount=amount, currency=currency, rate=rate))

    @command
    def debit_for_transfer(
        self, transfer_id: str, amount: str, currency: str, counterparty: str
    ) -> None:
        check_debit(self.plain_state, text_to_cents(amount), currency)
        self.record(
            ev.TransferDebited(
                transfer_id=transfer_id, amount=amount, currency=currency, counterparty=counterparty
            )
        )

    @command
    def credit_for_transfer(
        self, transfer_id: str, amount: str, currency: str, counterparty: str
    ) -> None:
        check_credit(self.plain_state, text_to_cents(amount), currency)
        self.record(
            ev.TransferCredited(
                transfer_id=transfer_id, amount=amount, currency=currency, counterparty=counterparty
            )
        )

    @command
    def reverse_transfer_debit(
        self, transfer_id: str, amount: str, currency: str, reason: str
    ) -> None:
        """Compensation always succeeds on an account that was debited: giving money back
        is allowed even when the account has since been frozen."""
        if self.plain_state["status"] == "none":
            raise CommandRejected(f"account {self.id} does not exist")
        self.record(
            ev.TransferDebitReversed(
                transfer_id=transfer_id, amount=amount, currency=currency, reason=reason
            )
        )

    @command
    def post_correction(self, amount: str, currency: str, reason: str, ticket: str) -> None:
        """Back-office correction (signed amount); allowed on any account that exists,
        frozen or closed included, because it repairs the books rather than moving money
        for the customer. Often backdated: pass the business time as `occurred_at`."""
        if self.plain_state["status"] == "none":
            raise CommandRejected(f"account {self.id} does not exist")
        if currency != self.plain_state["currency"]:
            raise CommandRejected(
                f"account {self.id} holds {self.plain_state['currency']}, not {currency}"
            )
        self.record(
            ev.CorrectionPosted(amount=amount, currency=currency, reason=reason, ticket=ticket)
        )

    @command
    def freeze(self, reason: str, case_id: str) -> None:
        check_freeze(self.plain_state)
        self.record(ev.AccountFrozen(reason=reason, case_id=case_id))

    @command
    def unfreeze(self, reason: str, case_id: str) -> None:
        check_unfreeze(self.plain_state)
        self.record(ev.AccountUnfrozen(reason=reason, case_id=case_id))

    @command
    def close(self, reason: str) -> None:
        check_close(self.plain_state)
        self.record(ev.AccountClosed(reason=reason))

    # --- the rules, per event (a changed history is checked with these) -------------------
    @checks(ev.AccountOpened)
    def _check_opened(state: JSONObject, data: JSONObject) -> None:
        check_open(state)

    @checks(ev.MoneyDeposited, ev.InterestPaid, ev.TransferCredited)
    def _check_credit(state: JSONObject, data: JSONObject) -> None:
        check_credit(state, text_to_cents(data["amount"]), data["currency"])

    @checks(ev.MoneyWithdrawn, ev.FeeCharged, ev.TransferDebited)
    def _check_debit(state: JSONObject, data: JSONObject) -> None:
        check_debit(state, text_to_cents(data["amount"]), data["currency"])

    @checks(ev.TransferDebitReversed, ev.CorrectionPosted)
    def _check_exists(state: JSONObject, data: JSONObject) -> None:
        if state["status"] == "none":
            raise CommandRejected("the account does not exist")
        if data["currency"] != state["currency"]:
            raise CommandRejected(
                f"account {state['account_id']} holds {state['currency']}, not {data['currency']}"
            )

    @checks(ev.AccountFrozen)
    def _check_freeze(state: JSONObject, data: JSONObject) -> None:
        check_freeze(state)

    @checks(ev.AccountUnfrozen)
    def _check_unfreeze(state: JSONObject, data: JSONObject) -> None:
        check_unfreeze(state)

    @checks(ev.AccountClosed)
    def _check_close(state: JSONObject, data: JSONObject) -> None:
        check_close(state)

    # --- the one apply path ---------------------------------------------------------------
    @applies(ev.AccountOpened)
    def _opened(state: JSONObject, data: JSONObject) -> None:
        state["account_id"] = data["account_id"]
        state["customer_id"] = data["customer_id"]
        state["kind"] = data["kind"]
        state["currency"] = data["currency"]
        state["status"] = "open"
        state["overdraft_limit_cents"] = text_to_cents(data["overdraft_limit"])

    @applies(
        ev.MoneyDeposited,
        ev.InterestPaid,
        ev.TransferCredited,
        ev.TransferDebitReversed,
        ev.CorrectionPosted,
    )
    def _credited(state: JSONObject, data: JSONObject) -> None:
        state["balance_cents"] += text_to_cents(data["amount"])

    @applies(ev.MoneyWithdrawn, ev.FeeCharged, ev.TransferDebited)
    def _debited(state: JSONObject, data: JSONObject) -> None:
        state["balance_cents"] -= text_to_cents(data["amount"])

    @applies(ev.AccountFrozen)
    def _frozen(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "frozen"
        state["frozen_case"] = data["case_id"]

    @applies(ev.AccountUnfrozen)
    def _unfrozen(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "open"
        state["frozen_case"] = None

    @applies(ev.AccountClosed)
    def _closed(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "closed"


# --- transfers ----------------------------------------------------------------------------
class TransferState(BaseModel):
    transfer_id: str = ""
    from_account: str = ""
    to_account: str = ""
    amount: str = "0.00"
    currency: str = ""
    status: str = "none"
    reason: str | None = None


def check_transfer_request(from_account: str, to_account: str, cents: int) -> None:
    if from_account == to_account:
        raise CommandRejected("a transfer needs two different accounts")
    if cents <= 0:
        raise CommandRejected("an amount must be positive")


def check_transfer_outcome(state: JSONObject) -> None:
    if state["status"] != "requested":
        raise CommandRejected(f"transfer {state['transfer_id']} is already {state['status']}")


class Transfer(Aggregate[TransferState]):
    """The saga's own record of one transfer: requested, then exactly one outcome."""

    stream_type = "transfer"
    State = TransferState
    code_version = CODE_VERSION

    @command
    def request(
        self, from_account: str, to_account: str, amount: str, currency: str, reference: str
    ) -> None:
        if self.version:
            raise CommandRejected(f"transfer {self.id} was already requested")
        check_transfer_request(from_account, to_account, text_to_cents(amount))
        self.record(
            ev.TransferRequested(
                transfer_id=self.id,
                from_account=from_account,
                to_account=to_account,
                amount=amount,
                currency=currency,
                reference=reference,
            )
        )

    @command
    def complete(self) -> None:
        check_transfer_outcome(self.plain_state)
        self.record(ev.TransferCompleted())

    @command
    def decline(self, reason: str) -> None:
        check_transfer_outcome(self.plain_state)
        self.record(ev.TransferDeclined(reason=reason))

    @command
    def fail(self, reason: str, compensated: bool) -> None:
        check_transfer_outcome(self.plain_state)
        self.record(ev.TransferFailed(reason=reason, compensated=compensated))

    @checks(ev.TransferRequested)
    def _check_request(state: JSONObject, data: JSONObject) -> None:
        if state["status"] != "none":
            raise CommandRejected(f"transfer {state['transfer_id']} was already requested")
        check_transfer_request(
            data["from_account"], data["to_account"], text_to_cents(data["amount"])
        )

    @checks(ev.TransferCompleted, ev.TransferDeclined, ev.TransferFailed)
    def _check_outcome(state: JSONObject, data: JSONObject) -> None:
        check_transfer_outcome(state)

    @applies(ev.TransferRequested)
    def _requested(state: JSONObject, data: JSONObject) -> None:
        state["transfer_id"] = data["transfer_id"]
        state["from_account"] = data["from_account"]
        state["to_account"] = data["to_account"]
        state["amount"] = data["amount"]
        state["currency"] = data["currency"]
        state["status"] = "requested"

    @applies(ev.TransferCompleted)
    def _completed(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "completed"

    @applies(ev.TransferDeclined)
    def _declined(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "declined"
        state["reason"] = data["reason"]

    @applies(ev.TransferFailed)
    def _failed(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "failed"
        state["reason"] = data["reason"]
