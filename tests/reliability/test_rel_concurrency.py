"""Concurrency (reliability.md tests 1, 3, 4): writers in threads *and* in processes append
with expected versions and retry on conflict while a catch-up reader polls; PostgreSQL
out-of-order commit against a checkpointing subscriber; a rolled-back batch that must
neither stall a reader nor be skipped wrongly.

Pass criteria, all checked against the final `ORDER BY position`:
* zero acknowledged events lost, zero duplicated; successes + conflicts = attempts;
* positions 1..N contiguous, versions 1..n contiguous per stream, catalog agrees;
* the reader's sequence is exactly the final order (nothing skipped, nothing twice);
* the chain verifies.

Repetitions: EVENTSCOPE_CONCURRENCY_APPENDS (appends per writer, default 150).
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from eventscope.store import NO_STREAM, ConcurrencyError, EventStore, NewEvent, StoreError
from reliability_support import figure, pg_engine, repetitions

APPENDS = repetitions("CONCURRENCY_APPENDS", 150)
THREADS = 8
PROCESSES = 4
STREAMS = 50


@dataclass
class WriterTally:
    """What one writer saw: every acknowledged event, attempts and conflicts."""

    acked: list[tuple[str, str, int, int]] = field(default_factory=list)  # id, stream, v, pos
    attempts: int = 0
    conflicts: int = 0
    error: str | None = None


def _write(store: EventStore, index: int, appends: int) -> WriterTally:
    """Append `appends` batches of 1-3 events to random streams, each with the version
    just read as the expected version, retrying on ConcurrencyError."""
    tally = WriterTally()
    rng = random.Random(index)
    for n in range(appends):
        stream = f"c-{rng.randrange(STREAMS)}"
        events = [
            NewEvent("Appended", {"writer": index, "n": n, "k": k}, {"actor": f"w{index}"})
            for k in range(rng.randint(1, 3))
        ]
        while True:
            info = store.stream_info(stream)
            tally.attempts += 1
            try:
                records = store.append(
                    stream, events, expected_version=info.version if info else NO_STREAM
                )
            except ConcurrencyError:
                tally.conflicts += 1
                continue
            tally.acked.extend((r.event_id, r.stream_id, r.version, r.position) for r in records)
            break
    return tally


Writers = Callable[[], list[WriterTally]]


def _thread_writers(opener: Callable[[], EventStore], count: int) -> Writers:
    """Returns `run()`: start the writer threads, wait for them, return their tallies."""
    tallies = [WriterTally() for _ in range(count)]

    def work(index: int) -> None:
        store = opener()
        try:
            tallies[index] = _write(store, index, APPENDS)
        except BaseException as exc:  # reported by the test
            tallies[index].error = repr(exc)
        finally:
            store.close()

    def run() -> list[WriterTally]:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        return tallies

    return run


def _process_writers(opener: Callable[[], EventStore], count: int) -> Writers:
    """Fork the writers *now*, while this process has no other thread (a fork taken while
    another thread holds a lock deadlocks the child), parked on a "go" pipe; `run()` lets
    them go and collects what each reports through its own pipe."""
    go_read, go_write = os.pipe()
    children: list[tuple[int, int]] = []
    for index in range(count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns into pytest
            os.close(read_end)
            os.close(go_write)
            status = 0
            try:
                os.read(go_read, 1)
                store = opener()
                tally = _write(store, 100 + index, APPENDS)
                store.close()
                payload = json.dumps(tally.__dict__).encode()
            except BaseException as exc:
                payload = json.dumps({"error": repr(exc)}).encode()
                status = 1
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))
    os.close(go_read)

    def run() -> list[WriterTally]:
        os.write(go_write, b"g" * count)
        os.close(go_write)
        tallies = []
        for pid, read_end in children:
            # Bounded: a child that hangs (e.g. forked while some other thread held a
            # lock) fails the test instead of hanging CI.
            if not select.select([read_end], [], [], 600)[0]:
                os.kill(pid, signal.SIGKILL)
            with os.fdopen(read_end, "rb") as stream:
                payload = json.loads(stream.read() or b'{"error": "writer process hung"}')
            os.waitpid(pid, 0)
            tally = WriterTally(error=payload.get("error"))
            if tally.error is None:
                tally.acked = [tuple(row) for row in payload["acked"]]  # type: ignore[misc]
                tally.attempts, tally.conflicts = payload["attempts"], payload["conflicts"]
            tallies.append(tally)
        return tallies

    return run


def _catch_up_reader(opener: Callable[[], EventStore], done: threading.Event, seen: list) -> None:
    """Poll `read_all(from_position=last)`; one last poll after the writers finish."""
    store = opener()
    position = 0
    try:
        while True:
            finished = done.is_set()
            for event in store.read_all(from_position=position):
                seen.append((event.position, event.event_id))
                position = event.position
            if finished:
                return
    finally:
        store.close()


def _run_scenario(
    store_factory, writers: Callable[[Callable[[], EventStore]], Writers], label: str
) -> None:
    run_writers = writers(
        lambda: EventStore.open(store_factory.location, **store_factory.open_options)
    )  # forks (if any) happen here, before this process starts a thread
    setup = store_factory()
    done = threading.Event()
    seen: list[tuple[int, str]] = []
    reader = threading.Thread(
        target=_catch_up_reader, args=(lambda: store_factory(read_only=True), done, seen)
    )
    reader.start()
    started = time.perf_counter()
    try:
        tallies = run_writers()
    finally:
        done.set()
        reader.join(timeout=600)
    elapsed = time.perf_counter() - started
    assert [t.error for t in tallies if t.error] == []

    final = list(setup.read_all())
    acked = [row for tally in tallies for row in tally.acked]
    attempts = sum(t.attempts for t in tallies)
    conflicts = sum(t.conflicts for t in tallies)
    assert attempts == len(tallies) * APPENDS + conflicts  # successes + conflicts = attempts
    ids = Counter(event.event_id for event in final)
    duplicated = sum(count - 1 for count in ids.values())
    lost = len({row[0] for row in acked} - set(ids))
    assert duplicated == 0 and lost == 0
    assert len(acked) == len(final)  # nothing stored that nobody acknowledged
    # The acknowledgement each writer got is exactly what is stored.
    stored = {e.event_id: (e.event_id, e.stream_id, e.version, e.position) for e in final}
    assert all(stored[row[0]] == row for row in acked)
    assert [e.position for e in final] == list(range(1, len(final) + 1))
    versions: dict[str, list[int]] = defaultdict(list)
    for event in final:
        versions[event.stream_id].append(event.version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    for stream_id, stream_versions in versions.items():
        info = setup.stream_info(stream_id)
        assert (info.version, info.event_count) == (len(stream_versions),) * 2
    # The catch-up reader saw the final order, nothing skipped or repeated.
    assert seen == [(e.position, e.event_id) for e in final]
    assert setup.verify().ok
    figure(
        label,
        f"{len(tallies)} writers x {APPENDS} appends over {STREAMS} streams: "
        f"{len(final)} events, 0 lost, 0 duplicated, {conflicts} conflicts retried, "
        f"reader saw {len(seen)}/{len(final)} in order; {len(final) / elapsed:,.0f} events/s",
    )


@pytest.mark.slow
def test_threads_append_with_retries_while_a_reader_catches_up(store_factory, backend) -> None:
    _run_scenario(
        store_factory,
        lambda opener: _thread_writers(opener, THREADS),
        f"concurrency/threads/{backend}",
    )


@pytest.mark.slow
def test_processes_append_with_retries_while_a_reader_catches_up(store_factory, backend) -> None:
    store_factory().close()  # create the store before forking; no handle crosses a fork
    store_factory.close_all()
    _run_scenario(
        store_factory,
        lambda opener: _process_writers(opener, PROCESSES),
        f"concurrency/processes/{backend}",
    )


# --- PostgreSQL: a writer held inside its transaction ----------------------------------
GATED_TRIGGER = """
CREATE FUNCTION rel_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF NEW.event_type IN ('Slow', 'SlowPoison') THEN
    PERFORM pg_advisory_xact_lock_shared({a}, {b});
  END IF;
  IF NEW.event_type IN ('Poison', 'SlowPoison') THEN
    RAISE EXCEPTION 'poisoned batch';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rel_gate BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION rel_gate();
