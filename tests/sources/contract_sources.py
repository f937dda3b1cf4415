"""The histories of the read contract suite (`test_read_contract.py`), one builder per
source kind, all in this one place.

Every builder writes the same logical history (`contract_history`: streams of four
types, hostile stream ids where the software allows them, actors and correlation ids,
and recorded times chosen to fall exactly on event-rate slice boundaries at several
bucket counts) with the real software of its kind -- eventscope's own appends, a JSON
Lines file as another program writes it, the `eventsourcing` library's application --
and returns a `Built`: where a user would point eventscope, and what the source must
then show. The suite compares each source's answers with that and with a plain Python
model of its own events.

A new source kind joins the suite with one builder here (a function
``build_<kind>(context) -> Built``) and one line in `BUILDERS`; mark PostgreSQL ones
with `POSTGRES`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sources_helpers import (
    RefEvent,
    build_native,
    es_postgres_env,
    es_sqlite_env,
    require_es_postgres,
    write_jsonl_by_hand,
)
from sqlalchemy.pool import NullPool

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# The history spans a day and 24 µs: most slice boundaries fall between whole
# microseconds (a float slice width rounds them), and at 60 buckets the boundaries of
# slices 15, 30 and 55 fall exactly on microseconds that a float division
# ((t - lo) / (span / 60)) puts one slice too early.
SPAN_MICROS = 86_400_000_024
# Bucket counts whose slice boundaries (and the microsecond before each) carry events,
# with the step between the boundaries chosen.
BOUNDARY_COUNTS = (7, 12, 60, 97)
_BOUNDARY_STEPS = {7: 1, 12: 1, 60: 5, 97: 16}

STREAMS = (
    ("acct-1", "account"),
    ("acct-2", "account"),
    ("acct-10", "account"),
    ("order-1", "order"),
    ("order-2", "order"),
    ("cust-ü", "customer"),
    ("a%_x", "odd"),
    ("a_b", "odd"),
    ("😀x", "odd"),
)
# Per stream type: the event that creates a stream, then the others in turn.
EVENT_TYPES = {
    "account": ("Opened", "Deposited", "Withdrawn"),
    "order": ("Placed", "LineAdded", "Shipped"),
    "customer": ("Registered", "Renamed"),
    "odd": ("Noted", "Amended"),
}


def slice_start(i: int, buckets: int, span: int = SPAN_MICROS) -> int:
    """Microseconds from the first event to the start of slice i (ceil(i*span/buckets))."""
    return -(-i * span // buckets)


def contract_offsets() -> list[int]:
    """Recorded times as microseconds after T0, in order: both ends of the span, events
    exactly on slice boundaries and one microsecond before them, some spread between,
    and two events sharing one time (a batch)."""
    offsets = {0, SPAN_MICROS}
    for buckets in BOUNDARY_COUNTS:
        for i in range(_BOUNDARY_STEPS[buckets], buckets, _BOUNDARY_STEPS[buckets]):
            start = slice_start(i, buckets)
            offsets.update((start, start - 1))
    offsets.update(k * 2_879_999_917 % SPAN_MICROS for k in range(1, 30))
    ordered = sorted(offsets)
    ordered.insert(10, ordered[10])
    return ordered


def contract_history() -> list[RefEvent]:
    """The logical history every builder writes, in position order."""
    events = []
    seen: dict[str, int] = {}
    for n, offset in enumerate(contract_offsets()):
        stream_id, stream_type = STREAMS[(n * 5 + n // 7) % len(STREAMS)]
        names = EVENT_TYPES[stream_type]
        count = seen.get(stream_id, 0)
        seen[stream_id] = count + 1
        event_type = names[0] if count == 0 else names[1 + (count - 1) % (len(names) - 1)]
        recorded = T0 + timedelta(microseconds=offset)
        events.append(
            RefEvent(
                stream_id=stream_id,
                stream_type=stream_type,
                event_type=event_type,
                data={"n": n, "amount": (n * 13) % 500, "note": None if n % 4 else "x"},
                metadata={
                    "actor": ["ann", "bob", "a%"][n % 3],
                    "correlation_id": f"c-{n // 4}",
                    "causation_id": f"c-{n // 4}-{n}",
                },
                occurred_at=recorded - timedelta(seconds=n % 5),
                recorded_at=recorded,
                event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"contract/{n}")),
            )
        )
    return events


@dataclass(frozen=True)
class Expected:
    """One event as the source must show it (position order is the list's order)."""

    stream_id: str
    stream_type: str
    event_type: str
    recorded_at: datetime


@dataclass
class Built:
    """A history written by its own software, and what eventscope must show of it."""

    kind: str  # describe().kind
    location: str  # what a user types
    expected: list[Expected]
    fingerprint: Callable[[], str]  # everything the source holds, for "unchanged"
    has_hash_chain: bool = False
    snapshots: dict[str, list[int]] = field(default_factory=dict)  # stream -> versions
    checkpoints: dict[str, int] = field(default_factory=dict)
    projection_rows: dict[str, list[str]] = field(default_factory=dict)  # name -> keys
    write_sql: str | None = None  # a write that the source's own connection must refuse


@dataclass
class Context:
    """What a builder gets: a folder of its own, and the PostgreSQL server when marked."""

    folder: Path
    request: pytest.FixtureRequest

    def pg_schema(self) -> tuple[str, str]:
        """(server URL, a fresh schema dropped when the module's tests are done)."""
        url = self.request.getfixturevalue("pg_url")
        name = f"c_{uuid.uuid4().hex[:20]}"
        engine = sa.create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')

        def drop() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            engine.dispose()

        self.request.addfinalizer(drop)
        return url, name


def _as_expected(events: list[RefEvent]) -> list[Expected]:
    return [Expected(e.stream_id, e.stream_type, e.event_type, e.recorded_at) for e in events]


def file_fingerprint(path: Path) -> Callable[[], str]:
    """The file's bytes and those of any SQLite side file beside it."""

    def fingerprint() -> str:
        digest = hashlib.sha256()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            if candidate.exists():
                digest.update(candidate.name.encode() + b"\0" + candidate.read_bytes())
        return digest.hexdigest()

    return fingerprint


def schema_fingerprint(url: str, schema: str) -> Callable[[], str]:
    """Every row of every table in a PostgreSQL schema, in a stable order."""

    def fingerprint() -> str:
        engine = sa.create_engine(url, poolclass=NullPool)
        digest = hashlib.sha256()
        try:
            with engine.connect() as conn:
                tables = conn.exec_driver_sql(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = %s ORDER BY table_name",
                    (schema,),
                ).scalars()
                for table in list(tables):
                    rows = conn.exec_driver_sql(
                        f"SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) "
                        f'FROM "{schema}"."{table}" t'
                    ).scalar()
                    digest.update(f"{table}:{rows}\n".encode())
        finally:
            engine.dispose()
        return digest.hexdigest()

    return fingerprint


# --- native ------------------------------------------------------------------------------
NATIVE_SNAPSHOTS = {"acct-1": [1, 3], "order-2": [2]}


def _native_claims(store: Any) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Snapshots, checkpoints and projection rows, stored as a projection runner would."""
    for stream_id, versions in NATIVE_SNAPSHOTS.items():
        for version in versions:
            store.save_snapshot(stream_id, version, {"v": version}, "Counter")
    head = store.head_position()
    store.put_projection_rows(
        "totals", [("a", {"t": 1}, 1), ("b", {"t": 2}, 2), ("c", {"t": 3}, 3)], checkpoint=head
    )
    store.save_checkpoint("other", 5)
    return {"totals": head, "other": 5}, {"totals": ["a", "b", "c"]}


def build_native_sqlite(context: Context) -> Built:
    path = context.folder / "native.db"
    history = contract_history()
    store = build_native(path, history)
    checkpoints, rows = _native_claims(store)
    store.close()
    return Built(
        kind="native-sqlite",
        location=str(path),
        expected=_as_expected(history),
        fingerprint=file_fingerprint(path),
        has_hash_chain=True,
        snapshots=NATIVE_SNAPSHOTS,
        checkpoints=checkpoints,
        projection_rows=rows,
        write_sql="DELETE FROM events",
    )


def build_native_postgres(context: Context) -> Built:
    url, schema = context.pg_schema()
    history = contract_history()
    store = build_native(url, history, schema=schema)
    checkpoints, rows = _native_claims(store)
    store.close()
    return Built(
        kind="native-postgresql",
        location=f"{url}{'&' if '?' in url else '?'}schema={schema}",
        expected=_as_expected(history),
        fingerprint=schema_fingerprint(url, schema),
        has_hash_chain=True,
        snapshots=NATIVE_SNAPSHOTS,
        checkpoints=checkpoints,
        projection_rows=rows,
        write_sql="DELETE FROM events",
    )


# --- JSON Lines ---------------------------------------------------------------------------
def build_jsonl(context: Context) -> Built:
    path = context.folder / "history.log"  # detected by content, not by its name
    history = contract_history()
    write_jsonl_by_hand(path, history)
    return Built(
        kind="jsonl",
        location=str(path),
        expected=_as_expected(history),
        fingerprint=file_fingerprint(path),
    )


# --- the eventsourcing library ------------------------------------------------------------
_CLOCK: list[datetime] = []  # the recorded times the next events get, in order


class Ledger(Aggregate):
    """Aggregates whose events take their timestamps from `_CLOCK`, so the library itself
    records the contract history's exact times."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return _CLOCK.pop(0)


class Account(Ledger):
    @event("Opened")
    def __init__(self, n: int, amount: int) -> None:
        self.amount = amount

    @event("Deposited")
    def deposited(self, n: int, amount: int) -> None:
        self.amount += amount

    @event("Withdrawn")
    def withdrawn(self, n: int, amount: int) -> None:
        self.amount -= amount


class Order(Ledger):
    @event("Placed")
    def __init__(self, n: int, amount: int) -> None:
        self.lines = [amount]

    @event("LineAdded")
    def line_added(self, n: int, amount: int) -> None:
        self.lines.append(amount)

    @event("Shipped")
    def shipped(self, n: int, amount: int) -> None:
        self.shipped_at = n


class Customer(Ledger):
    @event("Registered")
    def __init__(self, n: int, amount: int) -> None:
        self.name = f"customer {n}"

    @event("Renamed")
    def renamed(self, n: int, amount: int) -> None:
        self.name = f"customer {n}"


class Odd(Ledger):
    @event("Noted")
    def __init__(self, n: int, amount: int) -> None:
        self.notes = [n]

    @event("Amended")
    def amended(self, n: int, amount: int) -> None:
        self.notes.append(n)


_CLASSES = {"account": Account, "order": Order, "customer": Customer, "odd": Odd}
_METHODS = {
    "Deposited": "deposited",
    "Withdrawn": "withdrawn",
    "LineAdded": "line_added",
    "Shipped": "shipped",
    "Renamed": "renamed",
    "Amended": "amended",
}


class ContractApp(Application):
    name = "Contract"


def _write_with_the_library(env: dict[str, str]) -> tuple[list[Expected], dict[str, list[int]]]:
    """The contract history through the library: one save per event (so the library's
    notification order is the history's order), then two library snapshots."""
    history = contract_history()
    _CLOCK[:] = [item.recorded_at for item in history]
    app = ContractApp(env={**env, "IS_SNAPSHOTTING_ENABLED": "y"})
    aggregates: dict[str, Ledger] = {}
    expected = []
    try:
        for item in history:
            args = {"n": item.data["n"], "amount": item.data["amount"]}
            aggregate = aggregates.get(item.stream_id)
            if aggregate is None:
                aggregate = aggregates[item.stream_id] = _CLASSES[item.stream_type](**args)
            else:
                getattr(aggregate, _METHODS[item.event_type])(**args)
            app.save(aggregate)
            expected.append(
                Expected(
                    str(aggregate.id), type(aggregate).__name__, item.event_type, item.recorded_at
                )
            )
        snapshots: dict[str, list[int]] = {}
        for stream_id, versions in (("acct-1", [2, 4]), ("order-1", [1])):
            for version in versions:
                app.take_snapshot(aggregates[stream_id].id, version=version)
            snapshots[str(aggregates[stream_id].id)] = versions
    finally:
        app.close()
    assert not _CLOCK, "every recorded time was used by exactly one event"
    return expected, snapshots


def build_eventsourcing_sqlite(context: Context) -> Built:
    path = context.folder / "contract.sqlite"
    expected, snapshots = _write_with_the_library(es_sqlite_env(path))
    return Built(
        kind="eventsourcing-sqlite",
        location=str(path),
        expected=expected,
        fingerprint=file_fingerprint(path),
        snapshots=snapshots,
        write_sql="DELETE FROM stored_events",
    )


def build_eventsourcing_postgres(context: Context) -> Built:
    require_es_postgres()
    url, schema = context.pg_schema()
    expected, snapshots = _write_with_the_library(es_postgres_env(url, schema))
    return Built(
        kind="eventsourcing-postgresql",
        location=f"{url}{'&' if '?' in url else '?'}schema={schema}",
        expected=expected,
        fingerprint=schema_fingerprint(url, schema),
        snapshots=snapshots,
        write_sql="DELETE FROM contract_events",
    )


# --- Message DB ----------------------------------------------------------------------------
def build_messagedb(context: Context) -> Built:
    """Written by Message DB's own `write_message` (see messagedb_helpers); Eventide keys
    carry correlation and actor. Any text is a stream name, so the hostile ids stay; the
    stream type is the category, the text before the first '-'."""
    from messagedb_helpers import Message, empty_message_db, write_messages

    url = empty_message_db(context.request.getfixturevalue("pg_url"), context.request.addfinalizer)
    history = contract_history()
    write_messages(
        url,
        (
            Message(
                stream_name=item.stream_id,
                type=item.event_type,
                data=item.data,
                metadata={
                    "correlationStreamName": item.metadata["correlation_id"],
                    "properties": {"userId": item.metadata["actor"]},
                },
                id=item.event_id,
                time=item.recorded_at,
            )
            for item in history
        ),
    )
    return Built(
        kind="messagedb",
        location=f"{url}?actor=properties.userId",
        expected=[
            Expected(e.stream_id, e.stream_id.split("-", 1)[0], e.event_type, e.recorded_at)
            for e in history
        ],
        fingerprint=schema_fingerprint(url, "message_store"),
        write_sql="DELETE FROM message_store.messages",
    )


# --- the registry the suite is parametrised over ------------------------------------------
POSTGRES = pytest.mark.postgres

BUILDERS: dict[str, tuple[Callable[[Context], Built], tuple[Any, ...]]] = {
    "native-sqlite": (build_native_sqlite, ()),
    "native-postgresql": (build_native_postgres, (POSTGRES,)),
    "jsonl": (build_jsonl, ()),
    "eventsourcing-sqlite": (build_eventsourcing_sqlite, ()),
    "eventsourcing-postgresql": (build_eventsourcing_postgres, (POSTGRES,)),
    "messagedb": (build_messagedb, (POSTGRES,)),
}


def builder_params() -> list[Any]:
    """One pytest param per builder, with its marks, ids the source kinds."""
    return [pytest.param(name, marks=marks, id=name) for name, (_b, marks) in BUILDERS.items()]


def build(name: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[Built]:
    """Run one builder (its finalizers drop what it made on the server)."""
    builder, _marks = BUILDERS[name]
    yield builder(Context(folder, request))
