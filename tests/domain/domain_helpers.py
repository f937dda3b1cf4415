"""Shared pieces of the domain tests: Hypothesis strategies for JSON histories, a small
test aggregate (a ledger) with a projection, and helpers that write real stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from eventscope.domain.aggregate import Aggregate, applies, command
from eventscope.domain.errors import CommandRejected
from eventscope.domain.events import DecodedEvent, DomainEvent, upcaster
from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.projection import Projection
from eventscope.store import EventStore, NewEvent, RecordedEvent
from hypothesis import strategies as st
from pydantic import BaseModel

BASE = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)

# --- JSON strategies -------------------------------------------------------------------
KEYS = st.sampled_from(["a", "b", "c", "d"])
SCALARS = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.sampled_from(["x", "y", ""]),
    st.floats(-2, 2, allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
)
JSON_VALUES = st.recursive(
    st.one_of(SCALARS, st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)
    ),
    max_leaves=8,
)
# Event payloads: objects whose values may be null (remove), objects (merge) or others.
PAYLOADS = st.dictionaries(KEYS, JSON_VALUES, max_size=4)
HISTORIES = st.lists(PAYLOADS, min_size=0, max_size=40)
# States never hold null (a fold result): JSON values without None.
STATE_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)
    ),
    max_leaves=10,
)
STATES = st.dictionaries(KEYS, STATE_VALUES, max_size=4)


def unique_stream(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def append_payloads(
    store: EventStore,
    stream_id: str,
    payloads: list[dict[str, Any]],
    event_type: str = "Changed",
    stream_type: str = "thing",
    actors: tuple[str, ...] = ("ann", "bob", "cy"),
) -> list[RecordedEvent]:
    """Append one event per payload (one batch), actors rotating."""
    if not payloads:
        return []
    events = [
        NewEvent(
            event_type=event_type,
            data=payload,
            metadata={"actor": actors[i % len(actors)], "correlation_id": f"c-{i}"},
        )
        for i, payload in enumerate(payloads)
    ]
    return store.append(stream_id, events, stream_type=stream_type)


# --- a small domain ----------------------------------------------------------------------
class Opened(DomainEvent):
    owner: str


class Credited(DomainEvent):
    """Schema 2 stores a currency; schema 1 (cents only) is upcast with EUR."""

    schema_version = 2
    amount: int
    currency: str


class Debited(DomainEvent):
    amount: int


class Tagged(DomainEvent):
    tags: list[str]


class Exploded(DomainEvent):
    """Its applier fails (a bug in user code the engine must survive)."""

    why: str


class Noted(DomainEvent):
    """Schema 1 stored `body`; its upcaster fails on a v1 payload without it."""

    schema_version = 2
    text: str


@upcaster("Credited", from_version=1)
def add_currency(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "currency": "EUR"}


@upcaster("Noted", from_version=1)
def body_to_text(data: dict[str, Any]) -> dict[str, Any]:
    return {"text": data["body"]}


class LedgerState(BaseModel):
    owner: str | None = None
    balance: int = 0
    tags: list[str] = []
    credits: int = 0


class Ledger(Aggregate[LedgerState]):
    """Test aggregate: a balance that may not go negative."""

    stream_type = "ledger"
    State = LedgerState
    code_version = "ledger-1"

    @command
    def open(self, owner: str) -> None:
        if self.version:
            raise CommandRejected(f"ledger {self.id} is already open")
        if not owner:
            raise CommandRejected("a ledger needs an owner")
        self.record(Opened(owner=owner))

    @command
    def credit(self, amount: int) -> None:
        self._require_open()
        if amount <= 0:
            raise CommandRejected("a credit must be positive")
        self.record(Credited(amount=amount, currency="EUR"))

    @command
    def debit(self, amount: int) -> None:
        self._require_open()
        if amount > self.state.balance:
            raise CommandRejected(f"insufficient funds: balance {self.state.balance}")
        self.record(Debited(amount=amount))

    @command
    def credit_then_overdraw(self, amount: int) -> None:
        """Records a credit, then is rejected: nothing at all may be recorded."""
        self.credit(amount)
        self.debit(self.state.balance + 1)

    @command
    def tag(self, *tags: str) -> None:
        self._require_open()
        self.record(Tagged(tags=list(tags)))

    def _require_open(self) -> None:
        if not self.version:
            raise CommandRejected(f"ledger {self.id} is not open")

    @applies(Opened)
    def _opened(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["owner"] = data["owner"]

    @applies(Credited)
    def _credited(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["balance"] += data["amount"]
        state["credits"] += 1

    @applies(Debited)
    def _debited(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["balance"] -= data["amount"]

    @applies(Tagged)
    def _tagged(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["tags"] = data["tags"]  # aliases the payload list on purpose (see tests)

    @applies(Exploded)
    def _exploded(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["balance"] = -999  # half-changes the state, then fails
        raise RuntimeError(data["why"])


class LedgerV2(Ledger):
    """ "Code B": counts debits as credits too (a bug that bisect should locate)."""

    stream_type = "ledger"

    @applies(Debited)
    def _debited(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["balance"] -= data["amount"]
        state["credits"] += 1


class Balances(Projection):
    name = "balances"
    handles = (Opened, Credited, Debited)

    def initial(self, key: str) -> dict[str, Any]:
        return {"owner": None, "balance": 0, "events": 0}

    def apply(self, document: dict[str, Any], event: DecodedEvent) -> dict[str, Any]:
        data = event.data or {}
        if event.event_type == "Opened":
            document["owner"] = data["owner"]
        elif event.event_type == "Credited":
            document["balance"] += data["amount"]
        elif event.event_type == "Debited":
            document["balance"] -= data["amount"]
        document["events"] += 1
        return document


class Owners(Projection):
    """Keyed by owner (not by stream): how many ledgers each owner opened."""

    name = "owners"
    handles = ("Opened",)

    def key(self, event: DecodedEvent) -> str | None:
        return (event.data or {}).get("owner")

    def apply(self, document: dict[str, Any], event: DecodedEvent) -> None:
        document["ledgers"] = document.get("ledgers", 0) + 1
        document.setdefault("streams", []).append(event.stream_id)


LEDGER_EVENTS = [Opened, Credited, Debited, Tagged, Exploded, Noted]
LEDGER_UPCASTERS = [add_currency, body_to_text]
PLUGIN = DomainPlugin(
    aggregates={"ledger": Ledger},
    projections=[Balances(), Owners],
    events=LEDGER_EVENTS,
    upcasters=LEDGER_UPCASTERS,
)


def ledger_event(event_type: str, data: dict[str, Any], **kw: Any) -> NewEvent:
    return NewEvent(event_type=event_type, data=data, metadata={"actor": "ann"}, **kw)


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)