"""


class Gate:
    """A PostgreSQL advisory lock the test holds, so a trigger parks a writer inside its
    transaction (after it took the store's write lock) until the test opens the gate."""

    def __init__(self, pg_url: str, schema: str) -> None:
        self.key = (random.randrange(1, 2**31), random.randrange(1, 2**31))
        self.admin = pg_engine(pg_url, schema)
        with self.admin.begin() as conn:
            conn.exec_driver_sql(GATED_TRIGGER.format(a=self.key[0], b=self.key[1]))
        self.holder = self.admin.connect()
        self.holder.exec_driver_sql(f"SELECT pg_advisory_lock({self.key[0]}, {self.key[1]})")
        self.holder.commit()
        self._poll = threading.Event()

    def waiting(self) -> int:
        """Sessions of this database blocked on an advisory lock."""
        with self.admin.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).scalar()

    def wait_for_waiters(self, count: int) -> None:
        """Poll the server's lock table (a condition, not a timed guess) for 30 s."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.waiting() >= count:
                return
            self._poll.wait(0.005)
        pytest.fail(f"expected {count} writers blocked on the gate")

    def open(self) -> None:
        if self.holder is not None:
            self.holder.exec_driver_sql(f"SELECT pg_advisory_unlock({self.key[0]}, {self.key[1]})")
            self.holder.close()
            self.holder = None

    def close(self) -> None:
        self.open()
        self.admin.dispose()


def _appender(store_factory, results: dict, name: str, event_type: str) -> threading.Thread:
    def run() -> None:
        store = store_factory()
        try:
            results[name] = store.append(f"s-{name}", [NewEvent(event_type, {"by": name})])
        except BaseException as exc:
            results[name] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_out_of_order_commit_never_lets_a_checkpoint_pass_an_undelivered_event(
    store_factory, pg_url
) -> None:
    """A takes the next position and is held on the gate; B tries to commit after it;
    a subscriber polls and checkpoints all the while. A must be delivered, before B, and
    the checkpoint must never pass a position the subscriber has not delivered."""
    schema = store_factory.open_options["schema"]
    writer = store_factory()
    writer.append("seed", [NewEvent("Seeded", {})])
    gate = Gate(pg_url, schema)
    subscriber = store_factory(read_only=True)
    delivered: list[int] = []
    checkpoints: list[int] = []
    # (checkpoint, positions delivered when it was taken), for the invariant below.
    history: list[tuple[int, frozenset[int]]] = []

    def poll() -> None:
        start = checkpoints[-1] if checkpoints else 0
        for event in subscriber.read_all(from_position=start):
            delivered.append(event.position)
        # Kept in memory while A is in flight: saving a checkpoint row takes the store's
        # write lock, which A holds (a projection runner would wait here, not skip).
        checkpoint = delivered[-1] if delivered else 0
        checkpoints.append(checkpoint)
        history.append((checkpoint, frozenset(delivered)))

    results: dict[str, object] = {}
    try:
        poll()
        a = _appender(store_factory, results, "a", "Slow")
        gate.wait_for_waiters(1)  # A holds the store lock inside its transaction
        b = _appender(store_factory, results, "b", "Fast")
        gate.wait_for_waiters(2)  # B waits behind A
        for _ in range(5):  # the subscriber checkpoints repeatedly while A is in flight
            poll()
        assert delivered == [1] and checkpoints[-1] == 1
    finally:
        gate.open()
    a.join(timeout=60)
    b.join(timeout=60)
    poll()
    writer.save_checkpoint("subscriber", checkpoints[-1])
    assert [results["a"][0].position, results["b"][0].position] == [2, 3]
    assert delivered == [1, 2, 3]  # A delivered, before B, nothing twice
    for checkpoint, seen_then in history:  # never past an event not yet delivered
        assert set(range(1, checkpoint + 1)) <= seen_then
    assert writer.checkpoints()["subscriber"] == 3
    assert writer.verify().ok
    gate.close()
    figure(
        "concurrency/out-of-order/postgres",
        f"writer held mid-transaction while {len(checkpoints) - 2} checkpoints were taken: "
        "later writer blocked, 0 events skipped, checkpoint never passed an undelivered position",
    )


@pytest.mark.postgres
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_rolled_back_batch_neither_stalls_nor_is_skipped(store_factory, pg_url) -> None:
    """A batch that has taken the next position and then rolls back (held on the gate,
    then poisoned) while B waits: the subscriber gets B promptly at the position A gave
    up, sees none of A's events, and nothing after is skipped."""
    schema = store_factory.open_options["schema"]
    writer = store_factory()
    writer.append("seed", [NewEvent("Seeded", {})])
    gate = Gate(pg_url, schema)
    subscriber = store_factory(read_only=True)
    results: dict[str, object] = {}
    try:
        a = _appender(store_factory, results, "a", "SlowPoison")
        gate.wait_for_waiters(1)
        b = _appender(store_factory, results, "b", "Fast")
        gate.wait_for_waiters(2)
        assert [e.position for e in subscriber.read_all(from_position=1)] == []
    finally:
        gate.open()
    # The subscriber polls from its checkpoint: it must not stall on the rolled-back
    # batch (no gap to wait out) -- B shows up as soon as it commits.
    released = time.perf_counter()
    caught_up: list = []
    while not caught_up and time.perf_counter() - released < 30:
        caught_up = list(subscriber.read_all(from_position=1))
    lag_ms = (time.perf_counter() - released) * 1000
    a.join(timeout=60)
    b.join(timeout=60)
    assert isinstance(results["a"], StoreError) and "poisoned batch" in str(results["a"])
    assert [(e.position, e.data["by"]) for e in caught_up] == [(2, "b")]
    assert list(subscriber.read_all(from_position=1)) == caught_up
    # A later, healthy append continues contiguously; the subscriber misses nothing.
    writer.append("s-c", [NewEvent("Fast", {"by": "c"})])
    assert [e.position for e in subscriber.read_all(from_position=2)] == [3]
    assert [e.event_type for e in writer.read_all()] == ["Seeded", "Fast", "Fast"]
    assert writer.verify().ok
    gate.close()
    figure(
        "concurrency/rolled-back/postgres",
        f"rolled-back batch held mid-transaction: 0 events of it stored, the waiting writer "
        f"committed at the freed position, subscriber saw it {lag_ms:.1f} ms after the gate opened",
    )


