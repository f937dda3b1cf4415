"""Shop aggregates: orders and inventory (one stream per product).

Order lifecycle: placed -> (lines added/removed while placed) -> paid -> shipped ->
(refunded); or placed/paid -> cancelled. Inventory: stock received, reserved for an order,
released when an order is cancelled or a line removed. As in banking, rules are small
pure functions on the plain state, shared with the generator.
"""

from __future__ import annotations

from eventscope.domain.aggregate import Aggregate, applies, checks, command
from eventscope.domain.demo import events as ev
from eventscope.domain.demo.money import cents_to_text, text_to_cents
from eventscope.domain.errors import CommandRejected
from eventscope.store.records import JSONObject
from pydantic import BaseModel

CODE_VERSION = "shop-1.8"


class OrderState(BaseModel):
    order_id: str = ""
    customer_id: str = ""
    currency: str = ""
    status: str = "none"
    lines: dict[str, dict[str, int]] = {}
    total_cents: int = 0
    paid_cents: int = 0
    refunded_cents: int = 0
    carrier: str | None = None
    tracking_number: str | None = None


def order_total(lines: dict[str, dict[str, int]]) -> int:
    return sum(line["quantity"] * line["unit_price_cents"] for line in lines.values())


def check_editable(state: JSONObject) -> None:
    if state["status"] != "placed":
        raise CommandRejected(f"order {state['order_id'] or '?'} is {state['status']}, not placed")


def check_pay(state: JSONObject, cents: int) -> None:
    check_editable(state)
    if not state["lines"]:
        raise CommandRejected("an order without lines cannot be paid")
    if cents != state["total_cents"]:
        raise CommandRejected(
            f"payment of {cents_to_text(cents)} does not match the order total "
            f"{cents_to_text(state['total_cents'])}"
        )


def check_ship(state: JSONObject) -> None:
    if state["status"] != "paid":
        raise CommandRejected(f"only a paid order can be shipped, this one is {state['status']}")


def check_cancel(state: JSONObject) -> None:
    if state["status"] not in ("placed", "paid"):
        raise CommandRejected(f"a {state['status']} order cannot be cancelled")


def check_refund(state: JSONObject, cents: int) -> None:
    if state["status"] not in ("shipped", "cancelled"):
        raise CommandRejected(f"a {state['status']} order cannot be refunded")
    if cents <= 0 or state["refunded_cents"] + cents > state["paid_cents"]:
        raise CommandRejected("a refund cannot exceed what was paid")


