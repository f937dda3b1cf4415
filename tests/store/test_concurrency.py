"""Concurrent writers and a catch-up reader, on SQLite and PostgreSQL.

What must hold (../shared/research/reliability.md, tests 1-4 and 7): nothing
acknowledged is lost or duplicated, versions stay contiguous, positions strictly increase
in commit order, a reader polling `read_all(from_position=...)` never skips an event, and
exactly one of many racing writers wins a given expected version.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import uuid
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa
from eventscope.store import ANY, ConcurrencyError, NewEvent, StoreError
from sqlalchemy.pool import NullPool

ONLY_SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
ONLY_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)

WRITERS = 4
APPENDS_PER_WRITER = 30
STREAMS = 5


def test_threads_appending_with_retries_lose_and_duplicate_nothing(store_factory) -> None:
    setup = store_factory()
    setup.append("seed-0", [NewEvent("Seeded", {})])
    done = threading.Event()
    errors: list[BaseException] = []
    acknowledged: list[list] = [[] for _ in range(WRITERS)]
    conflicts = [0] * WRITERS
    attempts = [0] * WRITERS
    reader_seen: list = []

    def writer(index: int) -> None:
        store = store_factory()
        rng = random.Random(index)
        try:
            for n in range(APPENDS_PER_WRITER):
                stream = f"s-{rng.randrange(STREAMS)}"
                events = [
                    NewEvent("Appended", {"writer": index, "n": n, "k": k})
                    for k in range(rng.randint(1, 3))
                ]
                while True:
                    info = store.stream_info(stream)
                    expected = info.version if info else 0
                    attempts[index] += 1
                    try:
                        acknowledged[index].extend(store.append(stream, events, expected))
                        break
                    except ConcurrencyError:
                        conflicts[index] += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def reader() -> None:
        store = store_factory(read_only=True)
        position = 0
        try:
            while True:
                finished = done.is_set()  # read once more after the writers finish
                for event in store.read_all(from_position=position):
                    reader_seen.append(event)
                    position = event.position
                if finished:
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    done.set()
    watcher.join(timeout=300)
    assert not errors, errors

    final = list(setup.read_all())
    acked = [event for batch in acknowledged for event in batch]
    assert sum(attempts) == WRITERS * APPENDS_PER_WRITER + sum(conflicts)
    # Zero lost, zero duplicated: every acknowledged event is stored exactly once.
    counts = Counter(event.event_id for event in final)
    assert all(count == 1 for count in counts.values())
    assert {e.event_id for e in acked} | {final[0].event_id} == set(counts)
    assert {e.event_id: e for e in final if e.stream_id != "seed-0"} == {
        e.event_id: e for e in acked
    }
    # Positions contiguous and increasing; versions contiguous per stream.
    assert [e.position for e in final] == list(range(1, len(final) + 1))
    versions: dict[str, list[int]] = defaultdict(list)
    for event in final:
        versions[event.stream_id].append(event.version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    # The catch-up reader saw exactly the final history, in order, nothing skipped.
    assert reader_seen == final
    assert setup.verify().ok


def test_sixteen_writers_racing_on_one_expected_version_exactly_one_wins(store_factory) -> None:
    setup = store_factory()
    setup.append("race-1", [NewEvent("Opened", {})])
    barrier = threading.Barrier(16)
    outcomes: list[str] = []
    lock = threading.Lock()

    def racer(index: int) -> None:
        store = store_factory()
        batch = [NewEvent("Raced", {"racer": index, "k": k}) for k in range(3)]
        barrier.wait(timeout=60)
        try:
            store.append("race-1", batch, expected_version=1)
            result = f"won:{index}"
        except ConcurrencyError:
            result = "conflict"
        except BaseException as exc:
            result = f"error:{exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1 and outcomes.count("conflict") == 15, outcomes
    events = list(setup.read_stream("race-1"))
    assert [e.version for e in events] == [1, 2, 3, 4]
    winner = int(winners[0].split(":")[1])
    assert {e.data["racer"] for e in events[1:]} == {winner}  # no partial batch of others
    assert setup.head_position() == 4 and setup.verify().ok


@ONLY_POSTGRES
def test_postgres_writer_holding_its_transaction_blocks_later_commits(
    store_factory, pg_url
) -> None:
    """Writer A takes a position and is held inside its transaction (by a trigger waiting
    on a gate lock the test holds); writer B must not commit a later position meanwhile,
    and the catch-up reader must deliver A before B."""
    schema = store_factory.open_options["schema"]
    first = store_factory()
    first.append("seed-1", [NewEvent("Seeded", {})])
    gate = (random.randrange(1, 2**31), random.randrange(1, 2**31))
    admin = sa.create_engine(
        pg_url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"}
    )
    with admin.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.event_type = 'Slow' THEN "
            f"PERFORM pg_advisory_xact_lock_shared({gate[0]}, {gate[1]}); END IF; "
            "IF NEW.event_type = 'Poison' THEN RAISE EXCEPTION 'poisoned batch'; END IF; "
            "RETURN NEW; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER gate BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION gate()"
        )
    holder = admin.connect()
    holder.exec_driver_sql(f"SELECT pg_advisory_lock({gate[0]}, {gate[1]})")
    holder.commit()
    results: dict[str, object] = {}
    stop_waiting = threading.Event()

    def append(name: str, event_type: str) -> None:
        store = store_factory()
        try:
            results[name] = store.append(f"s-{name}", [NewEvent(event_type, {"by": name})])
        except BaseException as exc:
            results[name] = exc

    def waiting_locks() -> int:
        with admin.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).scalar()

    def wait_for_waiters(count: int) -> None:
        for _ in range(3000):
            if waiting_locks() >= count:
                return
            stop_waiting.wait(0.01)
        pytest.fail(f"expected {count} blocked writers")

    a = threading.Thread(target=append, args=("a", "Slow"))
    a.start()
    wait_for_waiters(1)  # A holds the store lock and waits at the gate
    b = threading.Thread(target=append, args=("b", "Fast"))
    b.start()
    wait_for_waiters(2)  # B waits for the store lock
    try:
        reader = store_factory(read_only=True)
        assert list(reader.read_all(from_position=1)) == []
        assert reader.head_position() == 1
    finally:
        holder.exec_driver_sql(f"SELECT pg_advisory_unlock({gate[0]}, {gate[1]})")
        holder.close()
        a.join(timeout=60)
        b.join(timeout=60)
    caught_up = list(reader.read_all(from_position=1))
    assert [(e.position, e.data["by"]) for e in caught_up] == [(2, "a"), (3, "b")]
    assert results["a"][0].position == 2 and results["b"][0].position == 3

    # A rolled-back batch burns no position: the next append is contiguous.
    with pytest.raises(StoreError, match="poisoned batch"):
        first.append("s-c", [NewEvent("Fine", {}), NewEvent("Poison", {})])
    assert first.append("s-d", [NewEvent("After", {})])[0].position == 4
    assert first.verify().ok
    admin.dispose()


@ONLY_SQLITE
def test_sqlite_append_waits_for_another_writer_instead_of_failing_busy(store_factory) -> None:
    store = store_factory()
    store.append("s-1", [NewEvent("First", {})])
    other = sqlite3.connect(store_factory.location, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    outcome: dict[str, object] = {}

    def append() -> None:
        try:
            outcome["records"] = store.append("s-1", [NewEvent("Second", {})], 1)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=append)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), outcome  # still waiting on the lock, not failed with BUSY
    other.execute("COMMIT")
    other.close()
    thread.join(timeout=30)
    assert "error" not in outcome, outcome
    assert [e.event_type for e in store.read_stream("s-1")] == ["First", "Second"]


def test_one_store_object_shared_by_threads(store) -> None:
    """The store object itself is safe to share: connections come from a pool."""
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(10):
                store.append(f"t-{index}", [NewEvent("X", {"id": str(uuid.uuid4())})], ANY)
                list(store.read_stream(f"t-{index}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert store.head_position() == 40
    assert all(store.stream_info(f"t-{i}").version == 10 for i in range(4))
    assert store.verify().ok
