"""Import benchmark: `import_history` of a JSON Lines history into a native store, against
the floor of writing the same rows raw, same machine, same run (only ratios mean much on
a shared 2-core box; issue 19 also names an absolute goal, >= 20k events/s into
PostgreSQL).

Run: EVENTSCOPE_TEST_PG_URL=... .venv/bin/python -m pytest \
         tests/benchmarks/test_import_bench.py -m benchmark -s

Figures (medians of REPEATS runs, alternating eventscope and the floor):
* into PostgreSQL: events/s, and the ratio to a raw psycopg `COPY` of the exported rows
  (all 15 columns, the chain already computed) into a bare table;
* into SQLite: events/s, and the ratio to a raw `sqlite3` executemany of the same rows
  into a table with the store's schema.
The history: EVENTS events over 2,000 streams, ~200-byte payloads, written by `export`
(with its hash chain, so the import reads what a real hand-over carries).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
import uuid
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from eventscope.store import EventStore, NewEvent, open_source
from eventscope.store.native.importing import import_history
from eventscope.store.sources.jsonl.export import write_jsonl

pytestmark = pytest.mark.benchmark

REPEATS = int(os.environ.get("EVENTSCOPE_BENCH_REPEATS", "3"))
EVENTS = int(os.environ.get("EVENTSCOPE_BENCH_IMPORT_EVENTS", "20000"))
STREAMS = 2000
ROW_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, actor, correlation_id, causation_id, hash"
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("import-bench")
    store = EventStore.open(folder / "origin.db", synchronous="NORMAL")
    items = []
    for n in range(EVENTS):
        stream = n % STREAMS
        data = {"account": f"acct-{stream:05d}", "amount": n % 99_991, "note": "settlement"}
        meta = {"actor": f"user-{stream % 50}", "correlation_id": f"c-{stream}-{n // 40}"}
        items.append((f"acct-{stream:05d}", [NewEvent("Settled", data, meta)]))
    for start in range(0, len(items), 1000):
        store.append_streams(items[start : start + 1000], return_records=False)
    path = folder / "history.jsonl"
    with path.open("wb") as out:
        write_jsonl(store, out)
    store.close()
    return path


def rows_of(path: Path) -> list[tuple]:
    out = []
    for line in path.read_bytes().splitlines():
        e = orjson.loads(line)
        meta = e["metadata"]
        out.append(
            (
                e["position"],
                e["event_id"],
                e["stream_id"],
                e["stream_type"],
                e["version"],
                e["event_type"],
                e["schema_version"],
                orjson.dumps(e["data"]).decode(),
                orjson.dumps(meta).decode(),
                e["occurred_at"],
                e["recorded_at"],
                meta.get("actor"),
                meta.get("correlation_id"),
                meta.get("causation_id"),
                e["hash"],
            )
        )
    return out


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def import_once(history: Path, target: str, **options) -> float:
    store = EventStore.open(target, **options)
    source = open_source(str(history), read_only=True)
    try:
        return timed(lambda: import_history(source, store))
    finally:
        source.close()
        store.close()


def report(name: str, ours: list[float], floor: list[float]) -> float:
    ours_s, floor_s = statistics.median(ours), statistics.median(floor)
    ratio = floor_s / ours_s
    print(
        f"\n[bench] import into {name}: {EVENTS / ours_s:,.0f} events/s "
        f"({ours_s:.2f} s); raw floor {EVENTS / floor_s:,.0f} events/s; "
        f"eventscope at {ratio:.2f}x the floor"
    )
    return ratio


@pytest.mark.postgres
def test_import_into_postgresql(history: Path, pg_url: str) -> None:
    rows = rows_of(history)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    ours, floor = [], []
    try:
        for _ in range(REPEATS):
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            with engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            ours.append(import_once(history, pg_url, schema=schema))
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                with raw.cursor() as cursor:
                    cursor.execute(f'CREATE TABLE "{schema}".bare (LIKE "{schema}".events)')
                    raw.commit()

                    def copy(cursor=cursor, raw=raw, schema=schema) -> None:
                        with cursor.copy(f'COPY "{schema}".bare ({ROW_COLUMNS}) FROM STDIN') as c:
                            for row in rows:
                                c.write_row(row)
                        raw.commit()

                    floor.append(timed(copy))
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        engine.dispose()
    report("PostgreSQL", ours, floor)


def test_import_into_sqlite(history: Path, tmp_path: Path) -> None:
    rows = rows_of(history)
    ours, floor = [], []
    for attempt in range(REPEATS):
        ours.append(import_once(history, str(tmp_path / f"ours-{attempt}.db")))
        raw_path = tmp_path / f"raw-{attempt}.db"
        EventStore.open(raw_path).close()  # the same schema and indexes
        conn = sqlite3.connect(raw_path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        marks = ", ".join("?" * 15)

        def insert(conn: sqlite3.Connection = conn, marks: str = marks) -> None:
            for start in range(0, len(rows), 5000):
                conn.execute("BEGIN")
                conn.executemany(
                    f"INSERT INTO events ({ROW_COLUMNS}) VALUES ({marks})",
                    rows[start : start + 5000],
                )
                conn.execute("COMMIT")

        floor.append(timed(insert))
        conn.close()
    report("SQLite", ours, floor)
