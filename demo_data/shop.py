"""Shop scenarios: the catalogue, orders with stock reservations, payment, shipping the
next business day, cancellations with stock released, refunds, and restocking.

One correlation id per order (the order id) ties the order's events to the inventory
events it caused, so the correlation trace shows the whole checkout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope.demo_data import catalog, clock
from eventscope.domain.demo import orders
from eventscope.domain.demo.money import cents_to_text
from eventscope.domain.errors import CommandRejected

if TYPE_CHECKING:
    from eventscope.demo_data.simulation import Stream
    from eventscope.demo_data.world import World

MINUTE = 60.0
HOUR = clock.HOUR
DAY = clock.DAY
COLOURS = (
    "black",
    "white",
    "sage",
    "navy",
    "terracotta",
    "sand",
    "grey",
    "mustard",
    "rose",
    "teal",
    "olive",
    "plum",
)


def open_shop(world: World) -> None:
    """Monday 07:00 of the first week: the warehouse lists the catalogue and stocks it."""
    sim, rng = world.sim, world.rng
    sim.now = 7 * HOUR
    batch = "catalogue-launch"
    for index in range(world.product_count):
        adjective, noun, price = catalog.PRODUCT_WORDS[index % len(catalog.PRODUCT_WORDS)]
        colour = COLOURS[(index // len(catalog.PRODUCT_WORDS)) % len(COLOURS)]
        sku = f"P{index + 1:04d}"
        product = sim.new_stream(f"product-{sku}", "inventory")
        listed = sim.emit(
            product,
            "ProductListed",
            {
                "sku": sku,
                "name": f"{adjective} {noun} ({colour})",
                "unit_price": cents_to_text(price),
                "currency": "EUR",
            },
            catalog.WAREHOUSE,
            batch,
            batch,
            command="list_product",
        )
        sim.tick(0.5, 2)
        _receive(world, product, rng.randrange(60, 200), batch, listed)
        product.meta["restocking"] = False
        world.products.append(product)
        sim.tick(0.5, 2)


def _receive(world: World, product: Stream, quantity: int, correlation: str, cause: str) -> str:
    rng = world.rng
    return world.sim.emit(
        product,
        "StockReceived",
        {
            "quantity": quantity,
            "supplier": rng.choice(catalog.SUPPLIERS),
            "delivery_note": f"DN-{rng.randrange(100000, 999999)}",
        },
        catalog.WAREHOUSE,
        correlation,
        cause,
        command="receive",
    )


def restock(world: World, product: Stream) -> None:
    sim, rng = world.sim, world.rng
    product.meta["restocking"] = False
    if not sim.room(1):
        return
    command = sim.command_id()
    _receive(world, product, rng.randrange(80, 240), command, command)


def _reserve(world: World, product: Stream, order_id: str, quantity: int, cause: str) -> bool:
    sim, rng = world.sim, world.rng
    try:
        orders.check_reserve(product.state, quantity)
    except CommandRejected as refusal:
        world.sim.reject(product, "reserve", refusal.reason)
        return False
    sim.emit(
        product,
        "StockReserved",
        {"order_id": order_id, "quantity": quantity},
        catalog.CHECKOUT,
        order_id,
        cause,
        command="reserve",
    )
    if product.state["available"] < 25 and not product.meta["restocking"]:
        product.meta["restocking"] = True
        when = clock.next_business_time(sim.now, rng.uniform(7, 9))
        sim.schedule(when, restock, world, product)
    return True


def place_order(world: World) -> None:
    sim, rng = world.sim, world.rng
    if not world.verified or not world.products:
        return
    customer = rng.choice(world.verified)
    picks = rng.sample(world.products, rng.choice((1, 1, 1, 2, 2, 3)))
    lines = []
    for product in picks:
        quantity = rng.choice((1, 1, 1, 2, 2, 3, 4))
        if product.state["available"] >= quantity:
            lines.append((product, quantity))
    if not lines:
        world.sim.reject(None, "place", "none of the products is in stock in that quantity")
        return
    order_id = world.next_id("order", 7)
    order = sim.new_stream(order_id, "order")
    placed = sim.emit(
        order,
        "OrderPlaced",
        {
            "order_id": order_id,
            "customer_id": customer.id,
            "currency": "EUR",
            "lines": [
                {
                    "sku": p.state["sku"],
                    "quantity": q,
                    "unit_price": cents_to_text(p.state["unit_price_cents"]),
                }
                for p, q in lines
            ],
        },
        world.customer_actor(customer.id),
        order_id,
        sim.command_id(),
        command="place",
    )
    for product, quantity in lines:
        sim.tick(0.05, 0.3)
        _reserve(world, product, order_id, quantity, placed)
    order.meta["customer"] = customer.id
    roll = rng.random()
    if roll < 0.07:
        sim.schedule(sim.now + rng.uniform(2, 15) * MINUTE, add_line, world, order)
    elif roll < 0.11 and len(lines) > 1:
        sim.schedule(sim.now + rng.uniform(2, 15) * MINUTE, remove_line, world, order)
    elif roll < 0.22:
        sim.schedule(
            sim.now + rng.uniform(1, 3) * DAY, cancel, world, order, "payment not received"
        )
    else:
        sim.schedule(sim.now + rng.uniform(1, 20) * MINUTE, pay, world, order)


def _product(world: World, sku: str) -> Stream:
    return world.products[int(sku[1:]) - 1]


def add_line(world: World, order: Stream) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(4):
        return
    product = rng.choice(world.products)
    sku = product.state["sku"]
    if sku in order.state["lines"] or product.state["available"] < 1:
        sim.schedule(sim.now + rng.uniform(1, 10) * MINUTE, pay, world, order)
        return
    added = sim.emit(
        order,
        "OrderLineAdded",
        {"sku": sku, "quantity": 1, "unit_price": cents_to_text(product.state["unit_price_cents"])},
        world.customer_actor(order.meta["customer"]),
        order.id,
        sim.command_id(),
        command="add_line",
    )
    sim.tick(0.05, 0.3)
    _reserve(world, product, order.id, 1, added)
    sim.schedule(sim.now + rng.uniform(1, 10) * MINUTE, pay, world, order)


def remove_line(world: World, order: Stream) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(4):
        return
    sku = sorted(order.state["lines"])[-1]
    quantity = order.state["lines"][sku]["quantity"]
    removed = sim.emit(
        order,
        "OrderLineRemoved",
        {"sku": sku},
        world.customer_actor(order.meta["customer"]),
        order.id,
        sim.command_id(),
        command="remove_line",
    )
    sim.tick(0.05, 0.3)
    _release(world, _product(world, sku), order.id, quantity, "line removed", removed)
    sim.schedule(sim.now + rng.uniform(1, 10) * MINUTE, pay, world, order)


def _release(
    world: World, product: Stream, order_id: str, quantity: int, reason: str, cause: str
) -> None:
    sim = world.sim
    try:
        orders.check_release(product.state, quantity)
    except CommandRejected as refusal:
        sim.reject(product, "release", refusal.reason)
        return
    sim.emit(
        product,
        "StockReleased",
        {"order_id": order_id, "quantity": quantity, "reason": reason},
        catalog.CHECKOUT,
        order_id,
        cause,
        command="release",
    )


def pay(world: World, order: Stream) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(2):
        return
    state = order.state
    try:
        orders.check_pay(state, state["total_cents"])
    except CommandRejected as refusal:
        sim.reject(order, "pay", refusal.reason)
        return
    sim.emit(
        order,
        "OrderPaid",
        {
            "amount": cents_to_text(state["total_cents"]),
            "currency": state["currency"],
            "payment_reference": f"PAY-{rng.randrange(16**10):010X}",
        },
        catalog.CHECKOUT,
        order.id,
        sim.command_id(),
        command="pay",
    )
    if rng.random() < 0.03:
        sim.schedule(
            sim.now + rng.uniform(1, 5) * HOUR,
            cancel,
            world,
            order,
            rng.choice(catalog.CANCEL_REASONS),
        )
    else:
        sim.schedule(clock.next_business_time(sim.now, rng.uniform(9, 17)), ship, world, order)


def ship(world: World, order: Stream) -> None:
    sim, rng = world.sim, world.rng
    if not sim.room(1):
        return
    try:
        orders.check_ship(order.state)
    except CommandRejected as refusal:
        sim.reject(order, "ship", refusal.reason)
        return
    carrier = rng.choice(catalog.CARRIERS)
    sim.emit(
        order,
        "OrderShipped",
        {
            "carrier": carrier,
            "tracking_number": f"{carrier[:2].upper()}{rng.randrange(10**11, 10**12)}",
        },
        catalog.WAREHOUSE,
        order.id,
        sim.command_id(),
        command="ship",
    )
    if rng.random() < 0.04:
        sim.schedule(
            sim.now + rng.uniform(3, 14) * DAY,
            refund,
            world,
            order,
            rng.choice(catalog.REFUND_REASONS),
        )


def cancel(world: World, order: Stream, reason: str) -> None:
    sim = world.sim
    state = order.state
    if not sim.room(2 + len(state["lines"])):
        return
    try:
        orders.check_cancel(state)
    except CommandRejected as refusal:
        sim.reject(order, "cancel", refusal.reason)
        return
    was_paid = state["status"] == "paid"
    cancelled = sim.emit(
        order,
        "OrderCancelled",
        {"reason": reason},
        world.customer_actor(order.meta["customer"])
        if reason != "payment not received"
        else catalog.CHECKOUT,
        order.id,
        sim.command_id(),
        command="cancel",
    )
    for sku, line in sorted(state["lines"].items()):
        sim.tick(0.05, 0.3)
        _release(
            world, _product(world, sku), order.id, line["quantity"], "order cancelled", cancelled
        )
    if was_paid:
        sim.tick(1, 30)
        _refund_now(world, order, state["paid_cents"], "order cancelled after payment", cancelled)


def refund(world: World, order: Stream, reason: str) -> None:
    if not world.sim.room(1):
        return
    _refund_now(world, order, order.state["paid_cents"], reason, world.sim.command_id())


def _refund_now(world: World, order: Stream, cents: int, reason: str, cause: str) -> None:
    sim = world.sim
    try:
        orders.check_refund(order.state, cents)
    except CommandRejected as refusal:
        sim.reject(order, "refund", refusal.reason)
        return
    sim.emit(
        order,
        "OrderRefunded",
        {"amount": cents_to_text(cents), "currency": order.state["currency"], "reason": reason},
        catalog.CHECKOUT,
        order.id,
        cause,
        command="refund",
    )
