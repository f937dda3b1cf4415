"""Demo build benchmark: `eventscope demo --events 1000000` against raw stdlib `sqlite3`
`executemany` of the same rows, measured in the same run (the machine is shared and
noisy: only the ratios mean anything).

Run: .venv/bin/python -m pytest tests/benchmarks/test_demo_bench.py -m benchmark -s
(`EVENTSCOPE_DEMO_BENCH_EVENTS=200000` for a quicker look.)

Figures:
1. the whole build through the CLI code path (`build_demo`: simulation, events with hash
   chain and catalog, snapshots, read models, manifest) -- target <= 40 s for 1M events;
2. where the time goes: CPU of the writing process and of the simulation child process
   (large builds simulate in a child while the parent writes), and the simulation alone;
3. raw insert: the exact rows the build stored, read back and inserted with stdlib
   `sqlite3.executemany` into a fresh file with the same schema (same indexes), 20,000
   rows per transaction, WAL, synchronous=NORMAL (what the demo build uses) -- only the
   insert + commit time is counted; and the same with a 256 MiB page cache, to show how
   much of the insert cost is SQLite's page cache thrashing on the random-UUID indexes;
4. the ratio of the build's event rate to the raw insert rate.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import time
from pathlib import Path

import pytest
from eventscope.demo_data import build_demo, world
from eventscope.demo_data.pipeline import no_cyclic_gc
from eventscope.demo_data.simulation import Simulation
from eventscope.store import EventStore

EVENTS = int(os.environ.get("EVENTSCOPE_DEMO_BENCH_EVENTS", "1000000"))
CHUNK = 20_000
COLUMNS = (
    "position, event_id, stream_id, stream_type, version, event_type, schema_version, data, "
    "metadata, occurred_at, recorded_at, actor, correlation_id, causation_id, hash"
)
INSERT_SQL = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * 15)})"


def raw_insert_seconds(
    source: Path, target: Path, cache_kib: int | None = None
) -> tuple[float, float]:
    """Copy every event row with stdlib executemany; return the insert + commit time
    (wall, CPU). `cache_kib` sets SQLite's page cache (default: SQLite's own 2 MiB)."""
    EventStore.open(str(target), synchronous="NORMAL").close()  # same schema and indexes
    reader = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(str(target), isolation_level=None)
    writer.execute("PRAGMA synchronous = NORMAL")
    if cache_kib is not None:
        writer.execute(f"PRAGMA cache_size = -{cache_kib}")
    spent = cpu = 0.0
    try:
        cursor = reader.execute(f"SELECT {COLUMNS} FROM events ORDER BY position")
        while rows := cursor.fetchmany(CHUNK):
            started, started_cpu = time.perf_counter(), time.process_time()
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany(INSERT_SQL, rows)
            writer.execute("COMMIT")
            spent += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
    finally:
        reader.close()
        writer.close()
    return spent, cpu


def cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children) user + system CPU seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.mark.benchmark
def test_demo_build_against_raw_sqlite(tmp_path: Path) -> None:
    own_before, children_before = cpu_seconds()
    started = time.perf_counter()
    manifest = build_demo(tmp_path / "demo.db", EVENTS)
    build = time.perf_counter() - started
    own_after, children_after = cpu_seconds()
    assert manifest["events"] == EVENTS

    started = time.perf_counter()
    with no_cyclic_gc():
        sim = Simulation(EVENTS, 42)
        world.run(sim, lambda s: s.take_output())
    simulation = time.perf_counter() - started
    assert sim.count == EVENTS

    raw, raw_cpu = raw_insert_seconds(tmp_path / "demo.db", tmp_path / "raw.db")
    raw_cached, _ = raw_insert_seconds(tmp_path / "demo.db", tmp_path / "raw-cache.db", 262_144)
    build_rate, raw_rate = EVENTS / build, EVENTS / raw
    writer_cpu = own_after - own_before
    streams = sum(manifest["streams"].values())
    rows = [
        ("build_demo (what `eventscope demo` runs)", build),
        ("  CPU: writing process (store + hash chain)", writer_cpu),
        ("  CPU: simulation child process", children_after - children_before),
        ("simulation alone, in one process, no store", simulation),
        ("raw sqlite3 executemany of the same rows", raw),
        ("  CPU: raw insert", raw_cpu),
        ("  same, with a 256 MiB page cache (reference)", raw_cached),
    ]
    print()
    print(
        f"demo build of {EVENTS:,} events ({streams:,} streams, "
        f"{manifest['snapshots']:,} snapshots); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'figure':<50}{'seconds':>10}{'events/s':>12}")
    for label, seconds in rows:
        print(f"{label:<50}{seconds:>10.2f}{EVENTS / max(seconds, 1e-9):>12,.0f}")
    print(f"ratio build rate / raw insert rate: {build_rate / raw_rate:.2f}x (wall clock)")
    print(
        f"ratio raw insert CPU / writing-process CPU: {raw_cpu / writer_cpu:.2f}x "
        "(steadier on a busy machine: what the writer would reach with a core to itself)"
    )
    print(f"target for 1M events: <= 40 s; this run: {build:.1f} s for {EVENTS:,}")
