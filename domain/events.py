"""Typed domain events, the registry that maps stored names to classes, and upcasters.

Events are facts: a `DomainEvent` is a frozen pydantic model whose *class* carries the
stored name (`event_type`) and the payload schema version it writes (`schema_version`)::

    class MoneyDeposited(DomainEvent):
        event_type = "MoneyDeposited"      # defaults to the class name when omitted
        schema_version = 2                 # the version new events are written with
        amount: int
        currency: str

Stored payloads may have been written by older code. An *upcaster* turns a payload of
`(event_type, from_version)` into the payload of `from_version + 1`; the registry chains
them up to the class's current `schema_version`::

    @upcaster("MoneyDeposited", from_version=1)
    def add_currency(data: dict) -> dict:
        return {**data, "currency": "EUR"}

    registry = EventRegistry([MoneyDeposited], upcasters=[add_currency])
    registry.decode(recorded_event)  # -> DecodedEvent (never raises)

Why plain dicts: replay folds upcast payloads as plain JSON data (orjson-decoded) and never
builds a pydantic object per event -- that would triple the cost of a replay (DESIGN.md,
"Consequences"). Typed validation happens at the boundary: when a command records an event
(the model is constructed) and when the explorer inspects one event (`validate`).

Upcasters must be pure: they receive a deep copy of the stored payload, so the stored
bytes can never change, and the same input always yields the same chain and output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import orjson
from eventscope.domain.wording import validation_sentence
from eventscope.store.records import JSONObject, RecordedEvent
from pydantic import BaseModel, ConfigDict, ValidationError

UpcastFunction = Callable[[JSONObject], JSONObject]


class DomainEvent(BaseModel):
    """Base class of typed events: frozen, extra fields refused.

    Subclasses set the class attributes `event_type` (stored name, defaults to the class
    name) and `schema_version` (defaults to 1) and declare payload fields as usual.
    `payload()` is the JSON object that is stored as the event's `data`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__dict__.get("event_type"):
            cls.event_type = cls.__name__

    def payload(self) -> JSONObject:
        """The stored form (`data`): JSON-compatible values only."""
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class Upcaster:
    """Turns a stored payload of `(event_type, from_version)` into `from_version + 1`."""

    event_type: str
    from_version: int
    func: UpcastFunction

    @property
    def label(self) -> str:
        """How the step is shown in the explorer: ``MoneyDeposited v1→v2 (add_currency)``."""
        name = getattr(self.func, "__name__", "upcaster")
        return f"{self.event_type} v{self.from_version}→v{self.from_version + 1} ({name})"


def upcaster(event_type: str, from_version: int) -> Callable[[UpcastFunction], Upcaster]:
    """Decorator: ``@upcaster("MoneyDeposited", from_version=1)`` on ``def f(data) -> data``."""

    def wrap(func: UpcastFunction) -> Upcaster:
        return Upcaster(event_type, from_version, func)

    return wrap


@dataclass(slots=True)
class DecodedEvent:
    """One stored event as the engine sees it: never an exception, always an explanation.

    * `raw` is the stored payload exactly as read (do not mutate it);
    * `data` is the upcast payload the fold uses (None when the event is undecodable);
    * `chain` lists the upcast steps applied, in order (empty when none were needed);
    * `error` says why the event cannot be used (unknown type, invalid JSON, a failing
      upcaster, a handler that failed); a state computed past it is marked as skipping it.
    """

    recorded: RecordedEvent
    raw: JSONObject
    data: JSONObject | None
    schema_version: int
    chain: tuple[str, ...] = ()
    error: str | None = None
    event_class: type[DomainEvent] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    # Convenience accessors, so projection code reads naturally (`event.stream_id`).
    @property
    def position(self) -> int:
        return self.recorded.position

    @property
    def version(self) -> int:
        return self.recorded.version

    @property
    def stream_id(self) -> str:
        return self.recorded.stream_id

    @property
    def stream_type(self) -> str:
        return self.recorded.stream_type

    @property
    def event_type(self) -> str:
        return self.recorded.event_type

    @property
    def metadata(self) -> JSONObject:
        return self.recorded.metadata

    @property
    def actor(self) -> str | None:
        return self.recorded.actor

    @property
    def occurred_at(self) -> datetime:
        return self.recorded.occurred_at

    @property
    def recorded_at(self) -> datetime:
        return self.recorded.recorded_at

    def validate(self) -> DomainEvent | None:
        """The typed event (boundary check, off the replay path); None when there is no
        class for it. Raises pydantic's ValidationError when the payload does not fit."""
        if self.event_class is None or self.data is None:
            return None
        return self.event_class.model_validate(self.data)

    def validation_error(self) -> str | None:
        """One sentence when the upcast payload does not fit its class, else None."""
        try:
            self.validate()
        except ValidationError as exc:
            return validation_sentence(exc, "payload")
        return None

    def to_json(self) -> JSONObject:
        """The shape the explorer and `--json` show for an event's detail."""
        return {
            **self.recorded.to_json(),
            "raw": self.raw,
            "upcast": self.data,
            "upcast_schema_version": self.schema_version,
            "upcast_chain": list(self.chain),
            "error": self.error,
        }


