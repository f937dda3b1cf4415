"""A teaching session on a sandbox store: commands become events (or are rejected), read
models lag and catch up, snapshots are taken by the policy, stale writers collide.

Everything here writes -- but only to the sandbox, a fresh scratch copy of the demo store
in eventscope's data folder (`demo_data.sandbox`), never to evidence. The explorer's
teaching screen drives it::

    session = TeachingSession(store, DOMAIN, snapshot_every=5, log=CommandLog(path))
    outcome = session.submit("account", "account-000042", "deposit",
                             {"amount": "100.00", "currency": "EUR"})
    outcome.status            # "accepted" | "rejected" | "invalid" | "conflict"
    outcome.steps             # what happened, in order, for the class to read
    session.read_models()     # checkpoint, head, lag in events and seconds
    session.catch_up_due(2.0) # run the projections whose oldest pending event is 2 s old

Projections run *asynchronously* on purpose: a command only appends events; the read
models are caught up later (by `catch_up_due`, which the screen calls on a timer after an
adjustable delay), so eventual consistency is something the class watches happen.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from eventscope.domain.aggregate import Aggregate
from eventscope.domain.diff import DiffEntry, diff
from eventscope.domain.errors import CommandRejected, DomainError
from eventscope.domain.events import DecodedEvent
from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.projection_runner import ProjectionRunner, RunReport
from eventscope.domain.repository import Repository
from eventscope.domain.teaching.command_log import CommandLog
from eventscope.domain.teaching.commands import CommandSpec, command_models
from eventscope.domain.wording import error_sentence, plural, validation_sentence
from eventscope.store.errors import ConcurrencyError
from eventscope.store.records import JSONObject, RecordedEvent
from pydantic import ValidationError

__all__ = ["Outcome", "ReadModelLag", "TeachingSession", "UpcastStep"]

Status = Literal["accepted", "rejected", "invalid", "conflict"]
TEACHER = "trainer:class"
SECOND_USER = "trainer:second-user"


@dataclass
class Outcome:
    """What one submitted command did, step by step."""

    status: Status
    command: str
    stream_id: str
    actor: str
    steps: list[str] = field(default_factory=list)
    reason: str | None = None
    events: list[RecordedEvent] = field(default_factory=list)
    version_before: int = 0
    version_after: int = 0
    changes: list[DiffEntry] = field(default_factory=list)
    snapshot_at: int | None = None
    correlation_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass(frozen=True, slots=True)
class ReadModelLag:
    """One read model's progress: checkpoint against the head."""

    name: str
    checkpoint: int
    head: int
    seconds: float  # since the oldest event it has not applied was appended (0: none)

    @property
    def events(self) -> int:
        return max(0, self.head - self.checkpoint)

    @property
    def caught_up(self) -> bool:
        return self.events == 0


@dataclass(frozen=True, slots=True)
class UpcastStep:
    """One step of turning an old-schema payload into today's shape."""

    label: str  # "stored (schema 1)" or the upcaster's label
    schema_version: int
    data: JSONObject


