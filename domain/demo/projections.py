"""The demo's read models (the CQRS side): account balances, customer 360, daily totals
per currency and the order status board.

Each projection's logic is a pure function of ``(document, event_type, data, stream_id,
business_day)`` so the generator can maintain the same rows on plain dicts while it
writes (and store them with their checkpoint), and the engine can rebuild them from the
events through the `Projection` classes below -- the two must agree, which is exactly what
`eventscope diff --projection` checks (and what the planted "missed event" anomaly breaks).
"""

from __future__ import annotations

from collections.abc import Callable

from eventscope.domain.demo.money import text_to_cents
from eventscope.domain.events import DecodedEvent
from eventscope.domain.projection import Projection
from eventscope.store.records import JSONObject

ApplyFunction = Callable[[JSONObject, str, JSONObject, str, str], None]

# --- account balances ---------------------------------------------------------------------
BALANCE_CREDITS = frozenset(
    {
        "MoneyDeposited",
        "InterestPaid",
        "TransferCredited",
        "TransferDebitReversed",
        "CorrectionPosted",
    }
)
BALANCE_DEBITS = frozenset({"MoneyWithdrawn", "FeeCharged", "TransferDebited"})
ACCOUNT_STATUS = {"AccountFrozen": "frozen", "AccountUnfrozen": "open", "AccountClosed": "closed"}


def account_balance_initial() -> JSONObject:
    return {"customer_id": "", "currency": "", "status": "open", "balance_cents": 0, "movements": 0}


def apply_account_balance(
    doc: JSONObject, event_type: str, data: JSONObject, stream_id: str, day: str
) -> None:
    if event_type in BALANCE_CREDITS:
        doc["balance_cents"] += text_to_cents(data["amount"])
        doc["movements"] += 1
    elif event_type in BALANCE_DEBITS:
        doc["balance_cents"] -= text_to_cents(data["amount"])
        doc["movements"] += 1
    elif event_type == "AccountOpened":
        doc["customer_id"] = data["customer_id"]
        doc["currency"] = data["currency"]
    else:
        doc["status"] = ACCOUNT_STATUS[event_type]


ACCOUNT_BALANCE_TYPES = (
    ("AccountOpened",)
    + tuple(sorted(BALANCE_CREDITS))
    + tuple(sorted(BALANCE_DEBITS))
    + tuple(ACCOUNT_STATUS)
)


# --- customer 360 -------------------------------------------------------------------------
def customer_360_initial() -> JSONObject:
    return {
        "name": "",
        "city": "",
        "country": "",
        "kyc_status": "none",
        "accounts": [],
        "orders_placed": 0,
        "last_order_day": None,
    }


def customer_key(event_type: str, data: JSONObject, stream_id: str) -> str:
    """Customer events are keyed by their stream; others name the customer in the data."""
    if event_type in ("AccountOpened", "OrderPlaced"):
        return data["customer_id"]
    return stream_id


def apply_customer_360(
    doc: JSONObject, event_type: str, data: JSONObject, stream_id: str, day: str
) -> None:
    if event_type == "CustomerRegistered":
        doc["name"] = data["name"]
        doc["city"] = data["address"]["city"]
        doc["country"] = data["address"]["country"]
        doc["kyc_status"] = "pending"
    elif event_type == "CustomerAddressChanged":
        doc["city"] = data["address"]["city"]
        doc["country"] = data["address"]["country"]
    elif event_type == "KycVerified":
        doc["kyc_status"] = "verified"
    elif event_type == "KycRejected":
        doc["kyc_status"] = "rejected"
    elif event_type == "AccountOpened":
        doc["accounts"] = [*doc["accounts"], data["account_id"]]
    elif event_type == "OrderPlaced":
        doc["orders_placed"] += 1
        doc["last_order_day"] = day


CUSTOMER_360_TYPES = (
    "CustomerRegistered",
    "CustomerAddressChanged",
    "KycVerified",
    "KycRejected",
    "AccountOpened",
    "OrderPlaced",
)


