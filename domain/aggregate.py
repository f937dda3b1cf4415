"""The `Aggregate` base: commands check rules and record events; one `apply` path folds
events into state for both commands and replay.

A worked example (the demo domains follow this shape)::

    class AccountState(BaseModel):
        owner: str | None = None
        balance: int = 0
        closed: bool = False

    class Account(Aggregate[AccountState]):
        stream_type = "account"          # the stream category this aggregate owns
        State = AccountState             # defaults of the model = state before any event
        code_version = "banking-1"       # written into snapshots it produces

        @command
        def deposit(self, amount: int) -> None:
            if amount <= 0:
                raise CommandRejected("a deposit must be a positive amount")
            if self.state.closed:
                raise CommandRejected("the account is closed")
            self.record(MoneyDeposited(amount=amount))

        @applies(MoneyDeposited)
        def _deposited(state: dict, data: dict) -> None:   # no `self`: a pure function
            state["balance"] += data["amount"]

Why appliers take plain dicts: replay runs an applier per stored event, and building a
pydantic model per event would dominate the cost of a 100k-event replay. The typed state
(`aggregate.state`) is validated lazily, at the boundary, from the plain dict.

Rules:
* an applier mutates `state` (a JSON-shaped dict) in place, or returns a new dict; it reads
  nothing but `state` and `data` (it has no `self`), so replay is deterministic; it must
  keep the state JSON-shaped (str keys; str/int/float/bool/None/list/dict values);
* a `@command` method that raises `CommandRejected` (or anything else) records nothing:
  events it had recorded are dropped and the state is restored;
* `pending_events(...)` turns recorded-but-unsaved events into store `NewEvent`s with
  metadata `actor`, `correlation_id`, `causation_id` and `command` (the method's name);
* optionally, a `@checks(EventClass, ...)` function ``(state, data) -> None`` states the
  rule a command enforces in terms of the event it records, raising `CommandRejected` when
  the state would not have accepted that event. Replay never runs checks (stored events
  are facts); a *changed* history does (`domain.whatif`), so "what if this deposit had
  not happened?" can answer "then the aggregate would have refused withdrawal v9: ...".
  Write both the command and the check with one rule function, as the demo does.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import orjson
from eventscope.domain.errors import CommandRejected
from eventscope.domain.events import DomainEvent
from eventscope.store.records import JSONObject, NewEvent
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

S = TypeVar("S", bound=BaseModel)
A = TypeVar("A", bound="Aggregate[Any]")
F = TypeVar("F", bound=Callable[..., Any])

Applier = Callable[[JSONObject, JSONObject], JSONObject | None]
Check = Callable[[JSONObject, JSONObject], None]

__all__ = ["Aggregate", "CommandRejected", "PendingEvent", "applies", "checks", "command"]


def applies(*event_types: type[DomainEvent] | str) -> Callable[[Applier], Any]:
    """Mark a function ``(state: dict, data: dict) -> None | dict`` written in the class
    body as the applier of the given event classes (or stored type names).

    It becomes a staticmethod: an applier sees only the state and the payload, never the
    instance, so replaying the same events always yields the same state.
    """
    names = tuple(t if isinstance(t, str) else t.event_type for t in event_types)

    def mark(func: Applier) -> Any:
        func.__applies__ = names  # type: ignore[attr-defined]
        return staticmethod(func)

    return mark


def checks(*event_types: type[DomainEvent] | str) -> Callable[[Check], Any]:
    """Mark a function ``(state: dict, data: dict) -> None`` written in the class body as
    the rule for the given event classes (or stored type names): it raises
    `CommandRejected` when an aggregate in `state` would have refused to record such an
    event. Like an applier it becomes a staticmethod and sees only state and payload."""
    names = tuple(t if isinstance(t, str) else t.event_type for t in event_types)

    def mark(func: Check) -> Any:
        func.__checks__ = names  # type: ignore[attr-defined]
        return staticmethod(func)

    return mark


def command(func: F) -> F:
    """Mark a method as a command: its name is stored in each event's metadata, and if it
    raises, every event it recorded is dropped and the state restored (all or nothing)."""

    @functools.wraps(func)
    def run(self: Aggregate[Any], *args: Any, **kwargs: Any) -> Any:
        if self._command is not None:  # a command calling another: one unit of work
            return func(self, *args, **kwargs)
        saved = (_dumps(self._state), self.version, len(self._pending))
        self._command = func.__name__
        try:
            return func(self, *args, **kwargs)
        except BaseException:
            state_bytes, version, pending = saved
            self._state = orjson.loads(state_bytes)
            self.version = version
            del self._pending[pending:]
            self._typed = None
            raise
        finally:
            self._command = None

    run.__command__ = True  # type: ignore[attr-defined]  # forms are made from commands
    return run  # type: ignore[return-value]


def _dumps(state: Any) -> bytes:
    """JSON bytes of a plain state (non-JSON values an applier left there in JSON form)."""
    return orjson.dumps(state, default=to_jsonable_python)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event recorded by a command and not yet saved."""

    event: DomainEvent
    command: str | None
    occurred_at: datetime | None
    event_id: uuid.UUID


