"""The stateful model test (reliability.md test 25), on SQLite and PostgreSQL.

A Hypothesis `RuleBasedStateMachine` drives a real store and a plain Python model side by
side. Rules: append, stale append, duplicate id (same content: the original comes back;
other content: IdempotencyConflict; twice in one batch: InvalidEvent), read a stream
(forwards, backwards, a version range), read-all (from a position, with a limit, with a
filter), save a snapshot, state-at (fold from the latest snapshot), reopen, and
crash-reopen (a forked writer SIGKILLed at a random moment mid-append). Invariants after
every step: the store equals the model, positions are 1..N, the catalog agrees, the chain
verifies, and replay from every snapshot equals the full replay.

EVENTSCOPE_MODEL_RELIABILITY_EXAMPLES / _STEPS raise the run (the research asks for
500 x 50 as a soak; CI runs the defaults below on each backend).
"""

from __future__ import annotations

import copy
import os
import random
import select
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventscope.domain.fold import merge
from eventscope.store import (
    NO_STREAM,
    ConcurrencyError,
    EventFilter,
    EventStore,
    IdempotencyConflict,
    InvalidEvent,
    NewEvent,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from reliability_support import figure, repetitions
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.slow

EXAMPLES = repetitions("MODEL_RELIABILITY_EXAMPLES", 60)
STEPS = repetitions("MODEL_RELIABILITY_STEPS", 30)
STREAM_IDS = st.sampled_from(["acct-1", "acct-2", "order-1", "ünï-%_'"])
EVENT_TYPES = st.sampled_from(["Opened", "Changed", "Closed"])
LEAF = st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=6), st.booleans(), st.none())
PAYLOADS = st.dictionaries(
    st.sampled_from(["balance", "owner", "status", "address"]),
    st.one_of(LEAF, st.dictionaries(st.sampled_from(["city", "zip"]), LEAF, max_size=2)),
    max_size=3,
)

PICK = st.integers(0, 2**16)

_stats = {"steps": 0, "crashes": 0, "crash_committed": 0, "crash_absent": 0, "examples": 0}


def fold(payloads: list[dict]) -> dict:
    state: dict = {}
    for data in payloads:
        merge(state, copy.deepcopy(data))
    return state


