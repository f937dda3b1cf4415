"""Store benchmark: eventscope against raw stdlib `sqlite3` on the same rows, same machine,
same run (figures are noisy on a shared 2-core box; only the ratios mean anything).

Run: .venv/bin/python -m pytest tests/benchmarks/test_store_bench.py -m benchmark -s

Figures (each the median of REPEATS runs, alternating eventscope and raw):
1. batched append, 100 events per append over 1,000 streams (catalog + version check +
   hash chain included) vs raw `executemany` of the same rows at 100 per transaction --
   both the bare insert and the fairer raw "insert + version check + streams upsert";
   target >= 0.8x the bare raw rate. Also the same appends through
   `append_streams(return_records=False)` (what bulk loaders such as the demo use).
2. single-event appends vs raw one-row transactions; target >= 0.4x.
3. `read_stream` of a 10k-event stream (rows scattered among another stream's) vs a raw
   SELECT of the same rows that also `orjson.loads` both JSON columns (the fair baseline:
   eventscope returns decoded records); target <= 1.3x the raw time.
4. verify throughput over the batched store (two processes at this size; one process
   shown too); target >= 300k events/s.
All SQLite files use WAL and synchronous=FULL (the store's default).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from eventscope.store import NO_STREAM, EventStore, NewEvent
from eventscope.store.native import chain

REPEATS = int(os.environ.get("EVENTSCOPE_BENCH_REPEATS", "3"))
STREAMS = 1000
PER_APPEND = 100
SINGLE_APPENDS = 1000
READ_EVENTS = 10_000

INSERT_SQL = (
    "INSERT INTO events (position, event_id, stream_id, stream_type, version, event_type, "
    "schema_version, data, metadata, occurred_at, recorded_at, actor, correlation_id, "
    "causation_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
COLUMNS = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, hash"
)


def payload(stream: int, n: int) -> tuple[dict, dict]:
    """~200 bytes of canonical JSON (data + metadata), like a typical business event."""
    data = {
        "account": f"acct-{stream:05d}",
        "amount": (stream * 7919 + n * 104729) % 100_000,
        "currency": "EUR",
        "reference": f"INV-{stream:05d}-{n:04d}",
        "note": "monthly settlement",
    }
    metadata = {"actor": f"user-{stream % 50}", "correlation_id": f"c-{stream}-{n // 10}"}
    return data, metadata


def new_store(path: Path) -> EventStore:
    return EventStore.open(path)


def raw_connect(path: Path) -> sqlite3.Connection:
    """A raw connection with the store's settings, on a file with the store's schema."""
    EventStore.open(path).close()  # same tables and indexes, so index upkeep is equal
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def batches() -> list[tuple[str, list[NewEvent]]]:
    out = []
    for stream in range(STREAMS):
        events = []
        for n in range(PER_APPEND):
            data, metadata = payload(stream, n)
            events.append(NewEvent("Settled", data, metadata))
        out.append((f"acct-{stream:05d}", events))
    return out


def raw_rows(batch_list: list[tuple[str, list[NewEvent]]]) -> list[list[tuple]]:
    """The same rows eventscope stores (canonical JSON text, fixed-width timestamps)."""
    now = "2026-01-01T00:00:00.000000Z"
    position = 0
    out = []
    for stream_id, events in batch_list:
        rows = []
        for version, event in enumerate(events, start=1):
            position += 1
            rows.append(
                (
                    position,
                    str(event.event_id),
                    stream_id,
                    "acct",
                    version,
                    event.event_type,
                    1,
                    orjson.dumps(event.data, option=orjson.OPT_SORT_KEYS).decode(),
                    orjson.dumps(event.metadata, option=orjson.OPT_SORT_KEYS).decode(),
                    now,
                    now,
                    event.metadata["actor"],
                    event.metadata["correlation_id"],
                    None,
                    "0" * 64,
                )
            )
        out.append(rows)
    return out


class Side:
    """One contender in an interleaved measurement: `step(i)` does the i-th unit of work.

    Sides are run in alternating slices (A B C, then C B A, ...), so load from other
    processes on the shared machine falls on every side alike; wall time is the target
    figure, CPU time (process_time) is printed as the steadier diagnostic.
    """

    def __init__(self, step: Callable[[int], object]) -> None:
        self.step = step
        self.wall = 0.0
        self.cpu = 0.0

    def run(self, start: int, stop: int) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(start, stop):
            self.step(i)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu


def interleave(sides: list[Side], count: int, slice_size: int = 25) -> None:
    for number, start in enumerate(range(0, count, slice_size)):
        order = sides if number % 2 == 0 else sides[::-1]
        for side in order:
            side.run(start, min(count, start + slice_size))


def raw_batched_step(conn: sqlite3.Connection, rows_per_batch, with_catalog: bool):
    def step(i: int) -> None:
        rows = rows_per_batch[i]
        conn.execute("BEGIN IMMEDIATE")
        if with_catalog:
            stream_id = rows[0][2]
            current = conn.execute(
                "SELECT version FROM streams WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            assert current is None
        conn.executemany(INSERT_SQL, rows)
        if with_catalog:
            conn.execute(
                "INSERT INTO streams (stream_id, stream_type, version, event_count, "
                "first_recorded_at, last_recorded_at, first_position, last_position) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET "
                "version = excluded.version, event_count = excluded.event_count",
                (stream_id, "acct", len(rows), len(rows), rows[0][10], rows[-1][10],
                 rows[0][0], rows[-1][0]),
            )  # fmt: skip
        conn.execute("COMMIT")

    return step


def raw_single_step(conn: sqlite3.Connection, rows: list[tuple]):
    def step(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT_SQL, rows[i])
        conn.execute("COMMIT")

    return step


def build_read_store(path: Path) -> None:
    """10k events of `target-1`, interleaved with 10k of `other-1` (scattered rows)."""
    store = new_store(path)
    for chunk in range(READ_EVENTS // 100):
        target = [NewEvent("Settled", *payload(1, chunk * 100 + n)) for n in range(100)]
        other = [NewEvent("Settled", *payload(2, chunk * 100 + n)) for n in range(100)]
        # Alternate single events between the two streams so rows are scattered.
        items = []
        for a, b in zip(target, other, strict=True):
            items.append(("target-1", [a]))
            items.append(("other-1", [b]))
        store.append_streams(items)
    store.close()


def time_reads(path: Path, repeats: int) -> tuple[list[float], list[float]]:
    """Alternate eventscope `read_stream` and the raw baseline on open, warmed
    connections (one untimed read each first), so both read from the same page cache."""
    store = EventStore.open(path, read_only=True)
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    loads = orjson.loads
    sql = f"SELECT {COLUMNS} FROM events WHERE stream_id = ? ORDER BY version"

    def ours() -> int:
        return len(list(store.read_stream("target-1")))

    def raw() -> int:
        rows = conn.execute(sql, ("target-1",)).fetchall()
        return len([(row, loads(row[7]), loads(row[8])) for row in rows])

    assert ours() == raw() == READ_EVENTS
    ours_times, raw_times = [], []
    for index in range(repeats):
        pair = ((ours, ours_times), (raw, raw_times))
        for func, sink in pair if index % 2 == 0 else pair[::-1]:
            start = time.perf_counter()
            func()
            sink.append(time.perf_counter() - start)
    store.close()
    conn.close()
    return ours_times, raw_times


@pytest.mark.benchmark
def test_store_benchmark(tmp_path: Path) -> None:
    batch_list = batches()
    rows = raw_rows(batch_list)
    total = STREAMS * PER_APPEND
    batched: list[tuple[Side, Side, Side, Side]] = []
    verify_times: list[float] = []
    verify_cpu: list[float] = []
    verify_one: list[float] = []
    for rep in range(REPEATS):
        # Fresh events each run (event ids must be new), same shapes and sizes.
        fresh = [
            (s, [NewEvent(e.event_type, e.data, e.metadata) for e in ev]) for s, ev in batch_list
        ]
        bulk_events = [
            (s, [NewEvent(e.event_type, e.data, e.metadata) for e in ev]) for s, ev in batch_list
        ]
        store = new_store(tmp_path / f"es-{rep}.db")
        bulk = new_store(tmp_path / f"bulk-{rep}.db")
        raw = raw_connect(tmp_path / f"raw-{rep}.db")
        raw_cat = raw_connect(tmp_path / f"rawc-{rep}.db")
        sides = (
            Side(lambda i, st=store, f=fresh: st.append(f[i][0], f[i][1], NO_STREAM)),
            Side(raw_batched_step(raw, rows, False)),
            Side(raw_batched_step(raw_cat, rows, True)),
            Side(
                lambda i, st=bulk, f=bulk_events: st.append_streams(
                    [(f[i][0], f[i][1], NO_STREAM)], return_records=False
                )
            ),
        )
        interleave(list(sides), STREAMS)
        batched.append(sides)
        assert store.head_position() == bulk.head_position() == total
        store.close()
        bulk.close()
        raw.close()
        raw_cat.close()
        reader = EventStore.open(tmp_path / f"es-{rep}.db", read_only=True)
        start = time.perf_counter()
        report = reader.verify()  # a store this size is checked by two processes
        verify_times.append(time.perf_counter() - start)
        assert report.ok and report.checked == total
        one_process = chain.IN_TWO_FROM
        chain.IN_TWO_FROM = 1 << 62
        try:
            start, cpu = time.perf_counter(), time.process_time()
            assert reader.verify() == report
            verify_one.append(time.perf_counter() - start)
            verify_cpu.append(time.process_time() - cpu)
        finally:
            chain.IN_TWO_FROM = one_process
        reader.close()

    single: list[tuple[Side, Side]] = []
    flat_rows = [row for batch in rows for row in batch]
    for rep in range(REPEATS):
        events = [NewEvent("Settled", *payload(i, rep)) for i in range(SINGLE_APPENDS)]
        store = new_store(tmp_path / f"ss-{rep}.db")
        raw = raw_connect(tmp_path / f"rs-{rep}.db")
        sides2 = (
            Side(lambda i, st=store, ev=events: st.append(f"single-{i % STREAMS}", [ev[i]])),
            Side(raw_single_step(raw, flat_rows)),
        )
        interleave(list(sides2), SINGLE_APPENDS)
        single.append(sides2)
        store.close()
        raw.close()

    read_path = tmp_path / "read.db"
    build_read_store(read_path)
    read_es, read_raw = time_reads(read_path, max(4 * REPEATS, 10))

    med = statistics.median
    es_rate = total / med(es.wall for es, _, _, _ in batched)
    raw_rate = total / med(raw.wall for _, raw, _, _ in batched)
    raw_cat_rate = total / med(cat.wall for _, _, cat, _ in batched)
    bulk_rate = total / med(bulk.wall for _, _, _, bulk in batched)
    batched_cpu = med(raw.cpu / es.cpu for es, raw, _, _ in batched)
    single_es_rate = SINGLE_APPENDS / med(es.wall for es, _ in single)
    single_raw_rate = SINGLE_APPENDS / med(raw.wall for _, raw in single)
    single_cpu = med(raw.cpu / es.cpu for es, raw in single)
    verify_rate = total / med(verify_times)
    verify_cpu_rate = total / med(verify_cpu)
    verify_one_rate = total / med(verify_one)
    read_ratio = med(read_es) / med(read_raw)
    lines = [
        "",
        f"store benchmark (SQLite {sqlite3.sqlite_version}, WAL, synchronous=FULL; "
        f"median of {REPEATS} interleaved runs; ratios within this run)",
        f"{'figure':<58}{'eventscope':>14}{'baseline':>14}{'ratio':>8}{'target':>9}",
        _row(
            "batched append, 100/append x 1,000 streams (events/s)"
            " vs raw executemany, 100/tx",
            es_rate, raw_rate, es_rate / raw_rate, ">=0.8x",
        ),
        _row(
            "  same, vs raw + version check + streams upsert",
            es_rate, raw_cat_rate, es_rate / raw_cat_rate, "",
        ),
        f"{'  (CPU time only: raw / eventscope)':<58}{'':>28}{batched_cpu:>7.2f}x",
        _row(
            "  append_streams(return_records=False) (bulk loads)",
            bulk_rate, raw_rate, bulk_rate / raw_rate, "",
        ),
        _row(
            "single-event appends (tx/s) vs raw one-row transactions",
            single_es_rate, single_raw_rate, single_es_rate / single_raw_rate, ">=0.4x",
        ),
        f"{'  (CPU time only: raw / eventscope)':<58}{'':>28}{single_cpu:>7.2f}x",
        _row(
            "read_stream 10k scattered (ms) vs raw SELECT + orjson.loads x2",
            med(read_es) * 1000, med(read_raw) * 1000, read_ratio, "<=1.3x",
        ),
        f"{'verify (events/s over ' + format(total, ',') + ' events)':<58}"
        f"{verify_rate:>14,.0f}{'':>14}{'':>8}{'>=300k/s':>9}",
        f"{'  in one process':<58}{verify_one_rate:>14,.0f}",
        f"{'  in one process, per CPU second':<58}{verify_cpu_rate:>14,.0f}",
        "",
    ]  # fmt: skip
    print("\n".join(lines))


def _row(name: str, ours: float, base: float, ratio: float, target: str) -> str:
    return f"{name:<58}{ours:>14,.1f}{base:>14,.1f}{ratio:>7.2f}x{target:>9}"


PG_STREAMS = 200


@pytest.mark.benchmark
@pytest.mark.postgres
def test_store_benchmark_postgres(pg_url: str, pg_schema: str) -> None:
    """The same batched figure on PostgreSQL (psycopg executemany as the raw baseline,
    one schema, tables emptied between runs) and verify throughput."""
    import psycopg
    from sqlalchemy import make_url

    batch_list = batches()[:PG_STREAMS]
    rows = raw_rows(batch_list)
    total = PG_STREAMS * PER_APPEND
    url = make_url(pg_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    EventStore.open(pg_url, schema=pg_schema).close()
    es_times, raw_times, verify_times = [], [], []
    with psycopg.connect(dsn, options=f"-c search_path={pg_schema}") as conn:

        def reset() -> None:
            with conn.transaction():
                conn.execute("TRUNCATE events, streams")
                conn.execute("UPDATE chain_head SET position = 0, hash = NULL, recorded_at = NULL")

        for _ in range(REPEATS):
            reset()
            start = time.perf_counter()
            for batch in rows:
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(INSERT_SQL.replace("?", "%s"), batch)
            raw_times.append(time.perf_counter() - start)
            reset()
            store = EventStore.open(pg_url, schema=pg_schema)
            fresh = [
                (s, [NewEvent(e.event_type, e.data, e.metadata) for e in ev])
                for s, ev in batch_list
            ]
            start = time.perf_counter()
            for stream_id, events in fresh:
                store.append(stream_id, events, expected_version=NO_STREAM)
            es_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            report = store.verify()
            verify_times.append(time.perf_counter() - start)
            assert report.ok and report.checked == total
            store.close()
    med = statistics.median
    es_rate, raw_rate = total / med(es_times), total / med(raw_times)
    print(
        "\n".join(
            [
                "",
                f"store benchmark on PostgreSQL (median of {REPEATS}; {total:,} events)",
                f"{'figure':<58}{'eventscope':>14}{'baseline':>14}{'ratio':>8}",
                _row(
                    "batched append 100/append (events/s) vs psycopg executemany",
                    es_rate,
                    raw_rate,
                    es_rate / raw_rate,
                    "",
                ),
                f"{'verify (events/s)':<58}{total / med(verify_times):>14,.0f}",
                "",
            ]
        )
    )
