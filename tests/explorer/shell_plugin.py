"""A tiny `--domain` plugin for the shell's tests: one projection over the shell store, so
"world as of T" snapshots depend only on data these tests build (not on the demo's)."""

from __future__ import annotations

from typing import Any

from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.projection import Projection


class Balances(Projection):
    name = "balances"
    handles = ("AccountOpened", "MoneyDeposited", "MoneyWithdrawn")

    def initial(self, key: str) -> dict[str, Any]:
        return {"balance": 0, "movements": 0}

    def apply(self, document: dict[str, Any], event: Any) -> dict[str, Any]:
        amount = event.data.get("amount", 0)
        if event.event_type == "MoneyDeposited":
            document["balance"] += amount
        elif event.event_type == "MoneyWithdrawn":
            document["balance"] -= amount
        document["movements"] += 1
        return document


class Movements(Projection):
    name = "movements_by_actor"
    handles = ("MoneyDeposited", "MoneyWithdrawn")

    def key(self, event: Any) -> str | None:
        return event.actor

    def initial(self, key: str) -> dict[str, Any]:
        return {"count": 0}

    def apply(self, document: dict[str, Any], event: Any) -> dict[str, Any]:
        document["count"] += 1
        return document


DOMAIN = DomainPlugin(projections=[Balances(), Movements()], name="shell test domain")