class StoreMachine(RuleBasedStateMachine):
    """Compares an EventStore with a list of (stream_id, NewEvent) in position order."""

    opener = None  # set per backend: opens (or creates) this example's store

    def __init__(self) -> None:
        super().__init__()
        self.store: EventStore = type(self).opener()
        self.model: list[tuple[str, NewEvent]] = []
        self.snapshots: dict[str, dict[int, dict]] = {}
        _stats["examples"] += 1

    # --- helpers --------------------------------------------------------------------
    def version(self, stream_id: str) -> int:
        return sum(1 for s, _ in self.model if s == stream_id)

    def stream_payloads(self, stream_id: str) -> list[dict]:
        return [e.data for s, e in self.model if s == stream_id]

    def streams(self) -> list[str]:
        return sorted({s for s, _ in self.model})

    # --- rules ----------------------------------------------------------------------
    @rule(
        stream_id=STREAM_IDS,
        payloads=st.lists(st.tuples(EVENT_TYPES, PAYLOADS), min_size=1, max_size=4),
    )
    def append(self, stream_id: str, payloads: list[tuple[str, dict]]) -> None:
        current = self.version(stream_id)
        events = [NewEvent(t, d, {"actor": f"a{len(self.model) % 3}"}) for t, d in payloads]
        records = self.store.append(stream_id, events, expected_version=current or NO_STREAM)
        assert [r.version for r in records] == list(range(current + 1, current + 1 + len(events)))
        assert [r.position for r in records] == list(
            range(len(self.model) + 1, len(self.model) + 1 + len(events))
        )
        self.model.extend((stream_id, event) for event in events)

    # Rules draw plain numbers and map them onto the model *after* drawing: a crash-reopen
    # commits or loses its batch by timing, and Hypothesis needs the same draws on replay.
    def pick(self, number: int, items: list):
        return items[number % len(items)] if items else None

    @rule(a=PICK, b=PICK)
    def stale_append(self, a: int, b: int) -> None:
        stream_id = self.pick(a, self.streams())
        if stream_id is None:
            return
        stale = b % self.version(stream_id)
        with pytest.raises(ConcurrencyError):
            self.store.append(stream_id, [NewEvent("Stale", {})], stale or NO_STREAM)

    @rule(a=PICK)
    def duplicate_id(self, a: int) -> None:
        if not self.model:
            return
        index = a % len(self.model)
        stream_id, event = self.model[index]
        [again] = self.store.append(stream_id, [event])  # a retry: the original returns
        assert (again.position, again.event_id) == (index + 1, str(event.event_id))
        changed = NewEvent(event.event_type, {**event.data, "x": 1}, event_id=event.event_id)
        if changed.data != event.data:
            with pytest.raises(IdempotencyConflict):
                self.store.append(stream_id, [changed])
        twice = NewEvent("Twice", {})
        with pytest.raises(InvalidEvent):
            self.store.append(stream_id, [twice, twice])

    @rule(stream_id=STREAM_IDS, a=PICK, b=st.one_of(st.none(), PICK), backwards=st.booleans())
    def read_stream(self, stream_id: str, a: int, b: int | None, backwards: bool) -> None:
        expected = [e for s, e in self.model if s == stream_id]
        low = 1 + a % max(1, len(expected))
        high = None if b is None else low + b % max(1, len(expected) - low + 1)
        got = list(self.store.read_stream(stream_id, low, high, backwards=backwards))
        want = expected[low - 1 : high]
        if backwards:
            want = want[::-1]
        assert [(r.event_id, r.data) for r in got] == [(str(e.event_id), e.data) for e in want]

    @rule(
        a=PICK,
        limit=st.one_of(st.none(), st.integers(1, 10)),
        stream=st.one_of(st.none(), STREAM_IDS),
    )
    def read_all(self, a: int, limit: int | None, stream: str | None) -> None:
        start = a % (len(self.model) + 1)
        flt = EventFilter(stream_id=stream) if stream else None
        want = [
            (position, str(e.event_id))
            for position, (s, e) in enumerate(self.model, start=1)
            if position > start and (stream is None or s == stream)
        ][:limit]
        got = [
            (r.position, r.event_id) for r in self.store.read_all(start, filter=flt, limit=limit)
        ]
        assert got == want

    @rule(a=PICK, b=PICK)
    def snapshot(self, a: int, b: int) -> None:
        stream_id = self.pick(a, self.streams())
        if stream_id is None:
            return
        version = 1 + b % self.version(stream_id)
        state = fold(self.stream_payloads(stream_id)[:version])
        self.store.save_snapshot(stream_id, version, state, "generic", code_version="model")
        self.snapshots.setdefault(stream_id, {})[version] = state

    @rule(a=PICK, b=PICK)
    def state_at(self, a: int, b: int) -> None:
        stream_id = self.pick(a, self.streams())
        if stream_id is None:
            return
        version = 1 + b % self.version(stream_id)
        snap = self.store.snapshot_at(stream_id, version)
        start, state = (snap.version, copy.deepcopy(snap.state)) if snap else (0, {})
        for event in self.store.read_stream(stream_id, start + 1, version):
            merge(state, event.data)
        assert state == fold(self.stream_payloads(stream_id)[:version])

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = type(self).opener()

    @rule(stream_id=STREAM_IDS, size=st.integers(1, 200), seed=st.integers(0, 2**16))
    def crash_reopen(self, stream_id: str, size: int, seed: int) -> None:
        """A forked writer appends one batch and is killed at a random moment; after the
        reopen the batch is either whole or absent, and the model follows the store."""
        self.store.close()
        current = self.version(stream_id)
        batch = [NewEvent("Crashed", {"i": i}) for i in range(size)]
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                store = type(self).opener()
                os.write(write_end, b"B")
                store.append(stream_id, batch, expected_version=current or NO_STREAM)
                os.write(write_end, b"A")
            finally:
                os._exit(0)
        os.close(write_end)
        select.select([read_end], [], [], 30)  # the child is about to append
        rng = random.Random(seed)
        deadline = time.monotonic() + rng.uniform(0, 0.01)
        while (remaining := deadline - time.monotonic()) > 0:
            select.select([], [], [], remaining)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acked = b"A" in os.read(read_end, 16) + os.read(read_end, 16)
        os.close(read_end)
        self.store = type(self).opener()
        stored = [e.event_id for e in self.store.read_stream(stream_id, current + 1)]
        ids = [str(e.event_id) for e in batch]
        assert stored in ([], ids), f"partial batch: {len(stored)} of {size}"
        assert stored == ids or not acked, "an acknowledged batch was lost"
        _stats["crashes"] += 1
        if stored:
            _stats["crash_committed"] += 1
            self.model.extend((stream_id, event) for event in batch)
        else:
            _stats["crash_absent"] += 1

    # --- invariants -----------------------------------------------------------------
    @invariant()
    def store_equals_model(self) -> None:
        _stats["steps"] += 1
        stored = list(self.store.read_all())
        assert [r.position for r in stored] == list(range(1, len(self.model) + 1))
        assert [(r.stream_id, r.event_id, r.event_type, r.data) for r in stored] == [
            (s, str(e.event_id), e.event_type, e.data) for s, e in self.model
        ]
        for stream_id in self.streams():
            info = self.store.stream_info(stream_id)
            assert (info.version, info.event_count) == (self.version(stream_id),) * 2
        report = self.store.verify()
        assert report.ok and report.checked == len(self.model), report

    @invariant()
    def replay_from_every_snapshot_equals_full_replay(self) -> None:
        for stream_id, versions in self.snapshots.items():
            payloads = self.stream_payloads(stream_id)
            for stored in self.store.snapshots(stream_id):
                assert stored.state == versions[stored.version]
                state = copy.deepcopy(stored.state)
                for event in self.store.read_stream(stream_id, stored.version + 1):
                    merge(state, event.data)
                assert state == fold(payloads)

    def teardown(self) -> None:
        self.store.close()


