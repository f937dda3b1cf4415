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


# --- Eventuous: tables from the published DDL (Eventuous is .NET and cannot run here) ----
def build_eventuous(context: Context) -> Built:
    """The history in Eventuous's tables, written through the DDL's `append_events` one
    message per append (tests/sources/eventuous_tables.py), with an idempotent retry
    leaving a gap in `global_position` and three subscriptions' checkpoints."""
    from eventuous_tables import (
        Message,
        append,
        connect,
        create_tables,
        eventuous_metadata,
        set_checkpoint,
    )

    url, schema = context.pg_schema()
    history = contract_history()
    with connect(url) as conn:
        create_tables(conn, schema)
        for n, item in enumerate(history):
            meta = dict(item.metadata)
            own = {"actor": meta.pop("actor")}
            message = Message(
                item.event_id,
                item.event_type,
                item.data,
                eventuous_metadata(
                    item.event_id, meta["correlation_id"], meta["causation_id"], **own
                ),
            )
            append(conn, schema, item.stream_id, [message], item.recorded_at)
            if n == 20:  # a retry of the same append: nothing inserted, an identity used
                append(conn, schema, item.stream_id, [message], item.recorded_at)
        head = conn.execute(f"SELECT max(global_position) FROM {schema}.messages").fetchone()
        set_checkpoint(conn, schema, "totals", head[0])
        set_checkpoint(conn, schema, "other", 5)
        set_checkpoint(conn, schema, "unstarted", None)
    expected = [
        Expected(e.stream_id, e.stream_id.split("-", 1)[0], e.event_type, e.recorded_at)
        for e in history
    ]
    return Built(
        kind="eventuous-postgresql",
        location=f"{url}{'&' if '?' in url else '?'}schema={schema}",
        expected=expected,
        fingerprint=schema_fingerprint(url, schema),
        checkpoints={"totals": head[0], "other": 5, "unstarted": 0},
        write_sql="DELETE FROM messages",
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


# --- Emmett ---------------------------------------------------------------------------------
def _emmett_expected(history: list[RefEvent]) -> list[Expected]:
    """Emmett derives a stream's type from its name (the text before the first '-')."""
    from eventscope.store.sources.emmett.dialect import stream_type_of

    return [
        Expected(e.stream_id, stream_type_of(e.stream_id), e.event_type, e.recorded_at)
        for e in history
    ]


def _emmett_metadata(item: RefEvent) -> dict[str, Any]:
    """The contract metadata under Emmett's own key names."""
    return {
        "userId": item.metadata["actor"],
        "correlationId": item.metadata["correlation_id"],
        "causationId": item.metadata["causation_id"],
    }


def _emmett_pg_append(
    conn: Any, item: RefEvent, positions: dict[str, int], kind: str = "E"
) -> list[int]:
    """One message through Emmett's `emt_append_to_stream`, with the expected position."""
    result = conn.exec_driver_sql(
        "SELECT success, global_positions FROM emt_append_to_stream("
        "%s::text[], %s::jsonb[], %s::jsonb[], %s::text[], %s::text[], %s::text[], "
        "%s, %s, %s, 'emt:default')",
        (
            [item.event_id],
            [_json(item.data)],
            [_json(_emmett_metadata(item))],
            ["1"],
            [item.event_type],
            [kind],
            item.stream_id,
            item.stream_id.partition("-")[0] if "-" in item.stream_id else "emt:unknown",
            positions.get(item.stream_id, 0),
        ),
    ).one()
    assert result.success, item
    positions[item.stream_id] = positions.get(item.stream_id, 0) + 1
    return list(result.global_positions)


def build_emmett_postgresql(context: Context) -> Built:
    """Emmett's PostgreSQL schema as Emmett 0.42.0 created it (the committed dump, its
    history removed), the contract history appended through Emmett's own
    `emt_append_to_stream` function, one call per event with the expected position, a
    command between some events (left out by eventscope), a processor checkpoint and a
    Pongo row. Node is not available at test time, so Emmett's JavaScript does not run;
    only `created` (now() in Emmett) is then set to the contract's recorded times."""
    from tests.fixtures.foreign.committed import EMMETT_PG_DUMP
    from tests.fixtures.foreign.pg import loaded_dump, settle_transaction_ids

    admin = context.request.getfixturevalue("pg_url")
    loading = loaded_dump(admin, EMMETT_PG_DUMP, prefix="es_emmett_contract")
    url = loading.__enter__()
    context.request.addfinalizer(lambda: loading.__exit__(None, None, None))
    history = contract_history()
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "TRUNCATE emt_messages, emt_streams, emt_processors, shopping_carts_summary, "
            "client_shopping_summary"
        )
    positions: dict[str, int] = {}
    for n, item in enumerate(history):
        with engine.begin() as conn:
            global_positions = _emmett_pg_append(conn, item, positions)
            conn.exec_driver_sql(
                "UPDATE emt_messages SET created = %s WHERE global_position = ANY(%s)",
                (item.recorded_at, global_positions),
            )
        if n % 9 == 0:  # Emmett stores commands in the same table: eventscope leaves them out
            command = RefEvent(
                "contract_commands",
                "",
                "DoSomething",
                {"n": n},
                item.metadata,
                item.occurred_at,
                item.recorded_at,
                str(uuid.uuid4()),
            )
            with engine.begin() as conn:
                _emmett_pg_append(conn, command, positions, kind="C")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO emt_processors (last_processed_transaction_id, processor_id, "
            "last_processed_checkpoint) VALUES (pg_current_xact_id(), 'contract-reader', "
            "'0000000000000000005')"
        )
        conn.exec_driver_sql(
            "INSERT INTO shopping_carts_summary (_id, data, _version) "
            "VALUES ('acct-1', '{\"_version\": \"2\"}', 2)"
        )
    engine.dispose()
    settle_transaction_ids(url)
    return Built(
        kind="emmett-postgresql",
        location=url,
        expected=_emmett_expected(history),
        fingerprint=schema_fingerprint(url, "public"),
        checkpoints={"contract-reader": 5},
        projection_rows={"shopping_carts_summary": ["acct-1"], "client_shopping_summary": []},
        write_sql="DELETE FROM emt_messages",
    )


