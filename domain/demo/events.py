"""The demo's events (banking and shop), their schema history and upcasters.

Schema history, as a trainer tells it:

* **Multi-currency launch.** Until the launch the bank was euro-only and `MoneyDeposited`
  / `MoneyWithdrawn` stored `amount` as integer cents (schema 1: ``{"amount": 1250}``).
  From the launch they store decimal text plus a currency (schema 2:
  ``{"amount": "12.50", "currency": "EUR"}``). The upcaster turns every schema-1 event into
  a valid schema-2 one (currency EUR, which was the only one then).
* **Structured addresses.** `CustomerRegistered` first stored the address as one line
  ``"12 Harbour Street, 1011 AB Amsterdam, NL"`` (schema 1); later as an object
  ``{"street", "postcode", "city", "country"}`` (schema 2). The upcaster splits the line.

Both versions are stored in every demo history, so the explorer can show raw vs upcast.
"""

from __future__ import annotations

from typing import Annotated, Literal

from eventscope.domain.demo.money import AMOUNT_PATTERN, cents_to_text
from eventscope.domain.events import DomainEvent, EventRegistry, Upcaster, upcaster
from eventscope.store.records import JSONObject
from pydantic import BaseModel, ConfigDict, Field

Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Id = Annotated[str, Field(min_length=1)]


