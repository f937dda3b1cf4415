"""kill -9 mid-batch (reliability.md test 8): a forked child appends batches of events and
is SIGKILLed at a random moment, again and again; after every kill the store is reopened
and must be exactly "all acknowledged batches, whole, plus at most the in-flight batch,
whole or absent".

Why fork and not a fresh interpreter: a forked child already has the store imported, so
one kill cycle costs ~50-150 ms instead of ~400 ms, and 200 kills fit in CI. The parent
closes every connection to the file before forking, so no SQLite handle crosses a fork.

Why the child writes "B n" before and "A n" after each append into a pipe: after the
kill the parent drains the pipe and knows exactly which batches were acknowledged and
whether the kill landed inside an append (the last message is a "B"). That gives the
figure "kills that landed mid-batch", so the test proves it exercised what it claims.

Repetitions: EVENTSCOPE_CRASH_KILLS (SQLite, default 200) and EVENTSCOPE_CRASH_KILLS_PG
(PostgreSQL, default 20); EVENTSCOPE_CRASH_BATCH sets the events per batch (default 500).
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from eventscope.store import NO_STREAM, EventStore, NewEvent
from reliability_support import figure, repetitions

pytestmark = pytest.mark.slow

KILLS = repetitions("CRASH_KILLS", 200)
KILLS_PG = repetitions("CRASH_KILLS_PG", 20)
BATCH = repetitions("CRASH_BATCH", 500)
STREAMS = 4
# A fresh file every ROTATE cycles keeps verify + integrity_check per cycle cheap (the cost
# grows with the file) while still reopening files that have survived earlier kills.
ROTATE = 10
PROBE = "crash-probe"


def _child(opener: Callable[[], EventStore], out: int, first_batch: int) -> None:
    """Append batches until killed; report each batch before ("B") and after ("A")."""
    status = 1
    try:
        store = opener()
        batch = first_batch
        while True:
            stream = f"crash-{batch % STREAMS}"
            info = store.stream_info(stream)
            expected = info.version if info else NO_STREAM
            events = [
                NewEvent("Appended", {"batch": batch, "i": i, "pad": "x" * 40})
                for i in range(BATCH)
            ]
            os.write(out, f"B {batch}\n".encode())
            store.append(stream, events, expected_version=expected)
            os.write(out, f"A {batch}\n".encode())
            batch += 1
    except BaseException as exc:  # reported to the parent, which fails the test
        try:
            os.write(out, f"E {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(status)


def _kill_cycle(
    opener: Callable[[], EventStore], first_batch: int, rng: random.Random
) -> list[tuple[str, str]]:
    """Fork a writer, kill it at a random moment, return its messages in order."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        os.close(read_end)
        _child(opener, write_end, first_batch)
    os.close(write_end)
    buffer = b""
    try:
        # Wait (bounded) until the child has acknowledged 0-2 batches and started the
        # next one ...
        wanted_acks = rng.choice((0, 0, 1, 2))
        deadline = time.monotonic() + 30
        while buffer.count(b"A ") < wanted_acks or buffer.count(b"B ") <= wanted_acks:
            if b"E " in buffer:
                break
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            buffer += chunk
        # ... then let it run for a random part of a batch and kill it.
        kill_at = time.monotonic() + rng.uniform(0.0, 0.035)
        while (remaining := kill_at - time.monotonic()) > 0:
            ready, _, _ = select.select([read_end], [], [], remaining)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                buffer += chunk
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    while chunk := os.read(read_end, 65536):  # everything the child wrote before dying
        buffer += chunk
    os.close(read_end)
    return [tuple(line.split(" ", 1)) for line in buffer.decode().splitlines()]  # type: ignore[misc]


_BATCH_SQL = {
    "sqlite": "json_extract(data, '$.batch')",
    "postgresql": "CAST(CAST(data AS jsonb) ->> 'batch' AS INTEGER)",
}
_I_SQL = {
    "sqlite": "json_extract(data, '$.i')",
    "postgresql": "CAST(CAST(data AS jsonb) ->> 'i' AS INTEGER)",
}


def _check_batches(store: EventStore, acked: set[int]) -> dict[int, int]:
    """Every batch in the store is whole and contiguous in its stream; returns
    batch -> event count (probe events count as one-event batches).

    One GROUP BY in SQL (not a decode of every event) keeps a kill cycle cheap as the
    file grows; `verify` separately reads and checks every row.
    """
    dialect = "postgresql" if store.describe().kind.endswith("postgresql") else "sqlite"
    batch, i = _BATCH_SQL[dialect], _I_SQL[dialect]
    with store.connect() as conn:  # inspection below the read API, on purpose
        rows = conn.exec_driver_sql(
            f"SELECT {batch} AS b, COUNT(*), COUNT(DISTINCT {i}), MIN({i}), MAX({i}), "
            "MIN(version), MAX(version), COUNT(DISTINCT stream_id), MIN(stream_id) "
            "FROM events GROUP BY b"
        ).fetchall()
    counts: dict[int, int] = {}
    for b, count, distinct_i, low_i, high_i, low_v, high_v, nstreams, stream in rows:
        counts[b] = count
        if stream == PROBE:  # one event per cycle, written after each reopen
            assert count == 1, b
            continue
        whole = (count, distinct_i, low_i, high_i) == (BATCH, BATCH, 0, BATCH - 1)
        assert whole, f"batch {b} is partial: {count} of {BATCH} events"
        assert high_v - low_v == BATCH - 1, f"batch {b} has a version gap"
        assert (nstreams, stream) == (1, f"crash-{b % STREAMS}"), b
    missing = acked - set(counts)
    assert not missing, f"acknowledged batches lost: {sorted(missing)[:5]}"
    return counts