class Aggregate(Generic[S]):
    """Base class: `id`, `version` (number of events applied), a pydantic `State` model.

    Class attributes to set in a subclass: `stream_type`, `State`; optionally
    `code_version` and `state_schema_version` (written into snapshots).
    """

    stream_type: ClassVar[str] = ""
    State: ClassVar[type[BaseModel]]
    code_version: ClassVar[str] = "1"
    state_schema_version: ClassVar[int] = 1

    # Filled per subclass: stored event type -> applier function / rule checks.
    _appliers: ClassVar[dict[str, Applier]] = {}
    _checks: ClassVar[dict[str, tuple[Check, ...]]] = {}
    _initial_bytes: ClassVar[bytes] = b"{}"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers: dict[str, Applier] = {}
        rules: dict[str, dict[str, Check]] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                func = value.__func__ if isinstance(value, staticmethod) else value
                for name in getattr(func, "__applies__", ()):
                    appliers[name] = func
                for name in getattr(func, "__checks__", ()):
                    rules.setdefault(name, {})[attribute] = func  # a subclass overrides
        cls._appliers = appliers
        cls._checks = {name: tuple(funcs.values()) for name, funcs in rules.items()}
        if not cls.__dict__.get("stream_type"):
            cls.stream_type = cls.__name__.lower()
        state_cls = getattr(cls, "State", None)
        if state_cls is not None:
            cls._initial_bytes = orjson.dumps(state_cls().model_dump(mode="json"))

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self._state: JSONObject = self.initial_state()
        self._typed: S | None = None
        self._pending: list[PendingEvent] = []
        self._command: str | None = None

    # --- state --------------------------------------------------------------------------
    @classmethod
    def initial_state(cls) -> JSONObject:
        """The plain state before any event (the `State` model's defaults)."""
        return orjson.loads(cls._initial_bytes)

    @property
    def state(self) -> S:
        """The typed state, validated from the plain state on first access after a change."""
        if self._typed is None:
            self._typed = self.State.model_validate(self._state)  # type: ignore[assignment]
        return self._typed  # type: ignore[return-value]

    @property
    def plain_state(self) -> JSONObject:
        """The JSON-shaped state (what snapshots store and the explorer shows). Read-only."""
        return self._state

    @classmethod
    def handles(cls, event_type: str) -> bool:
        return event_type in cls._appliers

    @classmethod
    def handled_event_types(cls) -> list[str]:
        return sorted(cls._appliers)

    @classmethod
    def has_checks(cls) -> bool:
        """True when the aggregate states its rules per event (`@checks`)."""
        return bool(cls._checks)

    @classmethod
    def refusal(cls, state: JSONObject, event_type: str, data: JSONObject) -> str | None:
        """Why an aggregate in `state` would have refused to record this event, or None.

        Runs the `@checks` rules for the type (on a copy, so a rule cannot change the
        state); an event type without rules is accepted."""
        rules = cls._checks.get(event_type)
        if not rules:
            return None
        private = orjson.loads(_dumps(state))
        for rule in rules:
            try:
                rule(private, data)
            except CommandRejected as refusal:
                return str(refusal.reason)
            except Exception as exc:  # a payload the rule cannot read is not accepted
                text = str(exc)
                return f"its rule could not be checked ({type(exc).__name__}{': ' if text else ''}{text})"
        return None

    # --- the one apply path -------------------------------------------------------------
    @classmethod
    def fold(cls, state: JSONObject, event_type: str, data: JSONObject) -> JSONObject:
        """Apply one event's payload to a plain state and return the new state.

        Used by commands (via `record`) and by replay (repository, temporal engine).
        Raises KeyError when this aggregate has no applier for `event_type`.
        """
        applier = cls._appliers[event_type]
        result = applier(state, data)
        return state if result is None else result

    def apply(self, event_type: str, data: JSONObject) -> None:
        """Fold one event into this instance and bump its version."""
        self._state = type(self).fold(self._state, event_type, data)
        self.version += 1
        self._typed = None

    # --- commands -----------------------------------------------------------------------
    def record(
        self,
        event: DomainEvent,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> None:
        """Record a new event from a command: apply it now, save it later."""
        if not type(self).handles(event.event_type):
            raise TypeError(f"{type(self).__name__} has no applier for {event.event_type}")
        self.apply(event.event_type, event.payload())
        self._pending.append(
            PendingEvent(event, self._command, occurred_at, event_id or uuid.uuid4())
        )

    @property
    def pending(self) -> list[PendingEvent]:
        return list(self._pending)

    def pending_events(
        self,
        actor: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        extra_metadata: JSONObject | None = None,
    ) -> list[NewEvent]:
        """Unsaved events as store `NewEvent`s, with metadata for audit.

        Without a correlation id, one is made for the batch; each event's causation is the
        given `causation_id` (e.g. the triggering event's id) or the correlation id.
        """
        correlation = correlation_id or str(uuid.uuid4())
        out: list[NewEvent] = []
        for item in self._pending:
            metadata: JSONObject = {
                "actor": actor,
                "correlation_id": correlation,
                "causation_id": causation_id or correlation,
            }
            if item.command:
                metadata["command"] = item.command
            if extra_metadata:
                metadata.update(extra_metadata)
            out.append(
                NewEvent(
                    event_type=item.event.event_type,
                    data=item.event.payload(),
                    metadata=metadata,
                    event_id=item.event_id,
                    schema_version=item.event.schema_version,
                    occurred_at=item.occurred_at,
                )
            )
        return out

    def mark_saved(self) -> None:
        """Forget pending events once the store has them."""
        self._pending.clear()

    @property
    def saved_version(self) -> int:
        """The stream version in the store (version minus unsaved events)."""
        return self.version - len(self._pending)

    # --- rebuilding ---------------------------------------------------------------------
    @classmethod
    def from_state(cls: type[A], aggregate_id: str, state: JSONObject, version: int) -> A:
        """An instance at `version` with the given plain state (e.g. from a snapshot)."""
        instance = cls(aggregate_id)
        instance._state = orjson.loads(_dumps(state))
        instance.version = version
        return instance

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} v{self.version}>"