class TeachingSession:
    """Commands, read models and snapshots on one writable sandbox store."""

    def __init__(
        self,
        store: Any,
        plugin: DomainPlugin,
        *,
        snapshot_every: int | None = 5,
        log: CommandLog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.plugin = plugin
        self.registry = plugin.registry
        self.snapshot_every = snapshot_every
        self.log = log
        self.clock = clock
        self.runner = ProjectionRunner(store, plugin.projections, plugin.registry)
        self._appended_at: dict[int, float] = {}
        self.last: Outcome | None = None
        self.history: list[Outcome] = []

    # --- what can be commanded ----------------------------------------------------------
    def aggregates(self) -> dict[str, type[Aggregate[Any]]]:
        return dict(self.plugin.aggregates)

    def commands(self, stream_type: str) -> dict[str, CommandSpec]:
        aggregate = self.plugin.aggregate_for(stream_type)
        if aggregate is None:
            raise DomainError(f"the domain has no aggregate for stream type {stream_type!r}")
        specs: dict[str, CommandSpec] = command_models(aggregate)
        return specs

    def repository(self, stream_type: str) -> Repository[Any]:
        aggregate = self.plugin.aggregate_for(stream_type)
        if aggregate is None:
            raise DomainError(f"the domain has no aggregate for stream type {stream_type!r}")
        return Repository(
            self.store, aggregate, registry=self.registry, snapshot_every=self.snapshot_every
        )

    # --- commands -----------------------------------------------------------------------
    def submit(
        self,
        stream_type: str,
        stream_id: str,
        command: str,
        fields: JSONObject,
        actor: str = TEACHER,
    ) -> Outcome:
        """Validate, load, run the command, append: each step is in `Outcome.steps`."""
        outcome = Outcome("invalid", command, stream_id, actor)
        spec = self.commands(stream_type).get(command)
        if spec is None:
            outcome.reason = f"{stream_type} has no command {command!r}"
            return self._done(outcome)
        arguments = self._validate(spec, fields, outcome)
        if arguments is None:
            return self._done(outcome)
        instance = self._load(stream_type, stream_id, outcome)
        return self._run(stream_type, instance, spec, arguments, outcome)

    def race(
        self, stream_type: str, stream_id: str, command: str, fields: JSONObject
    ) -> tuple[Outcome, Outcome]:
        """Optimistic concurrency made visible: a second user loads the stream, the class
        submits the command (accepted), then the second user submits the same command from
        the version it loaded -- and gets the store's concurrency error."""
        spec = self.commands(stream_type).get(command)
        second = Outcome("invalid", command, stream_id, SECOND_USER)
        if spec is None:
            second.reason = f"{stream_type} has no command {command!r}"
            return self._done(second), second
        arguments = self._validate(spec, fields, second)
        if arguments is None:
            return self._done(second), second
        stale = self._load(stream_type, stream_id, second)
        second.steps.append(f"second user loaded {stream_id} at v{stale.version}")
        first = self.submit(stream_type, stream_id, command, fields)
        if not first.accepted:
            second.steps.append("the class's command was not accepted: nothing to race")
            second.reason = first.reason
            return first, self._done(second)
        return first, self._run(stream_type, stale, spec, arguments, second)

    def _validate(self, spec: CommandSpec, fields: JSONObject, outcome: Outcome) -> Any:
        # An empty form field means "the command's default" when it has one.
        wanted = {k: v for k, v in fields.items() if not (v == "" and _has_default(spec, k))}
        try:
            arguments = spec.model.model_validate(wanted)
        except ValidationError as exc:
            outcome.reason = validation_sentence(exc, "fields")
            outcome.steps.append(
                f"validating the form against {spec.model.__name__}: {outcome.reason}"
            )
            return None
        outcome.steps.append(f"validating the form against {spec.model.__name__}: ok")
        return arguments

    def _load(self, stream_type: str, stream_id: str, outcome: Outcome) -> Aggregate[Any]:
        repository = self.repository(stream_type)
        if self.store.stream_info(stream_id) is None:
            outcome.steps.append(f"{stream_id} is a new stream (version 0)")
            return repository.aggregate(stream_id)
        instance = repository.load(stream_id)
        outcome.steps.append(f"loading {stream_id}: version {instance.version}")
        return instance

    def _run(
        self,
        stream_type: str,
        instance: Aggregate[Any],
        spec: CommandSpec,
        arguments: Any,
        outcome: Outcome,
    ) -> Outcome:
        repository = self.repository(stream_type)
        before_state = dict(instance.plain_state)
        before = instance.version
        outcome.version_before = outcome.version_after = before
        try:
            getattr(instance, spec.name)(**arguments.model_dump())
        except CommandRejected as refusal:
            outcome.status = "rejected"
            outcome.reason = refusal.reason
            outcome.steps.append(
                f"{type(instance).__name__}.{spec.name}: REJECTED: {refusal.reason}"
            )
            outcome.steps.append("nothing appended")
            return self._done(outcome)
        except (ValidationError, ValueError) as exc:
            outcome.reason = error_sentence(exc)
            outcome.steps.append(
                f"{type(instance).__name__}.{spec.name}: invalid: {outcome.reason}"
            )
            outcome.steps.append("nothing appended")
            return self._done(outcome)
        outcome.steps.append(f"{type(instance).__name__}.{spec.name}: accepted")
        correlation = f"teach-{uuid.uuid4().hex[:12]}"
        outcome.correlation_id = correlation
        try:
            recorded = repository.save(instance, actor=outcome.actor, correlation_id=correlation)
        except ConcurrencyError as exc:
            outcome.status = "conflict"
            outcome.reason = str(exc)
            outcome.steps.append(f"appending with expected version {before}: {exc}")
            outcome.steps.append("nothing appended: reload and try again")
            return self._done(outcome)
        now = self.clock()
        for record in recorded:
            self._appended_at[record.position] = now
        outcome.status = "accepted"
        outcome.events = recorded
        outcome.version_after = instance.version
        outcome.changes = diff(before_state, instance.plain_state)
        for record in recorded:
            outcome.steps.append(
                f"appended {record.event_type} as v{record.version} at position {record.position}"
            )
        outcome.steps.append(f"stream version {before} → {instance.version}")
        snapshot = self.store.snapshot_at(instance.id, instance.version)
        if snapshot is not None and snapshot.version == instance.version and recorded:
            outcome.snapshot_at = snapshot.version
            outcome.steps.append(
                f"snapshot policy (every {plural(self.snapshot_every, 'event')}): snapshot taken at "
                f"v{snapshot.version}"
            )
        return self._done(outcome)

    def transfer(
        self, from_account: str, to_account: str, amount: str, currency: str, reference: str
    ) -> Outcome:
        """The transfer saga across three streams, one correlation id (the transfer id)."""
        from eventscope.domain.demo.saga import TransferSaga

        transfer_id = f"transfer-teach-{uuid.uuid4().hex[:8]}"
        outcome = Outcome("invalid", "transfer (saga)", transfer_id, TEACHER)
        accounts = self.repository("account")
        try:
            source = accounts.load(from_account)
            target = accounts.load(to_account)
        except Exception as exc:
            outcome.reason = error_sentence(exc)
            return self._done(outcome)
        transfer = self.repository("transfer").aggregate(transfer_id)
        versions = {source.id: source.version, target.id: target.version, transfer_id: 0}
        try:
            writes = TransferSaga().run(
                transfer, source, target, amount, currency, reference, TEACHER
            )
        except (CommandRejected, ValueError, ValidationError) as exc:
            outcome.status = "rejected"
            outcome.reason = error_sentence(exc)
            outcome.steps.append(f"transfer request REJECTED: {outcome.reason}")
            return self._done(outcome)
        from eventscope.store.records import NO_STREAM

        recorded: list[RecordedEvent] = []
        for write in writes:
            expected = versions[write.stream_id]
            events = self.store.append(
                write.stream_id,
                [write.event],
                expected_version=expected if expected else NO_STREAM,
                stream_type=write.stream_type,
            )
            versions[write.stream_id] = expected + len(events)
            recorded.extend(events)
        now = self.clock()
        for record in recorded:
            self._appended_at[record.position] = now
            outcome.steps.append(
                f"{record.stream_id} v{record.version}: {record.event_type} (position "
                f"{record.position})"
            )
        outcome.status = "accepted"
        outcome.events = recorded
        outcome.correlation_id = transfer_id
        outcome.version_after = versions[transfer_id]
        outcome.steps.append(f"one correlation id for all of it: {transfer_id}")
        return self._done(outcome)

    def _done(self, outcome: Outcome) -> Outcome:
        self.last = outcome
        self.history.append(outcome)
        if self.log is not None:
            self.log.append(
                {
                    "actor": outcome.actor,
                    "stream_id": outcome.stream_id,
                    "command": outcome.command,
                    "outcome": outcome.status,
                    "reason": outcome.reason,
                    "events": [r.position for r in outcome.events],
                    "source": "sandbox",
                }
            )
        return outcome

    # --- read models --------------------------------------------------------------------
    def read_models(self) -> list[ReadModelLag]:
        """Each projection's checkpoint, the head, and how long its oldest pending event
        has waited (by this session's clock; events from before the session count as 0)."""
        head = self.store.head_position()
        checkpoints = self.store.checkpoints()
        now = self.clock()
        out = []
        for name in sorted(self.runner.projections):
            checkpoint = checkpoints.get(name, 0)
            pending = [t for p, t in self._appended_at.items() if p > checkpoint]
            seconds = now - min(pending) if pending and checkpoint < head else 0.0
            out.append(ReadModelLag(name, checkpoint, head, seconds))
        return out

    def catch_up_due(self, delay: float) -> list[RunReport]:
        """Catch up every projection whose oldest pending event waited `delay` seconds."""
        reports = []
        for lag in self.read_models():
            if lag.events and lag.seconds >= delay:
                reports.append(self.runner.catch_up(lag.name))
        return reports

    # --- upcasting ----------------------------------------------------------------------
    def old_schema_event(self, event_type: str = "MoneyDeposited") -> RecordedEvent | None:
        """The first stored event of `event_type` written in an older schema."""
        from eventscope.store.source import EventFilter

        current = self.registry.current_version(event_type)
        if current is None:
            return None
        for record in self.store.read_all(filter=EventFilter(event_types=[event_type])):
            if record.schema_version < current:
                return record
        return None

    def upcast_steps(self, record: RecordedEvent) -> tuple[list[UpcastStep], DecodedEvent]:
        """The stored payload, then each upcaster's output, up to today's schema."""
        steps = [
            UpcastStep(
                f"stored (schema {record.schema_version})", record.schema_version, record.data
            )
        ]
        data, version = record.data, record.schema_version
        target = self.registry.current_version(record.event_type) or version
        while version < target:
            step = self.registry.upcaster_for(record.event_type, version)
            if step is None:
                break
            data = step.func(dict(data))
            version += 1
            steps.append(UpcastStep(step.label, version, data))
        return steps, self.registry.decode(record)


def _has_default(spec: CommandSpec, name: str) -> bool:
    info = spec.model.model_fields.get(name)
    return info is not None and not info.is_required()