class Order(Aggregate[OrderState]):
    """A shop order; the total is always derived from its lines."""

    stream_type = "order"
    State = OrderState
    code_version = CODE_VERSION

    @command
    def place(self, customer_id: str, currency: str, lines: list[dict]) -> None:
        if self.version:
            raise CommandRejected(f"order {self.id} was already placed")
        if not lines:
            raise CommandRejected("an order needs at least one line")
        self.record(
            ev.OrderPlaced(
                order_id=self.id,
                customer_id=customer_id,
                currency=currency,
                lines=[ev.OrderLine(**line) for line in lines],
            )
        )

    @command
    def add_line(self, sku: str, quantity: int, unit_price: str) -> None:
        check_editable(self.plain_state)
        self.record(ev.OrderLineAdded(sku=sku, quantity=quantity, unit_price=unit_price))

    @command
    def remove_line(self, sku: str) -> None:
        check_editable(self.plain_state)
        if sku not in self.plain_state["lines"]:
            raise CommandRejected(f"order {self.id} has no line for {sku}")
        self.record(ev.OrderLineRemoved(sku=sku))

    @command
    def pay(self, amount: str, currency: str, payment_reference: str) -> None:
        check_pay(self.plain_state, text_to_cents(amount))
        self.record(
            ev.OrderPaid(amount=amount, currency=currency, payment_reference=payment_reference)
        )

    @command
    def ship(self, carrier: str, tracking_number: str) -> None:
        check_ship(self.plain_state)
        self.record(ev.OrderShipped(carrier=carrier, tracking_number=tracking_number))

    @command
    def cancel(self, reason: str) -> None:
        check_cancel(self.plain_state)
        self.record(ev.OrderCancelled(reason=reason))

    @command
    def refund(self, amount: str, currency: str, reason: str) -> None:
        check_refund(self.plain_state, text_to_cents(amount))
        self.record(ev.OrderRefunded(amount=amount, currency=currency, reason=reason))

    # --- the rules, per event (a changed history is checked with these) -------------------
    @checks(ev.OrderPlaced)
    def _check_placed(state: JSONObject, data: JSONObject) -> None:
        if state["status"] != "none":
            raise CommandRejected(f"order {state['order_id']} was already placed")
        if not data["lines"]:
            raise CommandRejected("an order needs at least one line")

    @checks(ev.OrderLineAdded)
    def _check_line_added(state: JSONObject, data: JSONObject) -> None:
        check_editable(state)

    @checks(ev.OrderLineRemoved)
    def _check_line_removed(state: JSONObject, data: JSONObject) -> None:
        check_editable(state)
        if data["sku"] not in state["lines"]:
            raise CommandRejected(f"order {state['order_id']} has no line for {data['sku']}")

    @checks(ev.OrderPaid)
    def _check_paid(state: JSONObject, data: JSONObject) -> None:
        check_pay(state, text_to_cents(data["amount"]))

    @checks(ev.OrderShipped)
    def _check_shipped(state: JSONObject, data: JSONObject) -> None:
        check_ship(state)

    @checks(ev.OrderCancelled)
    def _check_cancelled(state: JSONObject, data: JSONObject) -> None:
        check_cancel(state)

    @checks(ev.OrderRefunded)
    def _check_refunded(state: JSONObject, data: JSONObject) -> None:
        check_refund(state, text_to_cents(data["amount"]))

    @applies(ev.OrderPlaced)
    def _placed(state: JSONObject, data: JSONObject) -> None:
        state["order_id"] = data["order_id"]
        state["customer_id"] = data["customer_id"]
        state["currency"] = data["currency"]
        state["status"] = "placed"
        lines = {}
        for line in data["lines"]:
            lines[line["sku"]] = {
                "quantity": line["quantity"],
                "unit_price_cents": text_to_cents(line["unit_price"]),
            }
        state["lines"] = lines
        state["total_cents"] = order_total(lines)

    @applies(ev.OrderLineAdded)
    def _line_added(state: JSONObject, data: JSONObject) -> None:
        lines = state["lines"]
        existing = lines.get(data["sku"])
        if existing is None:
            lines[data["sku"]] = {
                "quantity": data["quantity"],
                "unit_price_cents": text_to_cents(data["unit_price"]),
            }
        else:
            existing["quantity"] += data["quantity"]
        state["total_cents"] = order_total(lines)

    @applies(ev.OrderLineRemoved)
    def _line_removed(state: JSONObject, data: JSONObject) -> None:
        state["lines"].pop(data["sku"], None)
        state["total_cents"] = order_total(state["lines"])

    @applies(ev.OrderPaid)
    def _paid(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "paid"
        state["paid_cents"] = text_to_cents(data["amount"])

    @applies(ev.OrderShipped)
    def _shipped(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "shipped"
        state["carrier"] = data["carrier"]
        state["tracking_number"] = data["tracking_number"]

    @applies(ev.OrderCancelled)
    def _cancelled(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "cancelled"

    @applies(ev.OrderRefunded)
    def _refunded(state: JSONObject, data: JSONObject) -> None:
        state["status"] = "refunded"
        state["refunded_cents"] += text_to_cents(data["amount"])


# --- inventory ----------------------------------------------------------------------------
class ProductState(BaseModel):
    """`reserved` counts units held for orders (shipped ones included) and not released."""

    sku: str = ""
    name: str = ""
    unit_price_cents: int = 0
    currency: str = ""
    available: int = 0
    reserved: int = 0


def check_reserve(state: JSONObject, quantity: int) -> None:
    if not state["sku"]:
        raise CommandRejected("the product is not listed")
    if quantity > state["available"]:
        raise CommandRejected(
            f"only {state['available']} of {state['sku']} available, {quantity} requested"
        )


def check_release(state: JSONObject, quantity: int) -> None:
    if quantity > state["reserved"]:
        raise CommandRejected(f"only {state['reserved']} of {state['sku']} are reserved")


class Product(Aggregate[ProductState]):
    """Stock of one SKU: available and reserved quantities."""

    stream_type = "inventory"
    State = ProductState
    code_version = CODE_VERSION

    @command
    def list_product(self, sku: str, name: str, unit_price: str, currency: str) -> None:
        if self.version:
            raise CommandRejected(f"{self.id} is already listed")
        self.record(ev.ProductListed(sku=sku, name=name, unit_price=unit_price, currency=currency))

    @command
    def receive(self, quantity: int, supplier: str, delivery_note: str) -> None:
        if not self.plain_state["sku"]:
            raise CommandRejected("the product is not listed")
        self.record(
            ev.StockReceived(quantity=quantity, supplier=supplier, delivery_note=delivery_note)
        )

    @command
    def reserve(self, order_id: str, quantity: int) -> None:
        check_reserve(self.plain_state, quantity)
        self.record(ev.StockReserved(order_id=order_id, quantity=quantity))

    @command
    def release(self, order_id: str, quantity: int, reason: str) -> None:
        check_release(self.plain_state, quantity)
        self.record(ev.StockReleased(order_id=order_id, quantity=quantity, reason=reason))

    @checks(ev.ProductListed)
    def _check_listed(state: JSONObject, data: JSONObject) -> None:
        if state["sku"]:
            raise CommandRejected(f"{state['sku']} is already listed")

    @checks(ev.StockReceived)
    def _check_received(state: JSONObject, data: JSONObject) -> None:
        if not state["sku"]:
            raise CommandRejected("the product is not listed")

    @checks(ev.StockReserved)
    def _check_reserved(state: JSONObject, data: JSONObject) -> None:
        check_reserve(state, data["quantity"])

    @checks(ev.StockReleased)
    def _check_released(state: JSONObject, data: JSONObject) -> None:
        check_release(state, data["quantity"])

    @applies(ev.ProductListed)
    def _listed(state: JSONObject, data: JSONObject) -> None:
        state["sku"] = data["sku"]
        state["name"] = data["name"]
        state["unit_price_cents"] = text_to_cents(data["unit_price"])
        state["currency"] = data["currency"]

    @applies(ev.StockReceived)
    def _received(state: JSONObject, data: JSONObject) -> None:
        state["available"] += data["quantity"]

    @applies(ev.StockReserved)
    def _reserved(state: JSONObject, data: JSONObject) -> None:
        state["available"] -= data["quantity"]
        state["reserved"] += data["quantity"]

    @applies(ev.StockReleased)
    def _released(state: JSONObject, data: JSONObject) -> None:
        state["available"] += data["quantity"]
        state["reserved"] -= data["quantity"]