POISON_SQLITE = (
    "CREATE TRIGGER rel_poison BEFORE INSERT ON events WHEN NEW.event_type = 'Poison' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned batch'); END"
)
POISON_PG = (
    "CREATE FUNCTION rel_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.event_type = 'Poison' THEN RAISE EXCEPTION 'poisoned batch'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER rel_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION rel_poison()",
)


def test_batch_refused_by_the_database_leaves_no_trace(store_factory, backend) -> None:
    """Event 57 of 100 is refused inside the transaction: nothing of the batch is stored,
    versions, catalog and chain are unchanged, and the reader's next poll is contiguous."""
    store = store_factory()
    store.append("acct-1", [NewEvent("Opened", {})])
    before = (store.head_digest(), store.stream_info("acct-1"))
    reader = store_factory(read_only=True)
    assert [e.position for e in reader.read_all()] == [1]
    if backend == "sqlite":
        store_factory.raw_execute(POISON_SQLITE)
    else:
        for statement in POISON_PG:
            store_factory.raw_execute(statement)
    batch = [NewEvent("Poison" if i == 56 else "Fine", {"i": i}) for i in range(100)]
    with pytest.raises(StoreError, match="poisoned batch"):
        store.append("acct-1", batch, expected_version=1)
    assert (store.head_digest(), store.stream_info("acct-1")) == before
    assert store.head_position() == 1
    store.append("acct-1", [NewEvent("Fine", {"after": True})], expected_version=1)
    assert [e.position for e in reader.read_all(from_position=1)] == [2]
    assert store.verify().ok