class Address(BaseModel):
    """A postal address (personal data: the explorer shows who changed it and when)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    street: str
    postcode: str
    city: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


# --- customers ----------------------------------------------------------------------------
class CustomerRegistered(DomainEvent):
    schema_version = 2
    customer_id: Id
    name: str
    email: str
    address: Address


class KycVerified(DomainEvent):
    method: Literal["id-document", "video-call", "in-branch"]
    level: Literal["standard", "enhanced"]


class KycRejected(DomainEvent):
    reason: str


class CustomerAddressChanged(DomainEvent):
    address: Address


# --- accounts -----------------------------------------------------------------------------
class AccountOpened(DomainEvent):
    account_id: Id
    customer_id: Id
    kind: Literal["checking", "savings"]
    currency: Currency
    overdraft_limit: Amount


class MoneyDeposited(DomainEvent):
    schema_version = 2
    amount: Amount
    currency: Currency
    channel: Literal["branch", "atm", "online", "salary", "card-refund"]


class MoneyWithdrawn(DomainEvent):
    schema_version = 2
    amount: Amount
    currency: Currency
    channel: Literal["branch", "atm", "online", "card"]


class FeeCharged(DomainEvent):
    amount: Amount
    currency: Currency
    fee: Literal["monthly-maintenance", "card", "overdraft", "foreign-exchange"]


class InterestPaid(DomainEvent):
    amount: Amount
    currency: Currency
    rate: str


class TransferDebited(DomainEvent):
    transfer_id: Id
    amount: Amount
    currency: Currency
    counterparty: Id


class TransferCredited(DomainEvent):
    transfer_id: Id
    amount: Amount
    currency: Currency
    counterparty: Id


class TransferDebitReversed(DomainEvent):
    """Compensation: the saga gives the money back when the credit leg failed."""

    transfer_id: Id
    amount: Amount
    currency: Currency
    reason: str


class CorrectionPosted(DomainEvent):
    """A back-office correction, often booked days after the business date it fixes
    (its `occurred_at` is earlier than its `recorded_at`)."""

    amount: Amount  # signed
    currency: Currency
    reason: str
    ticket: str


class AccountFrozen(DomainEvent):
    reason: str
    case_id: str


class AccountUnfrozen(DomainEvent):
    reason: str
    case_id: str


class AccountClosed(DomainEvent):
    reason: str


# --- transfers (the saga's own stream) ----------------------------------------------------
class TransferRequested(DomainEvent):
    transfer_id: Id
    from_account: Id
    to_account: Id
    amount: Amount
    currency: Currency
    reference: str


class TransferCompleted(DomainEvent):
    pass


class TransferDeclined(DomainEvent):
    """A fact, not an error: the debit leg was refused, nothing moved."""

    reason: str


class TransferFailed(DomainEvent):
    """The credit leg was refused after the debit; the debit was reversed."""

    reason: str
    compensated: bool


# --- orders -------------------------------------------------------------------------------
class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: Id
    quantity: Annotated[int, Field(ge=1)]
    unit_price: Amount


class OrderPlaced(DomainEvent):
    order_id: Id
    customer_id: Id
    currency: Currency
    lines: list[OrderLine]


class OrderLineAdded(DomainEvent):
    sku: Id
    quantity: Annotated[int, Field(ge=1)]
    unit_price: Amount


class OrderLineRemoved(DomainEvent):
    sku: Id


class OrderPaid(DomainEvent):
    amount: Amount
    currency: Currency
    payment_reference: str


class OrderShipped(DomainEvent):
    carrier: str
    tracking_number: str


class OrderCancelled(DomainEvent):
    reason: str


class OrderRefunded(DomainEvent):
    amount: Amount
    currency: Currency
    reason: str


# --- inventory ----------------------------------------------------------------------------
class ProductListed(DomainEvent):
    sku: Id
    name: str
    unit_price: Amount
    currency: Currency


class StockReceived(DomainEvent):
    quantity: Annotated[int, Field(ge=1)]
    supplier: str
    delivery_note: str


class StockReserved(DomainEvent):
    order_id: Id
    quantity: Annotated[int, Field(ge=1)]


class StockReleased(DomainEvent):
    order_id: Id
    quantity: Annotated[int, Field(ge=1)]
    reason: str


EVENT_CLASSES: tuple[type[DomainEvent], ...] = (
    CustomerRegistered,
    KycVerified,
    KycRejected,
    CustomerAddressChanged,
    AccountOpened,
    MoneyDeposited,
    MoneyWithdrawn,
    FeeCharged,
    InterestPaid,
    TransferDebited,
    TransferCredited,
    TransferDebitReversed,
    CorrectionPosted,
    AccountFrozen,
    AccountUnfrozen,
    AccountClosed,
    TransferRequested,
    TransferCompleted,
    TransferDeclined,
    TransferFailed,
    OrderPlaced,
    OrderLineAdded,
    OrderLineRemoved,
    OrderPaid,
    OrderShipped,
    OrderCancelled,
    OrderRefunded,
    ProductListed,
    StockReceived,
    StockReserved,
    StockReleased,
)


# --- upcasters ----------------------------------------------------------------------------
def _money_v1_to_v2(data: JSONObject) -> JSONObject:
    """Schema 1 stored integer cents and had no currency: the bank was euro-only then."""
    out = dict(data)
    out["amount"] = cents_to_text(int(data["amount"]))
    out["currency"] = "EUR"
    return out


@upcaster("MoneyDeposited", from_version=1)
def deposit_amount_to_decimal_text(data: JSONObject) -> JSONObject:
    return _money_v1_to_v2(data)


@upcaster("MoneyWithdrawn", from_version=1)
def withdrawal_amount_to_decimal_text(data: JSONObject) -> JSONObject:
    return _money_v1_to_v2(data)


@upcaster("CustomerRegistered", from_version=1)
def split_address_line(data: JSONObject) -> JSONObject:
    """``"street, postcode city, CC"`` -> ``{"street", "postcode", "city", "country"}``.

    The postcode is everything before the last space-separated word of the middle part,
    so Dutch ("1011 AB") and British ("EC1A 1BB") postcodes survive.
    """
    out = dict(data)
    street, middle, country = (part.strip() for part in str(data["address"]).rsplit(",", 2))
    postcode, _, city = middle.rpartition(" ")
    out["address"] = {"street": street, "postcode": postcode, "city": city, "country": country}
    return out


UPCASTERS: tuple[Upcaster, ...] = (
    deposit_amount_to_decimal_text,
    withdrawal_amount_to_decimal_text,
    split_address_line,
)

# The schema-1 encoders the generator uses for events booked before each change; the
# upcasters above are their exact inverses (a test holds this for every old event).


def money_to_v1(data: JSONObject) -> JSONObject:
    """The schema-1 form of a EUR MoneyDeposited/MoneyWithdrawn payload."""
    out = {key: value for key, value in data.items() if key != "currency"}
    whole, _, part = data["amount"].partition(".")
    out["amount"] = int(whole) * 100 + int(part)
    return out


def address_to_v1(data: JSONObject) -> JSONObject:
    """The schema-1 form of a CustomerRegistered payload (address as one line)."""
    address = data["address"]
    out = dict(data)
    out["address"] = (
        f"{address['street']}, {address['postcode']} {address['city']}, {address['country']}"
    )
    return out


def build_registry() -> EventRegistry:
    """A fresh registry with every demo event class and upcaster."""
    return EventRegistry(EVENT_CLASSES, UPCASTERS)


REGISTRY = build_registry()
