"""Emmett (issue 13's benchmark): replay of a 10k-event stream through the Emmett source
against a bare `SELECT` of the same rows and columns `ORDER BY stream_position` plus an
`orjson.loads` of each payload and a `dict.update` fold (the native store's floor), on SQLite and on PostgreSQL, as a ratio in one run (budget: within 2x).

The stores hold Emmett's schema as Emmett created it (the committed fixtures), with one
stream of 10,000 events added beside the fixture's history. Each figure is the best of
seven interleaved wall-clock runs (the server's share of the work is not this process's CPU time).
Run with:

    .venv/bin/python -m pytest tests/benchmarks/test_emmett_bench.py -m benchmark -s
"""

from __future__ import annotations

import gc
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from eventscope.domain.engine import Engine
from eventscope.store import open_source
from eventscope.store.sources.emmett.dialect import event_columns
from sqlalchemy.pool import NullPool

from tests.fixtures.foreign.committed import EMMETT_PG_DUMP, EMMETT_SQLITE_FILE
from tests.fixtures.foreign.pg import loaded_dump, settle_transaction_ids

EVENTS = 10_000
ROUNDS = 7
STREAM = "ledger-bench"


def _payload(i: int) -> tuple[str, str]:
    data = {"amount": i % 997, "note": "n" * 40, "i": i, "tags": ["a", "b"]}
    meta = {"correlationId": f"c-{i // 3}", "userId": f"u{i % 7}"}
    return orjson.dumps(data).decode(), orjson.dumps(meta).decode()


def best_of(action: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def fold(rows: Iterator[Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for data in rows:
        state.update(data)
    return state


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    path = tmp_path / "emmett.sqlite"
    shutil.copyfile(EMMETT_SQLITE_FILE, path)
    conn = sqlite3.connect(path)
    with conn:
        rows = []
        for i in range(1, EVENTS + 1):
            data, meta = _payload(i)
            rows.append((STREAM, i, data, meta, str(i - 1), f"Booked{i % 3}", f"m-{i}"))
        conn.executemany(
            "INSERT INTO emt_messages (stream_id, stream_position, partition, message_kind, "
            "message_data, message_metadata, message_schema_version, message_type, "
            "message_id, is_archived) VALUES (?, ?, 'emt:default', 'E', ?, ?, ?, ?, ?, false)",
            rows,
        )
    conn.close()
    return str(path)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[str]:
    with loaded_dump(pg_url, EMMETT_PG_DUMP, prefix="es_emmett_bench") as url:
        engine = sa.create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            payloads = [_payload(i) for i in range(1, EVENTS + 1)]
            conn.exec_driver_sql(
                "SELECT emt_append_to_stream(%s::text[], %s::jsonb[], %s::jsonb[], %s::text[], "
                "%s::text[], %s::text[], %s, 'ledger', 0, 'emt:default')",
                (
                    [f"m-{i}" for i in range(1, EVENTS + 1)],
                    [d for d, _m in payloads],
                    [m for _d, m in payloads],
                    ["1"] * EVENTS,
                    [f"Booked{i % 3}" for i in range(1, EVENTS + 1)],
                    ["E"] * EVENTS,
                    STREAM,
                ),
            )
        engine.dispose()
        settle_transaction_ids(url)
        yield url


def _bare_sqlite(location: str) -> Callable[[], object]:
    def run() -> object:
        conn = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                f"SELECT {event_columns(False)} FROM emt_messages WHERE stream_id = ? "
                "ORDER BY stream_position",
                (STREAM,),
            ).fetchall()
        finally:
            conn.close()
        return fold(orjson.loads(r[4]) for r in rows)

    return run


def _bare_pg(location: str) -> Callable[[], object]:
    engine = sa.create_engine(location)

    def run() -> object:
        with engine.connect() as conn:
            cursor = conn.connection.cursor()
            cursor.execute(
                f"SELECT {event_columns(True)} FROM emt_messages WHERE stream_id = %s "
                "ORDER BY stream_position",
                (STREAM,),
            )
            rows = cursor.fetchall()
            cursor.close()
        return fold(orjson.loads(r[4]) for r in rows)

    return run


def _measure(location: str, bare: Callable[[], object], label: str) -> float:
    with open_source(location) as source:
        assert sum(1 for _ in source.read_stream(STREAM)) == EVENTS
        baseline = replay = state = float("inf")
        for _ in range(ROUNDS):  # interleaved, so another process's burst hits all alike
            baseline = min(baseline, best_of(bare, 1))
            replay = min(
                replay, best_of(lambda: fold(e.data for e in source.read_stream(STREAM)), 1)
            )
            state = min(state, best_of(lambda: Engine(source).state(STREAM), 1))
        engine = Engine(source)
        assert engine.state(STREAM).version == EVENTS
    ratio = replay / baseline
    print(f"\nEmmett {label}: replay of a {EVENTS:,}-event stream")
    print(f"  bare SELECT + orjson fold        {baseline * 1000:8.1f} ms")
    print(f"  source.read_stream + same fold   {replay * 1000:8.1f} ms  {ratio:.2f}x")
    print(f"  domain Engine.state (generic)    {state * 1000:8.1f} ms  {state / baseline:.2f}x")
    return ratio


@pytest.mark.benchmark
def test_emmett_sqlite_replay(sqlite_store: str) -> None:
    assert _measure(sqlite_store, _bare_sqlite(sqlite_store), "SQLite") <= 2.0


@pytest.mark.benchmark
@pytest.mark.postgres
def test_emmett_postgres_replay(pg_store: str) -> None:
    assert _measure(pg_store, _bare_pg(pg_store), "PostgreSQL") <= 2.0
