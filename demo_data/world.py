"""The simulated population (customers, accounts, products) and the main loop that picks
what happens next.

Scenario code lives in `bank`, `shop` and `anomalies`; this module decides *when*:
spontaneous activity is spread over business activity at a rate that lands the last
event near the end of the span, and scheduled follow-ups run from the heap in time order.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from eventscope.demo_data import anomalies, bank, catalog, clock, shop
from eventscope.demo_data.simulation import Simulation, Stream

# Instants (fractions of the span) at which the stored schemas changed.
ADDRESS_V2_AT = 0.35  # CustomerRegistered: one-line address -> structured address
MONEY_V2_AT = 0.45  # multi-currency launch: integer cents -> decimal text + currency


class World:
    """Who exists so far, plus helpers the scenarios share."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.rng = sim.rng
        total = sim.total
        self.target_customers = max(8, total // 45)
        self.product_count = max(8, min(240, total // 2000))
        self.customers: list[Stream] = []
        self.customers_by_id: dict[str, Stream] = {}
        self.verified: list[Stream] = []
        self.accounts: list[Stream] = []
        self.accounts_by_currency: dict[str, list[Stream]] = {}
        self.products: list[Stream] = []
        self.counters: dict[str, int] = {}
        self.idle_fillers = 0  # filler attempts in a row that recorded nothing
        self.address_v2_at = ADDRESS_V2_AT * sim.clock.span_activity
        self.money_v2_at = MONEY_V2_AT * sim.clock.span_activity
        # Releases go live at 06:00 on a weekday, before the branches open.
        self.address_v2_seconds = clock.next_business_time(
            sim.clock.wall_seconds(self.address_v2_at), 6.0
        )
        self.money_v2_seconds = clock.next_business_time(
            sim.clock.wall_seconds(self.money_v2_at), 6.0
        )

    def next_id(self, kind: str, width: int) -> str:
        number = self.counters.get(kind, 0) + 1
        self.counters[kind] = number
        return f"{kind}-{number:0{width}d}"

    def money_v1(self) -> bool:
        """Before the multi-currency launch, money events were stored in schema 1."""
        return self.sim.now < self.money_v2_seconds

    def address_v1(self) -> bool:
        return self.sim.now < self.address_v2_seconds

    def customer_actor(self, customer_id: str) -> str:
        return f"customer:{customer_id}"

    def teller(self) -> str:
        return self.rng.choice(catalog.TELLERS)

    def add_account(self, account: Stream) -> None:
        self.accounts.append(account)
        self.accounts_by_currency.setdefault(account.state["currency"], []).append(account)

    def customer_accounts(self, account: Stream) -> list[Stream]:
        """Every account of the customer who owns `account`."""
        owner = self.customers_by_id.get(account.state["customer_id"])
        return owner.meta.get("accounts", []) if owner is not None else []

    def customers_target_now(self) -> int:
        progress = min(1.0, self.sim.progress)
        return max(3, round(self.target_customers * (0.12 + 0.88 * math.sqrt(progress))))


# Spontaneous scenarios and their weights (onboarding is driven by the growth target).
SCENARIOS: tuple[tuple[Callable[[World], None], float], ...] = (
    (bank.deposit, 20.0),
    (bank.withdraw, 17.0),
    (bank.transfer, 22.0),
    (shop.place_order, 17.0),
    (bank.change_address, 1.0),
    (bank.open_second_account, 1.2),
    (bank.close_account, 0.35),
    (bank.random_freeze, 0.2),
)
BIGGEST_SCENARIO = 14  # events an ordinary scenario (with its follow-ups) may need at once


def run(sim: Simulation, on_output: Callable[[Simulation], None] | None = None) -> World:
    """Simulate until exactly `sim.total` events were emitted; call `on_output(sim)` often
    (the writer drains `sim.out` there)."""
    world = World(sim)
    rng = sim.rng
    functions = [f for f, _ in SCENARIOS]
    cumulative = []
    running = 0.0
    for _, weight in SCENARIOS:
        running += weight
        cumulative.append(running)

    shop.open_shop(world)
    anomalies.plan(world)
    for when in clock.month_ends():
        sim.schedule(when, bank.month_end_batch, world)
    for when in clock.paydays():
        sim.schedule(when, bank.payroll_batch, world)

    span = sim.clock.span_activity
    next_activity = sim.clock.activity_at(sim.now)
    events_per_scenario = 3.0
    while sim.count < sim.total:
        spontaneous_at = sim.clock.wall_seconds(next_activity)
        heap = sim.heap
        if heap and heap[0][0] <= spontaneous_at:
            when, _seq, action, args = heapq.heappop(heap)
            if when > sim.now:
                sim.now = when
            action(*args)
        else:
            if spontaneous_at > sim.now:
                sim.now = spontaneous_at
            sim.activity = next_activity
            _spontaneous(world, functions, cumulative, running)
            sim.spontaneous += 1
            free = sim.total - sim.count - sim.reserve
            if free > 0:
                left = max(span - next_activity, span * 0.002)
                # Events per spontaneous scenario so far, follow-ups and batches included:
                # spread the scenarios still to come evenly over the rest of the span.
                if sim.spontaneous > 50:
                    events_per_scenario = sim.count / sim.spontaneous
                scenarios_left = max(1.0, free / events_per_scenario)
                next_activity += rng.expovariate(scenarios_left / left)
            else:
                # Only planted anomalies remain: jump to the next scheduled one.
                next_activity = sim.clock.activity_at(heap[0][0]) if heap else next_activity + 1
        if on_output is not None and len(sim.out) >= 20_000:
            on_output(sim)
    if on_output is not None:
        on_output(sim)
    anomalies.check_complete(world)
    return world


def _spontaneous(world: World, functions: list, cumulative: list[float], total: float) -> None:
    sim = world.sim
    if not sim.room(BIGGEST_SCENARIO):
        if sim.room(1):
            before = sim.count
            bank.deposit(world)
            world.idle_fillers = 0 if sim.count > before else world.idle_fillers + 1
            if world.idle_fillers > 1_000:  # every account refuses deposits: restock instead
                shop.restock(world, world.rng.choice(world.products))
        return
    if len(world.customers) < world.customers_target_now():
        bank.onboard(world)
        return
    pick = world.rng.random() * total
    for function, bound in zip(functions, cumulative, strict=True):
        if pick < bound:
            function(world)
            return