def _emmett_sqlite_command(conn: Any, n: int, item: RefEvent) -> None:
    conn.execute(
        "INSERT INTO emt_messages (stream_id, stream_position, partition, message_kind, "
        "message_data, message_metadata, message_schema_version, message_type, message_id, "
        "is_archived, created) VALUES ('contract_commands', "
        "(SELECT COUNT(*) + 1 FROM emt_messages WHERE stream_id = 'contract_commands'), "
        "'emt:default', 'C', ?, ?, '0', 'DoSomething', ?, false, ?)",
        (
            _json({"n": n}),
            _json(_emmett_metadata(item)),
            str(uuid.uuid4()),
            item.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
        ),
    )


def build_emmett_sqlite(context: Context) -> Built:
    """Emmett's SQLite schema as emmett-sqlite 0.38.5 created it (a copy of the committed
    file, its history removed), the contract history inserted with the statements
    Emmett's `appendToStream` runs (emt_streams upsert, emt_messages insert, Emmett's own
    metadata keys and its batch-index `streamPosition`),
    commands in a stream of their own, and a subscription checkpoint. Node is not available at test time, so this is
    Emmett's SQL, not Emmett running; `created` gets the contract's recorded times."""
    import shutil
    import sqlite3

    from tests.fixtures.foreign.committed import EMMETT_SQLITE_FILE

    path = context.folder / "emmett.sqlite"
    shutil.copyfile(EMMETT_SQLITE_FILE, path)
    history = contract_history()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM emt_messages")
        conn.execute("DELETE FROM emt_streams")
        conn.execute("DELETE FROM emt_subscriptions")
        positions: dict[str, int] = {}
        for n, item in enumerate(history):
            kinds = ["E"]
            if n % 9 == 0:  # a command, in a stream of its own: eventscope leaves it out
                _emmett_sqlite_command(conn, n, item)
            before = positions.get(item.stream_id, 0)
            after = before + len(kinds)
            if before == 0:
                conn.execute(
                    "INSERT INTO emt_streams (stream_id, stream_position, partition, "
                    "stream_type, stream_metadata, is_archived) VALUES (?, ?, ?, ?, '[]', false)",
                    (item.stream_id, after, "[object Object]", item.stream_type),
                )
            else:
                conn.execute(
                    "UPDATE emt_streams SET stream_position = ? WHERE stream_id = ?",
                    (after, item.stream_id),
                )
            for index, kind in enumerate(kinds):
                message_id = item.event_id if index == 0 else str(uuid.uuid4())
                metadata = {
                    "streamName": item.stream_id,
                    "messageId": message_id,
                    "streamPosition": str(index + 1),
                    **_emmett_metadata(item),
                }
                conn.execute(
                    "INSERT INTO emt_messages (stream_id, stream_position, partition, "
                    "message_kind, message_data, message_metadata, message_schema_version, "
                    "message_type, message_id, is_archived, created) "
                    "VALUES (?, ?, 'emt:default', ?, ?, ?, ?, ?, ?, false, ?)",
                    (
                        item.stream_id,
                        before + index + 1,
                        kind,
                        _json(item.data),
                        _json(metadata),
                        str(before),
                        item.event_type if kind == "E" else "DoSomething",
                        message_id,
                        item.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    ),
                )
            positions[item.stream_id] = after
        conn.execute(
            "INSERT INTO emt_subscriptions (subscription_id, version, partition, "
            "last_processed_position) VALUES ('contract-reader', 1, 'emt:default', 5)"
        )
    conn.close()
    return Built(
        kind="emmett-sqlite",
        location=str(path),
        expected=_emmett_expected(history),
        fingerprint=file_fingerprint(path),
        checkpoints={"contract-reader": 5},
        write_sql="DELETE FROM emt_messages",
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- Axon Framework -----------------------------------------------------------------------
AXON_SNAPSHOT_STREAMS = ("acct-1", "order-1")
AXON_PROCESSOR = "com.example.ContractProjection"


def build_axon(context: Context) -> Built:
    """The contract history in Axon 4's JPA tables (tests/fixtures/foreign/axon/ddl.py,
    bytea columns, XStream XML) as Axon would store it: 0-based sequence numbers, the
    aggregate's name in `type`, the event class name in `payload_type`, ISO text times,
    `traceId`/`correlationId`/`userName` metadata, global indexes with gaps, the latest
    snapshot of two aggregates and a tracking token. Written by hand: Axon (a JVM
    framework) cannot run here."""
    from tests.fixtures.foreign.axon.ddl import jpa_ddl
    from tests.fixtures.foreign.axon.xstream_xml import encode_document, metadata_xml

    url, schema = context.pg_schema()
    history = contract_history()
    engine = sa.create_engine(url, poolclass=NullPool)
    sequences: dict[str, int] = {}
    positions: list[int] = []
    rows = []
    for n, item in enumerate(history):
        sequence = sequences.get(item.stream_id, -1) + 1
        sequences[item.stream_id] = sequence
        position = 3 * n + 2 + (n // 10) * 7  # gaps: rolled back and unused ids
        positions.append(position)
        payload = encode_document(f"com.example.contract.{item.event_type}", item.data)
        metadata = {
            "traceId": item.metadata["correlation_id"],
            "correlationId": item.metadata["causation_id"],
            "userName": item.metadata["actor"],
        }
        rows.append(
            (
                position,
                item.event_id,
                metadata_xml(metadata).encode(),
                payload.encode(),
                None,
                f"com.example.contract.{item.event_type}",
                item.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                item.stream_id,
                sequence,
                item.stream_type,
            )
        )
    # Axon keeps only the latest snapshot: one each, taken after the next-to-last event.
    taken = {stream: max(sequences[stream] - 1, 0) for stream in AXON_SNAPSHOT_STREAMS}
    snapshots = {stream: [sequence + 1] for stream, sequence in taken.items()}
    with engine.begin() as conn:
        conn.exec_driver_sql(jpa_ddl(schema, lob="bytea", hibernate=5))
        conn.exec_driver_sql(
            f"INSERT INTO {schema}.domain_event_entry (global_index, event_identifier, "
            "meta_data, payload, payload_revision, payload_type, time_stamp, "
            "aggregate_identifier, sequence_number, type) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        for stream in AXON_SNAPSHOT_STREAMS:
            conn.exec_driver_sql(
                f"INSERT INTO {schema}.snapshot_event_entry (aggregate_identifier, "
                "sequence_number, type, event_identifier, meta_data, payload, "
                "payload_revision, payload_type, time_stamp) "
                "VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s)",
                (
                    stream,
                    taken[stream],
                    "account" if stream.startswith("acct") else "order",
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"contract/snapshot/{stream}")),
                    b"<meta-data/>",
                    encode_document("com.example.contract.State", {"stream": stream}).encode(),
                    "com.example.contract.State",
                    T0.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                ),
            )
        token = f'{{"index":{positions[-3]},"gaps":[{positions[-4] + 1}]}}'
        conn.exec_driver_sql(
            f"INSERT INTO {schema}.token_entry (processor_name, segment, owner, timestamp, "
            "token, token_type) VALUES (%s, 0, NULL, %s, %s, %s), "
            "('__config', 0, NULL, %s, %s, 'org.axonframework.eventhandling.tokenstore.ConfigToken')",
            (
                AXON_PROCESSOR,
                T0.isoformat(),
                token.encode(),
                "org.axonframework.eventhandling.GapAwareTrackingToken",
                T0.isoformat(),
                b'{"config":{"id":"contract"}}',
            ),
        )
    engine.dispose()
    return Built(
        kind="axon-postgresql",
        location=f"{url}{'&' if '?' in url else '?'}schema={schema}",
        expected=_as_expected(history),
        fingerprint=schema_fingerprint(url, schema),
        snapshots=snapshots,
        checkpoints={AXON_PROCESSOR: positions[-3]},
        write_sql="DELETE FROM domain_event_entry",
    )


# --- Marten: tables from the published DDL (Marten is .NET and cannot run here) ----------
def build_marten(context: Context, *, tenants: bool = False) -> Built:
    """The history in Marten's tables (tests/sources/marten_tables.py), with unsettled
    events above the high-water mark that the source must not show."""
    from marten_tables import connect, write_contract

    url, schema = context.pg_schema()
    history = contract_history()
    with connect(url) as conn:
        written = write_contract(conn, schema, history, tenants=tenants)
    expected = [
        Expected(written.stream_ids[e.stream_id], e.stream_type, e.event_type, e.recorded_at)
        for e in history
    ]
    return Built(
        kind="marten-postgresql",
        location=f"{url}{'&' if '?' in url else '?'}schema={schema}",
        expected=expected,
        fingerprint=schema_fingerprint(url, schema),
        snapshots=written.snapshots,
        checkpoints=written.checkpoints,
        write_sql="DELETE FROM mt_events",
    )


# --- the registry the suite is parametrised over ------------------------------------------
POSTGRES = pytest.mark.postgres

BUILDERS: dict[str, tuple[Callable[[Context], Built], tuple[Any, ...]]] = {
    "native-sqlite": (build_native_sqlite, ()),
    "native-postgresql": (build_native_postgres, (POSTGRES,)),
    "jsonl": (build_jsonl, ()),
    "eventuous": (build_eventuous, (POSTGRES,)),
    "eventsourcing-sqlite": (build_eventsourcing_sqlite, ()),
    "eventsourcing-postgresql": (build_eventsourcing_postgres, (POSTGRES,)),
    "marten": (build_marten, (POSTGRES,)),
    "marten-uuid-tenants": (lambda c: build_marten(c, tenants=True), (POSTGRES,)),
    "axon-postgresql": (build_axon, (POSTGRES,)),
    "emmett-postgresql": (build_emmett_postgresql, (POSTGRES,)),
    "emmett-sqlite": (build_emmett_sqlite, ()),
    "messagedb": (build_messagedb, (POSTGRES,)),
}


def builder_params() -> list[Any]:
    """One pytest param per builder, with its marks, ids the source kinds."""
    return [pytest.param(name, marks=marks, id=name) for name, (_b, marks) in BUILDERS.items()]


def build(name: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[Built]:
    """Run one builder (its finalizers drop what it made on the server)."""
    builder, _marks = BUILDERS[name]
    yield builder(Context(folder, request))