def test_verify_while_writers_commit_never_reports_a_false_break(store_factory, backend) -> None:
    """A reviewer verifying a live store: every verify during continuous appends must be
    ok (the WAL damage check must not mistake a commit in flight for a lost one)."""
    store_factory().append("live-0", [NewEvent("Opened", {})])
    stop = threading.Event()
    started = threading.Event()
    errors: list[BaseException] = []
    commits = [0]

    def write() -> None:
        store = store_factory()
        try:
            while not stop.is_set():
                n = commits[0]
                store.append(f"live-{n % 7}", [NewEvent("Tick", {"n": n}) for _ in range(20)])
                commits[0] += 1
                started.set()
        except BaseException as exc:
            errors.append(exc)
            started.set()

    writer = threading.Thread(target=write)
    writer.start()
    reviewer = store_factory(read_only=True)
    reports = []
    wanted = repetitions("LIVE_VERIFIES", 60)
    try:
        assert started.wait(60)
        first = commits[0]
        # Keep verifying until enough verifies ran *and* the writer committed meanwhile.
        while (len(reports) < wanted or commits[0] - first < wanted) and not errors:
            reports.append(reviewer.verify())
            if len(reports) > 50 * wanted:
                break
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    bad = [r for r in reports if not r.ok]
    assert not bad, bad[:3]
    assert reports[-1].checked > reports[0].checked  # the store really grew meanwhile
    figure(
        f"concurrency/live-verify/{backend}",
        f"{len(reports)}/{len(reports)} verifies ok while a writer committed "
        f"({reports[0].checked:,} -> {reports[-1].checked:,} events)",
    )
