"""Demo build benchmark: `eventscope demo --events 1000000` against raw stdlib `sqlite3`
`executemany` of the same rows, measured in the same run (the machine is shared and
noisy: only the ratios mean anything).

Run: .venv/bin/python -m pytest tests/benchmarks/test_demo_bench.py -m benchmark -s
(`EVENTSCOPE_DEMO_BENCH_EVENTS=200000` for a quicker look.)

Figures:
1. the whole build through the CLI code path (`build_demo`: simulation, events with hash
   chain and catalog, snapshots, read models, manifest) -- target <= 40 s for 1M events;
2. the simulation alone (no store), to show where the time goes;
3. raw insert: the exact rows the build stored, read back and inserted with stdlib
   `sqlite3.executemany` into a fresh file with the same schema (same indexes), 20,000
   rows per transaction, WAL, synchronous=NORMAL (what the demo build uses) -- only the
   insert + commit time is counted;
4. the ratio of the build's event rate to the raw insert rate.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from demo_data import build_demo, world
from demo_data.simulation import Simulation
from store import EventStore

EVENTS = int(os.environ.get("EVENTSCOPE_DEMO_BENCH_EVENTS", "1000000"))
CHUNK = 20_000
COLUMNS = (
    "position, event_id, stream_id, stream_type, version, event_type, schema_version, data, "
    "metadata, occurred_at, recorded_at, actor, correlation_id, causation_id, hash"
)
INSERT_SQL = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * 15)})"


def raw_insert_seconds(source: Path, target: Path) -> float:
    """Copy every event row with stdlib executemany; return the insert + commit time."""
    EventStore.open(str(target), synchronous="NORMAL").close()  # same schema and indexes
    reader = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(str(target), isolation_level=None)
    writer.execute("PRAGMA synchronous = NORMAL")
    spent = 0.0
    try:
        cursor = reader.execute(f"SELECT {COLUMNS} FROM events ORDER BY position")
        while rows := cursor.fetchmany(CHUNK):
            started = time.perf_counter()
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany(INSERT_SQL, rows)
            writer.execute("COMMIT")
            spent += time.perf_counter() - started
    finally:
        reader.close()
        writer.close()
    return spent


@pytest.mark.benchmark
def test_demo_build_against_raw_sqlite(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = build_demo(tmp_path / "demo.db", EVENTS)
    build = time.perf_counter() - started
    assert manifest["events"] == EVENTS

    started = time.perf_counter()
    sim = Simulation(EVENTS, 42)
    world.run(sim, lambda s: s.take_output())
    simulation = time.perf_counter() - started
    assert sim.count == EVENTS

    raw = raw_insert_seconds(tmp_path / "demo.db", tmp_path / "raw.db")
    build_rate, raw_rate = EVENTS / build, EVENTS / raw
    streams = sum(manifest["streams"].values())
    print()
    print(
        f"demo build of {EVENTS:,} events ({streams:,} streams, {manifest['snapshots']:,} snapshots)"
    )
    print(f"{'figure':<46}{'seconds':>10}{'events/s':>12}")
    print(f"{'build_demo (what `eventscope demo` runs)':<46}{build:>10.2f}{build_rate:>12,.0f}")
    print(
        f"{'  of which: simulation alone (no store)':<46}{simulation:>10.2f}{EVENTS / simulation:>12,.0f}"
    )
    print(f"{'raw sqlite3 executemany of the same rows':<46}{raw:>10.2f}{raw_rate:>12,.0f}")
    print(f"ratio build rate / raw insert rate: {build_rate / raw_rate:.2f}x")
    print(f"target for 1M events: <= 40 s; this run: {build:.1f} s for {EVENTS:,}")
