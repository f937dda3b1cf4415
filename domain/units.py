"""Display units a domain may declare for its numeric fields (cents shown as money).

A store keeps money as integer cents (``balance_cents: 454246``); a reviewer reads
``4,542.46 EUR``. A `DomainPlugin` maps field names to a `DisplayUnit`; the explorer's
chart and field history use it for labels only -- the values themselves, and every
export, stay exactly as stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DisplayUnit:
    """`scale` stored units make one shown unit (100 for cents); `decimals` shown; the
    unit's name is `label`, or read from the sibling field `label_from` (a currency)."""

    scale: int = 1
    decimals: int = 0
    label: str = ""
    label_from: str = ""

    def shown(self, value: float) -> float:
        return value / self.scale if self.scale else value

    def format(self, value: float) -> str:
        """``454246`` -> ``4,542.46`` for cents."""
        return f"{self.shown(value):,.{self.decimals}f}"

    def name(self, state: Mapping[str, Any] | None = None) -> str:
        """The unit's name, e.g. ``EUR`` from the state's ``currency`` field."""
        if self.label_from and state is not None:
            value = state.get(self.label_from)
            if isinstance(value, str) and value:
                return value
        return self.label


MONEY_CENTS = DisplayUnit(scale=100, decimals=2, label="money", label_from="currency")
"""Integer cents, shown as money in the currency named by a sibling ``currency`` field."""


def unit_for(units: Mapping[str, DisplayUnit], path: Sequence[Any]) -> DisplayUnit | None:
    """The unit declared for a field: by its dotted path first, then by its name."""
    if not path:
        return None
    dotted = ".".join(str(part) for part in path)
    return units.get(dotted) or units.get(str(path[-1]))