def _run_kills(
    kills: int,
    make_opener: Callable[[int], Callable[[], EventStore]],
    after_kill: Callable[[int], None] | None,
) -> dict[str, int]:
    rng = random.Random(8)
    acked_total = mid_batch = in_flight_committed = in_flight_absent = 0
    acked: set[int] = set()
    stored: set[int] = set()
    next_batch = 0
    for cycle in range(kills):
        if cycle % ROTATE == 0:
            acked, stored = set(), set()
        opener = make_opener(cycle // ROTATE)
        messages = _kill_cycle(opener, next_batch, rng)
        errors = [text for kind, text in messages if kind == "E"]
        assert not errors, errors
        cycle_acked = {int(text) for kind, text in messages if kind == "A"}
        started = [int(text) for kind, text in messages if kind == "B"]
        assert started, f"cycle {cycle}: the writer never started a batch"
        acked |= cycle_acked
        acked_total += len(cycle_acked)
        next_batch = started[-1] + 1
        if after_kill is not None:
            after_kill(cycle // ROTATE)
        store = opener()
        try:
            counts = _check_batches(store, acked)
            report = store.verify()
            assert report.ok, (cycle, report)
            assert report.checked == store.head_position() == sum(counts.values())
            in_flight = started[-1] if messages[-1][0] == "B" else None
            unexpected = set(counts) - stored - cycle_acked - {in_flight}
            assert not unexpected, f"cycle {cycle}: batches nobody wrote: {unexpected}"
            if in_flight is not None:
                mid_batch += 1
                if in_flight in counts:
                    in_flight_committed += 1
                else:
                    in_flight_absent += 1
            stored = set(counts)
            # The store takes the next writer at once: the lock died with the child.
            info = store.stream_info(PROBE)
            store.append(
                PROBE,
                [NewEvent("Probe", {"batch": -1 - cycle, "i": 0})],
                expected_version=info.version if info else NO_STREAM,
            )
            stored.add(-1 - cycle)
        finally:
            store.close()
    return {
        "kills": kills,
        "acked": acked_total,
        "mid_batch": mid_batch,
        "in_flight_committed": in_flight_committed,
        "in_flight_absent": in_flight_absent,
    }


def test_sigkill_mid_batch_on_sqlite_loses_nothing_acknowledged(tmp_path: Path) -> None:
    paths = [tmp_path / f"crash-{n}.db" for n in range(KILLS // ROTATE + 1)]

    def make_opener(group: int) -> Callable[[], EventStore]:
        return lambda: EventStore.open(paths[group])

    integrity: list[str] = []

    def integrity_check(group: int) -> None:
        connection = sqlite3.connect(paths[group])
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
            integrity.append(result[0][0] if len(result) == 1 else repr(result))
        finally:
            connection.close()
        assert result == [("ok",)], result

    started = time.perf_counter()
    figures = _run_kills(KILLS, make_opener, integrity_check)
    elapsed = time.perf_counter() - started
    assert integrity.count("ok") == KILLS
    # The scenario must actually have killed writers inside an append, not only between.
    assert figures["mid_batch"] >= max(1, KILLS // 4), figures
    figure(
        "crash/sqlite",
        f"{KILLS}/{KILLS} SIGKILLs survived (batches of {BATCH}); "
        f"{figures['mid_batch']} landed mid-append "
        f"({figures['in_flight_committed']} in-flight batches committed whole, "
        f"{figures['in_flight_absent']} absent, 0 partial); {figures['acked']} acknowledged "
        f"batches all whole; integrity_check ok {integrity.count('ok')}/{KILLS}; "
        f"{elapsed * 1000 / KILLS:.0f} ms per kill cycle",
    )


@pytest.mark.postgres
def test_sigkill_mid_batch_on_postgres_loses_nothing_acknowledged(
    pg_url: str, pg_schema: str
) -> None:
    EventStore.open(pg_url, schema=pg_schema).close()  # create the store before forking

    def make_opener(group: int) -> Callable[[], EventStore]:
        return lambda: EventStore.open(pg_url, schema=pg_schema)

    global ROTATE
    saved, ROTATE = ROTATE, KILLS_PG + 1  # one schema for the whole run
    try:
        started = time.perf_counter()
        figures = _run_kills(KILLS_PG, make_opener, None)
        elapsed = time.perf_counter() - started
    finally:
        ROTATE = saved
    assert figures["mid_batch"] >= 1, figures
    figure(
        "crash/postgres",
        f"{KILLS_PG}/{KILLS_PG} SIGKILLs survived (batches of {BATCH}); "
        f"{figures['mid_batch']} mid-append ({figures['in_flight_committed']} committed "
        f"whole, {figures['in_flight_absent']} rolled back, 0 partial); "
        f"{figures['acked']} acknowledged batches all whole; "
        f"{elapsed * 1000 / KILLS_PG:.0f} ms per kill cycle",
    )
