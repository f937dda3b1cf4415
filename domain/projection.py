"""The `Projection` base: the CQRS read side, one JSON document per key.

A projection declares its name, the event types it handles, a key function and
``apply(document, event) -> document``::

    class AccountBalances(Projection):
        name = "account_balances"
        handles = (AccountOpened, MoneyDeposited, MoneyWithdrawn)   # classes or names

        def key(self, event: DecodedEvent) -> str | None:
            return event.stream_id                 # the default; None skips the event

        def initial(self, key: str) -> dict:
            return {"balance": 0}

        def apply(self, document: dict, event: DecodedEvent) -> dict:
            if event.event_type == "MoneyDeposited":
                document["balance"] += event.data["amount"]
            ...
            return document

`event` is a `domain.events.DecodedEvent`: `event.data` is the *upcast* payload, and
`position`, `stream_id`, `version`, `metadata`, `actor`, `occurred_at`, `recorded_at` are
at hand. Undecodable events never reach `apply`.

Rules, so a rebuild always equals an incremental run: `apply` depends only on the
document and the event (no clock, no I/O, no other rows); it may mutate and return the
document it got, and must keep it JSON-shaped. Returning None means "I changed the
document in place" (the same as returning it).

The runner (`domain.projection_runner`) applies events in position order, stores each
document with the position that last changed it, and advances a checkpoint, so re-running
never applies an event twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from eventscope.domain.events import DecodedEvent, DomainEvent
from eventscope.store.records import JSONObject


class Projection:
    """Base class; subclasses set `name` and `handles` and implement `apply`."""

    name: ClassVar[str] = ""
    # Stored event type names (DomainEvent classes are accepted and turned into names).
    handles: ClassVar[tuple[str, ...]] = ()
    # Bump when `apply` changes meaning: stored rows from older code are then suspect.
    code_version: ClassVar[str] = "1"
    _named: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A name set in the class body wins; a subclass of a *named* projection keeps its
        # name (it is the same projection with other code, e.g. a fix being compared);
        # otherwise the class name.
        if cls.__dict__.get("name"):
            cls._named = True
        elif not getattr(cls, "_named", False):
            cls.name = cls.__name__
        raw = cls.__dict__.get("handles", cls.handles)
        cls.handles = tuple(item if isinstance(item, str) else _event_type_of(item) for item in raw)

    def handles_type(self, event_type: str) -> bool:
        return event_type in self.handles

    def key(self, event: DecodedEvent) -> str | None:
        """The document this event updates; None means "not for this projection"."""
        return event.stream_id

    def initial(self, key: str) -> JSONObject:
        """The document before its first event."""
        return {}

    def apply(self, document: JSONObject, event: DecodedEvent) -> JSONObject | None:
        """Fold one event into a document; return it (None: it was changed in place)."""
        raise NotImplementedError(f"{type(self).__name__}.apply is not written")

    def __repr__(self) -> str:
        return f"<Projection {self.name}>"


def _event_type_of(item: object) -> str:
    if isinstance(item, type) and issubclass(item, DomainEvent):
        return item.event_type
    raise TypeError(f"a projection handles event type names or DomainEvent classes, not {item!r}")
