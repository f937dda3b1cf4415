"""Store benchmark: eventscope against raw stdlib `sqlite3` on the same rows, same machine,
same run (figures are noisy on a shared 2-core box; only the ratios mean anything).

Run: .venv/bin/python -m pytest tests/benchmarks/test_store_bench.py -m benchmark -s

Figures (each the median of REPEATS runs, alternating eventscope and raw):
1. batched append, 100 events per append over 1,000 streams (catalog + version check +
   hash chain included) vs raw `executemany` of the same rows at 100 per transaction --
   both the bare insert and the fairer raw "insert + version check + streams upsert";
   target >= 0.8x the bare raw rate.
2. single-event appends vs raw one-row transactions; target >= 0.4x.
3. `read_stream` of a 10k-event stream (rows scattered among another stream's) vs a raw
   SELECT of the same rows that also `orjson.loads` both JSON columns (the fair baseline:
   eventscope returns decoded records); target <= 1.3x the raw time.
4. verify throughput over the batched store; target >= 300k events/s.
All SQLite files use WAL and synchronous=FULL (the store's default).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from pathlib import Path

import orjson
import pytest

from store import NO_STREAM, EventStore, NewEvent

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


def time_eventscope_batched(path: Path, batch_list) -> float:
    store = new_store(path)
    start = time.perf_counter()
    for stream_id, events in batch_list:
        store.append(stream_id, events, expected_version=NO_STREAM)
    elapsed = time.perf_counter() - start
    assert store.head_position() == STREAMS * PER_APPEND
    store.close()
    return elapsed


def time_raw_batched(path: Path, rows_per_batch, with_catalog: bool) -> float:
    conn = raw_connect(path)
    start = time.perf_counter()
    for rows in rows_per_batch:
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
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def time_eventscope_single(path: Path, events: list[NewEvent]) -> float:
    store = new_store(path)
    start = time.perf_counter()
    for index, event in enumerate(events):
        store.append(f"single-{index % STREAMS}", [event])
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def time_raw_single(path: Path, rows: list[tuple]) -> float:
    conn = raw_connect(path)
    start = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT_SQL, row)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


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


def time_eventscope_read(path: Path) -> float:
    store = EventStore.open(path, read_only=True)
    start = time.perf_counter()
    events = list(store.read_stream("target-1"))
    elapsed = time.perf_counter() - start
    assert len(events) == READ_EVENTS
    store.close()
    return elapsed


def time_raw_read(path: Path) -> float:
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    loads = orjson.loads
    start = time.perf_counter()
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE stream_id = ? ORDER BY version",  # noqa: S608
        ("target-1",),
    ).fetchall()
    decoded = [(row, loads(row[7]), loads(row[8])) for row in rows]
    elapsed = time.perf_counter() - start
    assert len(decoded) == READ_EVENTS
    conn.close()
    return elapsed


@pytest.mark.benchmark
def test_store_benchmark(tmp_path: Path) -> None:
    batch_list = batches()
    rows = raw_rows(batch_list)
    total = STREAMS * PER_APPEND
    figures: dict[str, list[float]] = {k: [] for k in ("es", "raw", "raw_cat", "verify")}
    for rep in range(REPEATS):
        # Fresh events each run (event ids must be new), same shapes and sizes.
        fresh = [
            (s, [NewEvent(e.event_type, e.data, e.metadata) for e in ev]) for s, ev in batch_list
        ]
        figures["raw"].append(time_raw_batched(tmp_path / f"raw-{rep}.db", rows, False))
        figures["es"].append(time_eventscope_batched(tmp_path / f"es-{rep}.db", fresh))
        figures["raw_cat"].append(time_raw_batched(tmp_path / f"rawc-{rep}.db", rows, True))
        store = EventStore.open(tmp_path / f"es-{rep}.db", read_only=True)
        start = time.perf_counter()
        report = store.verify()
        figures["verify"].append(time.perf_counter() - start)
        assert report.ok and report.checked == total
        store.close()

    single_es, single_raw = [], []
    flat_rows = [row for batch in rows for row in batch]
    for rep in range(REPEATS):
        events = [NewEvent("Settled", *payload(i, rep)) for i in range(SINGLE_APPENDS)]
        single_raw.append(time_raw_single(tmp_path / f"rs-{rep}.db", flat_rows[:SINGLE_APPENDS]))
        single_es.append(time_eventscope_single(tmp_path / f"ss-{rep}.db", events))

    read_path = tmp_path / "read.db"
    build_read_store(read_path)
    read_es, read_raw = [], []
    for _ in range(max(REPEATS, 5)):
        read_raw.append(time_raw_read(read_path))
        read_es.append(time_eventscope_read(read_path))

    med = statistics.median
    es_rate = total / med(figures["es"])
    raw_rate = total / med(figures["raw"])
    raw_cat_rate = total / med(figures["raw_cat"])
    single_es_rate = SINGLE_APPENDS / med(single_es)
    single_raw_rate = SINGLE_APPENDS / med(single_raw)
    verify_rate = total / med(figures["verify"])
    read_ratio = med(read_es) / med(read_raw)
    lines = [
        "",
        f"store benchmark (SQLite {sqlite3.sqlite_version}, WAL, synchronous=FULL; "
        f"median of {REPEATS}; ratios within this run)",
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
        _row(
            "single-event appends (tx/s) vs raw one-row transactions",
            single_es_rate, single_raw_rate, single_es_rate / single_raw_rate, ">=0.4x",
        ),
        _row(
            "read_stream 10k scattered (ms) vs raw SELECT + orjson.loads x2",
            med(read_es) * 1000, med(read_raw) * 1000, read_ratio, "<=1.3x",
        ),
        f"{'verify (events/s over ' + format(total, ',') + ' events)':<58}"
        f"{verify_rate:>14,.0f}{'':>14}{'':>8}{'>=300k/s':>9}",
        "",
    ]  # fmt: skip
    print("\n".join(lines))


def _row(name: str, ours: float, base: float, ratio: float, target: str) -> str:
    return f"{name:<58}{ours:>14,.1f}{base:>14,.1f}{ratio:>7.2f}x{target:>9}"
