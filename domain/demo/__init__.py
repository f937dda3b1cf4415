"""The demo domains -- a bank and a shop -- as a real `--domain` plugin.

``eventscope state demo.db account-000042 --domain eventscope.domain.demo`` replays with the logic in
this package; the explorer picks it automatically for a store the demo built
(`built_by_demo`: the store carries the ``eventscope.demo`` label).
The generator that writes demo histories lives in `demo_data` (it imports this package,
never the other way round).
"""

from __future__ import annotations

from eventscope.domain.demo.banking import Account, Customer, Transfer
from eventscope.domain.demo.events import EVENT_CLASSES, REGISTRY, UPCASTERS
from eventscope.domain.demo.orders import Order, Product
from eventscope.domain.demo.projections import PROJECTION_CLASSES
from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.units import MONEY_CENTS
from eventscope.store.source import EventSource

AGGREGATES = {
    "customer": Customer,
    "account": Account,
    "transfer": Transfer,
    "order": Order,
    "inventory": Product,
}

DOMAIN = DomainPlugin(
    aggregates=AGGREGATES,
    projections=PROJECTION_CLASSES,
    events=EVENT_CLASSES,
    upcasters=UPCASTERS,
    name="eventscope demo: bank and shop",
    display_units={
        "balance_cents": MONEY_CENTS,
        "overdraft_limit_cents": MONEY_CENTS,
        "total_cents": MONEY_CENTS,
        "paid_cents": MONEY_CENTS,
        "refunded_cents": MONEY_CENTS,
        "unit_price_cents": MONEY_CENTS,
    },
)

PROJECTION_NAMES = tuple(sorted(p.name for p in PROJECTION_CLASSES))


DEMO_STREAM_TYPES = frozenset(AGGREGATES)

# The store label `eventscope demo` writes into every store it builds (see `store_labels`
# in the README's store section). Only a store carrying it is replayed with the demo's
# code by default; stream names prove nothing -- a real bank has `account` streams too.
DEMO_LABEL = "eventscope.demo"


def built_by_demo(source: EventSource) -> bool:
    """True when `source` is a store that `eventscope demo` built (it carries the
    ``eventscope.demo`` label). Copies in other formats (a JSON Lines export) carry no
    label and get the generic fold unless asked for ``--domain eventscope.domain.demo``."""
    read_label = getattr(source, "label", None)
    return read_label is not None and read_label(DEMO_LABEL) is not None


__all__ = [
    "AGGREGATES",
    "DEMO_LABEL",
    "DEMO_STREAM_TYPES",
    "DOMAIN",
    "PROJECTION_NAMES",
    "REGISTRY",
    "Account",
    "Customer",
    "Order",
    "Product",
    "Transfer",
    "built_by_demo",
]
