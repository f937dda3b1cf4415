"""The demo domains -- a bank and a shop -- as a real `--domain` plugin.

``eventscope state demo.db account-000042 --domain domain.demo`` replays with the logic in
this package; the explorer picks it automatically for a store that `looks_like_demo`.
The generator that writes demo histories lives in `demo_data` (it imports this package,
never the other way round).
"""

from __future__ import annotations

from domain.demo.banking import Account, Customer, Transfer
from domain.demo.events import EVENT_CLASSES, REGISTRY, UPCASTERS
from domain.demo.orders import Order, Product
from domain.demo.projections import PROJECTION_CLASSES
from domain.plugin import DomainPlugin
from store.source import EventSource

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
)

PROJECTION_NAMES = tuple(sorted(p.name for p in PROJECTION_CLASSES))


DEMO_STREAM_TYPES = frozenset(AGGREGATES)


def looks_like_demo(source: EventSource) -> bool:
    """True when a source carries all five demo stream types and either the demo's read
    models or none at all (a JSON Lines export of a demo has no read models), so the
    explorer can load `DOMAIN` without being told. Works on copies: no side file needed."""
    types = {name for name, _count in source.stream_types()}
    if not DEMO_STREAM_TYPES <= types:
        return False
    projections = set(source.projection_names())
    return not projections or set(PROJECTION_NAMES) <= projections


__all__ = [
    "AGGREGATES",
    "DEMO_STREAM_TYPES",
    "DOMAIN",
    "PROJECTION_NAMES",
    "REGISTRY",
    "Account",
    "Customer",
    "Order",
    "Product",
    "Transfer",
    "looks_like_demo",
]