class UpcastError(Exception):
    """Internal: an upcaster failed or returned something that is not a JSON object."""


class EventRegistry:
    """Maps stored `event_type` names to `DomainEvent` classes and holds the upcasters.

    A registry with no classes still decodes: unknown types are kept as undecodable only
    when `strict=True`; by default (foreign stores, the generic fold) an unregistered type
    passes through with its raw payload, because the generic fold needs no class.
    """

    def __init__(
        self,
        events: Iterable[type[DomainEvent]] = (),
        upcasters: Iterable[Upcaster] = (),
        *,
        strict: bool = False,
    ) -> None:
        self.strict = strict
        self._classes: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for cls in events:
            self.register(cls)
        for step in upcasters:
            self.add_upcaster(step)

    # --- registration -------------------------------------------------------------------
    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        """Register an event class (usable as a class decorator). Names must be unique."""
        existing = self._classes.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type!r} is registered twice")
        self._classes[cls.event_type] = cls
        return cls

    def add_upcaster(self, step: Upcaster) -> Upcaster:
        """Register one upcast step; a second step for the same (type, version) is refused."""
        key = (step.event_type, step.from_version)
        if key in self._upcasters and self._upcasters[key] is not step:
            raise ValueError(
                f"two upcasters for {step.event_type!r} from version {step.from_version}"
            )
        self._upcasters[key] = step
        return step

    def upcaster(self, event_type: str, from_version: int) -> Callable[[UpcastFunction], Upcaster]:
        """Decorator form bound to this registry."""

        def wrap(func: UpcastFunction) -> Upcaster:
            return self.add_upcaster(Upcaster(event_type, from_version, func))

        return wrap

    def merged(self, other: EventRegistry) -> EventRegistry:
        """A new registry holding both registries' classes and upcasters."""
        out = EventRegistry(strict=self.strict or other.strict)
        for registry in (self, other):
            for cls in registry._classes.values():
                out.register(cls)
            for step in registry._upcasters.values():
                out.add_upcaster(step)
        return out

    # --- lookup -------------------------------------------------------------------------
    def class_for(self, event_type: str) -> type[DomainEvent] | None:
        return self._classes.get(event_type)

    def event_types(self) -> list[str]:
        return sorted(self._classes)

    def current_version(self, event_type: str) -> int | None:
        """The schema version the code writes today, or None for an unknown type."""
        cls = self._classes.get(event_type)
        return cls.schema_version if cls is not None else None

    def has_upcasters(self) -> bool:
        return bool(self._upcasters)

    def upcaster_for(self, event_type: str, from_version: int) -> Upcaster | None:
        """The one step from `from_version` of `event_type`, or None (to show a chain)."""
        return self._upcasters.get((event_type, from_version))

    # --- decoding -----------------------------------------------------------------------
    def upcast(
        self, event_type: str, schema_version: int, data: JSONObject
    ) -> tuple[JSONObject, int, tuple[str, ...]]:
        """Chain upcasters from `schema_version` up to the current version.

        Returns (payload, reached_version, labels). The input is never mutated (each step
        gets a deep copy). Raises UpcastError when a step fails, is missing, or returns
        something other than a JSON object.
        """
        target = self.current_version(event_type)
        version = schema_version
        labels: list[str] = []
        if target is None:
            # Unknown type: apply whatever chain exists (a plugin may upcast foreign data).
            target = version
            while (event_type, target) in self._upcasters:
                target += 1
        if version > target:
            raise UpcastError(
                f"stored schema version {version} is newer than the code's version {target}"
            )
        if version == target:
            return data, version, ()
        current: Any = orjson.loads(orjson.dumps(data))  # deep copy: stored bytes stay intact
        while version < target:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UpcastError(
                    f"no upcaster from version {version} to {version + 1} of {event_type}"
                )
            try:
                current = step.func(current)
            except Exception as exc:  # user code: report it, never stop a replay
                raise UpcastError(f"upcaster {step.label} failed: {_describe(exc)}") from None
            if not isinstance(current, dict):
                raise UpcastError(
                    f"upcaster {step.label} returned {type(current).__name__}, not an object"
                )
            labels.append(step.label)
            version += 1
        return current, version, tuple(labels)

    def decode(self, recorded: RecordedEvent) -> DecodedEvent:
        """Turn a stored event into a DecodedEvent; never raises."""
        raw = recorded.data
        if recorded.decode_error is not None:
            return DecodedEvent(
                recorded, raw, None, recorded.schema_version, (), recorded.decode_error
            )
        cls = self._classes.get(recorded.event_type)
        if cls is None and self.strict:
            return DecodedEvent(
                recorded,
                raw,
                None,
                recorded.schema_version,
                (),
                f"unknown event type {recorded.event_type!r}: no class is registered for it",
            )
        if not self._upcasters and (cls is None or cls.schema_version == recorded.schema_version):
            return DecodedEvent(recorded, raw, raw, recorded.schema_version, (), None, cls)
        try:
            data, version, chain = self.upcast(recorded.event_type, recorded.schema_version, raw)
        except UpcastError as exc:
            return DecodedEvent(recorded, raw, None, recorded.schema_version, (), str(exc), cls)
        return DecodedEvent(recorded, raw, data, version, chain, None, cls)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
