"""Message DB at scale (issue 13's budgets), run on demand:

    .venv/bin/python -m pytest tests/benchmarks/test_messagedb_bench.py -m benchmark -s

A Message DB created from the committed dump's schema (the real installer's table and
indexes), filled with EVENTSCOPE_BENCH_MDB_MESSAGES messages (default 1,000,000: ~100k
streams plus one 10k-message stream) by one INSERT ... SELECT over generate_series --
`write_message` one call at a time would take minutes and is not what is measured here.

Figures, each against a floor measured in the same run:
* first catalog build vs a bare ``SELECT stream_name, max(position) ... GROUP BY`` (<= 3x);
* a streams page of 100 once the catalog exists (<= 5 ms);
* replay (generic fold to the latest state) of the 10k stream vs a bare psycopg
  ``SELECT ... ORDER BY position`` + orjson fold of the same rows (<= 2x).
Ratios are printed and asserted loosely (the machine is shared); see the docs for the
figures measured.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from eventscope.domain.timeline import Timeline
from eventscope.store import open_source

from tests.fixtures.foreign.pg import libpq_url
from tests.sources.messagedb_helpers import empty_message_db

pytestmark = [pytest.mark.benchmark, pytest.mark.postgres]
MESSAGES = int(os.environ.get("EVENTSCOPE_BENCH_MDB_MESSAGES", "1000000"))
BIG = "account-big"
BIG_COUNT = 10_000


def fill(url: str, messages: int) -> None:
    """`messages - BIG_COUNT` messages over ~messages/10 streams, then the big stream's
    10k interleaved at the end (positions 0-based per stream, as write_message makes)."""
    streams = max((messages - BIG_COUNT) // 10, 1)
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "INSERT INTO message_store.messages (stream_name, position, type, data, metadata)"
            " SELECT 'account-' || (i %% %s), i / %s, 'Deposited',"
            " jsonb_build_object('amount', i %% 1000, 'note', repeat('n', 40), 'i', i),"
            " jsonb_build_object('correlationStreamName', 'fundsTransfer-' || (i / 3))"
            " FROM generate_series(0, %s) AS i",
            (streams, streams, messages - BIG_COUNT - 1),
        )
        conn.execute(
            "INSERT INTO message_store.messages (stream_name, position, type, data, metadata)"
            " SELECT %s, i, 'Deposited', jsonb_build_object('amount', i %% 1000, 'i', i), NULL"
            " FROM generate_series(0, %s) AS i",
            (BIG, BIG_COUNT - 1),
        )
        conn.execute("ANALYZE message_store.messages")


def timed(func: Callable[[], Any], repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        func()
        out.append(time.perf_counter() - began)
    return out


def floor_group_by(url: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "SELECT stream_name, max(position) FROM message_store.messages GROUP BY stream_name"
        ).fetchall()


def floor_replay(url: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    loads = orjson.loads
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT global_position, position, time, type, data::text, metadata::text, id::text"
            " FROM message_store.messages WHERE stream_name = %s ORDER BY position",
            (BIG,),
        ).fetchall()
    for row in rows:
        state.update(loads(row[4]))
    return state


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def test_message_db_catalog_paging_and_replay(
    request: pytest.FixtureRequest,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = empty_message_db(pg_url, request.addfinalizer)
    fill(url, MESSAGES)
    floor_group_by(url)  # warm the table into the server's cache

    group_by = statistics.median(timed(lambda: floor_group_by(url), 3))
    builds = []
    for attempt in range(2):
        monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(tmp_path / f"cache-{attempt}"))
        builds += timed(lambda: open_source(url).close())
    build = min(builds)

    source = open_source(url)
    ids = [s.stream_id for s in source.streams(limit=2000)]
    rnd = random.Random(13)
    pages = timed(lambda: source.streams(after=rnd.choice(ids), limit=100), 200)
    page = statistics.median(pages)

    def replay() -> None:
        Timeline(source, BIG).state_at()

    replay()
    floor_replay(url)
    floors, replays, reads = [], [], []
    for _ in range(7):  # interleaved, so drift hits both alike
        floors += timed(lambda: floor_replay(url))
        reads += timed(lambda: sum(1 for _ in source.read_stream(BIG)))
        replays += timed(replay)
    floor, ours, read = (statistics.median(x) for x in (floors, replays, reads))
    state = Timeline(source, BIG).state_at().state
    assert state["i"] == BIG_COUNT - 1
    count = source.count_streams()
    source.close()

    print(f"\nMessage DB, {MESSAGES:,} messages, {count:,} streams")
    print(f"{'what':56} {'figure':>12} {'ratio':>8}  target")
    rows = [
        ("floor: SELECT stream_name, max(position) GROUP BY", ms(group_by), "1.00x", ""),
        ("first catalog build (open, cache empty)", ms(build), f"{build / group_by:.2f}x",
         "<= 3x"),
        ("streams page of 100 (catalog exists), median", ms(page), "", "<= 5 ms"),
        ("floor: psycopg SELECT 10k rows + orjson fold", ms(floor), "1.00x", ""),
        ("read_stream alone (RecordedEvents)", ms(read), f"{read / floor:.2f}x", ""),
        ("replay: Timeline generic fold to latest", ms(ours), f"{ours / floor:.2f}x", "<= 2x"),
    ]  # fmt: skip
    for what, figure, ratio, target in rows:
        print(f"{what:56} {figure:>12} {ratio:>8}  {target}")
    assert page < 0.05 and ours / floor < 4 and build / group_by < 6  # loose: shared cores