MODEL_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


def test_store_against_its_model(backend: str, request: pytest.FixtureRequest) -> None:
    for key in _stats:
        _stats[key] = 0
    started = time.perf_counter()
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            paths = (Path(folder) / f"model-{n}.db" for n in range(10**6))
            current: dict[str, Path] = {}

            class SqliteMachine(StoreMachine):
                def __init__(self) -> None:
                    current["path"] = next(paths)
                    super().__init__()

            SqliteMachine.opener = staticmethod(lambda: EventStore.open(current["path"]))
            run_state_machine_as_test(SqliteMachine, settings=MODEL_SETTINGS)
    else:
        pg_url = request.getfixturevalue("pg_url")
        schemas: list[str] = []

        class PostgresMachine(StoreMachine):
            def __init__(self) -> None:
                schemas.append(f"rm_{uuid.uuid4().hex[:20]}")
                super().__init__()

        PostgresMachine.opener = staticmethod(lambda: EventStore.open(pg_url, schema=schemas[-1]))
        admin = sa.create_engine(pg_url, poolclass=NullPool)
        try:
            run_state_machine_as_test(PostgresMachine, settings=MODEL_SETTINGS)
        finally:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()
    elapsed = time.perf_counter() - started
    assert _stats["crashes"] > 0  # the crash rule actually ran
    figure(
        f"model/{backend}",
        f"{_stats['examples']} examples x up to {STEPS} steps ({_stats['steps']} checked "
        f"states), {_stats['crashes']} crash-reopens ({_stats['crash_committed']} batches "
        f"whole, {_stats['crash_absent']} absent, 0 partial); store = model, positions "
        f"1..N, chain verifies, snapshot replay = full replay; {elapsed:.1f} s",
    )