# --- daily totals per currency ------------------------------------------------------------
DAILY_FIELDS = {
    "MoneyDeposited": "deposits_cents",
    "MoneyWithdrawn": "withdrawals_cents",
    "FeeCharged": "fees_cents",
    "InterestPaid": "interest_cents",
    "TransferCredited": "transfers_cents",
    "CorrectionPosted": "corrections_cents",
    "OrderPaid": "sales_cents",
    "OrderRefunded": "refunds_cents",
}
DAILY_TYPES = tuple(DAILY_FIELDS)


def daily_key(day: str, data: JSONObject) -> str:
    """``2026-03-31/EUR``: the business day (occurred_at, so a backdated correction counts
    on the day it fixes) and the currency."""
    return f"{day}/{data['currency']}"


def daily_initial() -> JSONObject:
    return {name: 0 for name in sorted(set(DAILY_FIELDS.values()))} | {"count": 0}


def apply_daily_total(
    doc: JSONObject, event_type: str, data: JSONObject, stream_id: str, day: str
) -> None:
    doc[DAILY_FIELDS[event_type]] += text_to_cents(data["amount"])
    doc["count"] += 1


# --- order status board -------------------------------------------------------------------
ORDER_STATUS = {
    "OrderPlaced": "placed",
    "OrderPaid": "paid",
    "OrderShipped": "shipped",
    "OrderCancelled": "cancelled",
    "OrderRefunded": "refunded",
}
ORDER_BOARD_TYPES = (*ORDER_STATUS, "OrderLineAdded", "OrderLineRemoved")


def order_board_initial() -> JSONObject:
    return {"customer_id": "", "status": "placed", "lines": 0, "currency": "", "placed_day": ""}


def apply_order_board(
    doc: JSONObject, event_type: str, data: JSONObject, stream_id: str, day: str
) -> None:
    if event_type == "OrderPlaced":
        doc["customer_id"] = data["customer_id"]
        doc["currency"] = data["currency"]
        doc["lines"] = len(data["lines"])
        doc["placed_day"] = day
    elif event_type == "OrderLineAdded":
        doc["lines"] += 1
    elif event_type == "OrderLineRemoved":
        doc["lines"] -= 1
    else:
        doc["status"] = ORDER_STATUS[event_type]


# --- the engine-facing classes ------------------------------------------------------------
def business_day(event: DecodedEvent) -> str:
    """The event's day as YYYY-MM-DD (`isoformat`: the same text as strftime for years
    from 1000 on, without parsing a format string on every event of a replay)."""
    return event.occurred_at.date().isoformat()


class _DemoProjection(Projection):
    """Adapts a pure apply function to the engine's `Projection` interface."""

    _apply: staticmethod
    _initial: staticmethod

    def initial(self, key: str) -> JSONObject:
        return type(self)._initial()

    def apply(self, document: JSONObject, event: DecodedEvent) -> JSONObject:
        assert event.data is not None  # undecodable events never reach apply
        type(self)._apply(
            document, event.event_type, event.data, event.stream_id, business_day(event)
        )
        return document


class AccountBalances(_DemoProjection):
    name = "account_balances"
    handles = ACCOUNT_BALANCE_TYPES
    _apply = staticmethod(apply_account_balance)
    _initial = staticmethod(account_balance_initial)


class Customer360(_DemoProjection):
    name = "customer_360"
    handles = CUSTOMER_360_TYPES
    _apply = staticmethod(apply_customer_360)
    _initial = staticmethod(customer_360_initial)

    def key(self, event: DecodedEvent) -> str | None:
        assert event.data is not None
        return customer_key(event.event_type, event.data, event.stream_id)


class DailyTotals(_DemoProjection):
    name = "daily_totals"
    handles = DAILY_TYPES
    _apply = staticmethod(apply_daily_total)
    _initial = staticmethod(daily_initial)

    def key(self, event: DecodedEvent) -> str | None:
        assert event.data is not None
        return daily_key(business_day(event), event.data)


class OrderStatusBoard(_DemoProjection):
    name = "order_status_board"
    handles = ORDER_BOARD_TYPES
    _apply = staticmethod(apply_order_board)
    _initial = staticmethod(order_board_initial)


PROJECTION_CLASSES: tuple[type[Projection], ...] = (
    AccountBalances,
    Customer360,
    DailyTotals,
    OrderStatusBoard,
)
