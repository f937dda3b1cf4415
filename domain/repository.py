"""The command side's repository: load an aggregate (latest, at a version, at a time) and
save its new events with optimistic concurrency and a snapshot policy.

    repo = Repository(store, Account, registry=DEMO_REGISTRY, snapshot_every=100)
    account = repo.load("acct-1")                       # latest
    account.deposit(1250, "EUR")
    repo.save(account, actor="ann", correlation_id="req-7")   # expected version checked
    old = repo.load("acct-1", version=3)                # or at=datetime, axis="occurred"

`axis="occurred"` is business time, as everywhere (README "What a state means"): the
events that had occurred by `at`, applied in occurred order, ties by version. Such an
instance is a view of the past, not a position in the stream: `save` and `snapshot`
refuse it (a command must run on the latest state).

Snapshots are an optimisation, never the truth: one is used only when it was written by
the same aggregate class, state schema version and code version; otherwise the
repository replays from the first event. Loading for a command refuses a stream with an
event it cannot apply (a command must not run on a state known to be incomplete); the
explorer, which must show such streams, uses the temporal engine instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from eventscope.domain.aggregate import Aggregate
from eventscope.domain.errors import DomainError, VersionOutOfRange
from eventscope.domain.events import EventRegistry
from eventscope.store.errors import StreamNotFound
from eventscope.store.records import NO_STREAM, NewEvent, RecordedEvent, Snapshot
from eventscope.store.source import EventSource

A = TypeVar("A", bound=Aggregate[Any])


class WritableStore(EventSource, Protocol):
    """What saving needs (the native `EventStore` has it)."""

    def append(
        self,
        stream_id: str,
        events: list[NewEvent],
        expected_version: Any = ...,
        stream_type: str | None = None,
    ) -> list[RecordedEvent]: ...

    def save_snapshot(
        self,
        stream_id: str,
        version: int,
        state: dict[str, Any],
        aggregate_type: str,
        schema_version: int = 1,
        code_version: str = "",
    ) -> Snapshot: ...


class Repository(Generic[A]):
    """Loads and saves one aggregate class."""

    def __init__(
        self,
        store: WritableStore | EventSource,
        aggregate: type[A],
        registry: EventRegistry | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError("snapshot_every must be a positive number of events")
        self.store = store
        self.aggregate = aggregate
        self.registry = registry or EventRegistry()
        self.snapshot_every = snapshot_every

    # --- loading ------------------------------------------------------------------------
    def load(
        self,
        stream_id: str,
        version: int | None = None,
        at: datetime | None = None,
        axis: Literal["recorded", "occurred"] = "recorded",
        use_snapshots: bool = True,
    ) -> A:
        """The aggregate after `version` events, or as of time `at`, or at its latest."""
        info = self.store.stream_info(stream_id)
        if info is None:
            raise StreamNotFound(stream_id)
        if version is not None and at is not None:
            raise ValueError("give a version or a time, not both")
        if at is not None and axis == "occurred":
            return self._load_as_of_business_time(stream_id, at)
        if at is not None:
            version = self._version_at(stream_id, at, axis)
        if version is None:
            version = info.version
        if not 0 <= version <= info.version:
            raise VersionOutOfRange(
                f"version {version} is out of range for stream {stream_id!r} "
                f"(it has versions 0 to {info.version})"
            )
        instance = self.aggregate(stream_id)
        snapshot = self._usable_snapshot(stream_id, version) if use_snapshots else None
        if snapshot is not None:
            instance = self.aggregate.from_state(stream_id, snapshot.state, snapshot.version)
        if version > instance.version:
            for record in self.store.read_stream(stream_id, instance.version + 1, version):
                self._apply(instance, record)
        return instance

    def _load_as_of_business_time(self, stream_id: str, at: datetime) -> A:
        """The aggregate as of business time `at`: the events that had occurred by then,
        applied in occurred order, ties by version; `version` is the highest applied."""
        chosen = [r for r in self.store.read_stream(stream_id) if r.occurred_at <= at]
        chosen.sort(key=lambda r: (r.occurred_at, r.version))
        instance = self.aggregate(stream_id)
        for record in chosen:
            self._apply(instance, record)
        instance.version = max((r.version for r in chosen), default=0)
        instance._business_time = True  # type: ignore[attr-defined]
        return instance

    def _refuse_business_view(self, instance: A, what: str) -> None:
        if getattr(instance, "_business_time", False):
            raise DomainError(
                f"cannot {what} {instance.id!r}: it was loaded as of business time (a view "
                "of the past, with later-occurred events left out); load the latest version"
            )

    def _apply(self, instance: Aggregate[Any], record: RecordedEvent) -> None:
        decoded = self.registry.decode(record)
        problem = decoded.error
        if problem is None and not instance.handles(record.event_type):
            problem = f"{type(instance).__name__} has no handler for {record.event_type}"
        if problem is None:
            try:
                instance.apply(record.event_type, decoded.data or {})
                return
            except Exception as exc:
                problem = f"applying it failed: {type(exc).__name__}: {exc}"
        raise DomainError(
            f"cannot load {record.stream_id!r}: event {record.version} ({record.event_type}) "
            f"cannot be applied: {problem}"
        )

    def _usable_snapshot(self, stream_id: str, version: int) -> Snapshot | None:
        snapshot = self.store.snapshot_at(stream_id, version)
        if snapshot is None:
            return None
        cls = self.aggregate
        if (
            snapshot.aggregate_type != cls.__name__
            or snapshot.schema_version != cls.state_schema_version
            or snapshot.code_version != cls.code_version
        ):
            return None
        return snapshot

    def _version_at(self, stream_id: str, at: datetime, axis: str) -> int:
        """Last version recorded at or before `at` (0 if none): the recorded axis."""
        best = 0
        for record in self.store.read_stream(stream_id):
            moment = record.recorded_at if axis == "recorded" else record.occurred_at
            if moment <= at:
                best = record.version
            elif axis == "recorded":
                break  # recorded_at never decreases along a stream
        return best

    # --- saving -------------------------------------------------------------------------
    def save(
        self,
        instance: A,
        actor: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        extra_metadata: dict[str, Any] | None = None,
    ) -> list[RecordedEvent]:
        """Append the instance's pending events, expecting the stream at the version it
        was loaded at (ConcurrencyError otherwise, nothing written); snapshot when the
        policy says so."""
        self._refuse_business_view(instance, "save")
        events = instance.pending_events(actor, correlation_id, causation_id, extra_metadata)
        if not events:
            return []
        loaded = instance.saved_version
        expected: Any = loaded if loaded else NO_STREAM
        store: Any = self.store
        recorded = store.append(
            instance.id, events, expected_version=expected, stream_type=self.aggregate.stream_type
        )
        instance.mark_saved()
        every = self.snapshot_every
        if every and loaded // every != instance.version // every:
            self.snapshot(instance)
        return recorded

    def snapshot(self, instance: A) -> Snapshot:
        """Store the instance's state as a snapshot at its version."""
        self._refuse_business_view(instance, "snapshot")
        store: Any = self.store
        cls = self.aggregate
        return store.save_snapshot(
            instance.id,
            instance.version,
            instance.plain_state,
            cls.__name__,
            cls.state_schema_version,
            cls.code_version,
        )
