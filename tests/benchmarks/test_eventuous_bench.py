"""The Eventuous source at scale (issue 14's performance lines): a streams page at 100k
streams, and the replay of a 10k-event stream against the bare SQL-plus-parse floor.

The tables are made from Eventuous's published DDL (tests/fixtures/foreign/eventuous/
ddl.py) and bulk-filled with `generate_series` in the shape `append_events` leaves them
(0-based positions, `streams.version` the last position, one `created` per append,
Eventuous's metadata keys); Eventuous itself cannot run here. The floor is what any
reader must do: one SELECT of the stream's rows through psycopg and `orjson.loads` of
every payload and metadata document. Figures are printed with ratios; the page and the
replay ratio are asserted loosely (the machine is shared). Run with:

    EVENTSCOPE_TEST_PG_URL=... .venv/bin/python -m pytest \
        tests/benchmarks/test_eventuous_bench.py -m benchmark -s

EVENTSCOPE_BENCH_STREAMS changes the number of streams (default 100,000).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator

import orjson
import psycopg
import pytest
import sqlalchemy as sa
from eventscope.domain.engine import Engine
from eventscope.store import open_source
from sqlalchemy.pool import NullPool

from tests.fixtures.foreign.eventuous.ddl import schema_ddl
from tests.fixtures.foreign.pg import libpq_url

STREAMS = int(os.environ.get("EVENTSCOPE_BENCH_STREAMS", "100000"))
PER_STREAM = 3
BIG = "Booking-big"
BIG_EVENTS = 10_000

pytestmark = [pytest.mark.benchmark, pytest.mark.postgres]


def timed(action: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def best_of(action: Callable[[], object], runs: int = 5) -> float:
    return min(timed(action)[0] for _ in range(runs))


@pytest.fixture(scope="module")
def store(pg_url: str) -> Iterator[tuple[str, str]]:
    """(database URL, schema) holding STREAMS small streams and one of BIG_EVENTS."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        conn.execute(schema_ddl(schema))
        conn.execute(
            f"INSERT INTO {schema}.streams (stream_name, version) "
            f"SELECT 'Booking-' || lpad(i::text, 6, '0'), {PER_STREAM - 1} "
            f"FROM generate_series(1, {STREAMS}) i"
        )
        conn.execute(
            f"INSERT INTO {schema}.streams (stream_name, version) VALUES (%s, %s)",
            (BIG, BIG_EVENTS - 1),
        )
        conn.execute(
            f"""INSERT INTO {schema}.messages (message_id, message_type, stream_id,
                stream_position, json_data, json_metadata, created)
            SELECT gen_random_uuid(), 'V1.PaymentRecorded', s, p,
                jsonb_build_object('bookingId', s::text, 'amount', (s * 7 + p) % 500,
                    'currency', 'EUR', 'note', repeat('n', 40)),
                jsonb_build_object('eventuous.correlation-id', 'c-' || s,
                    'eventuous.causation-id', 'k-' || s || '-' || p,
                    'trace-id', md5(s::text), 'span-id', left(md5(p::text), 16)),
                timestamp '2026-02-02 08:00' + (s * {PER_STREAM} + p) * interval '1 ms'
            FROM generate_series(1, {STREAMS}) s, generate_series(0, {PER_STREAM - 1}) p
            ORDER BY s, p"""
        )
        conn.execute(
            f"""INSERT INTO {schema}.messages (message_id, message_type, stream_id,
                stream_position, json_data, json_metadata, created)
            SELECT gen_random_uuid(), 'V1.PaymentRecorded', {STREAMS + 1}, p,
                jsonb_build_object('bookingId', 'big', 'amount', p % 500,
                    'currency', 'EUR', 'note', repeat('n', 40), 'paid', p),
                jsonb_build_object('eventuous.correlation-id', 'c-big',
                    'eventuous.causation-id', 'k-' || p,
                    'trace-id', md5(p::text), 'span-id', left(md5(p::text), 16)),
                timestamp '2026-02-03 08:00' + (p / 2) * interval '1 s'
            FROM generate_series(0, {BIG_EVENTS - 1}) p"""
        )
        conn.execute(f"ANALYZE {schema}.streams")
        conn.execute(f"ANALYZE {schema}.messages")
    try:
        yield pg_url, schema
    finally:
        engine = sa.create_engine(pg_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def replay_floor(url: str, schema: str) -> int:
    """One SELECT of the big stream's rows and orjson.loads of both documents."""
    loads = orjson.loads
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            f"SELECT m.global_position, m.stream_position, m.message_type, m.json_data::text, "
            f"m.json_metadata::text, m.created, m.message_id::text FROM {schema}.messages m "
            f"WHERE m.stream_id = (SELECT stream_id FROM {schema}.streams WHERE stream_name = %s) "
            "ORDER BY m.stream_position",
            (BIG,),
        ).fetchall()
    for row in rows:
        loads(row[3])
        loads(row[4])
    return len(rows)


def test_eventuous_streams_page_and_replay(store: tuple[str, str]) -> None:
    url, schema = store
    location = f"{url}?schema={schema}"
    t_open, source = timed(lambda: open_source(location))
    try:
        t_first, page = timed(lambda: source.streams(limit=100))  # type: ignore[attr-defined]
        assert len(page) == 100  # type: ignore[arg-type]
        afters = [f"Booking-{i:06d}" for i in range(1, STREAMS, max(1, STREAMS // 50))]
        pages = []
        for after in afters:
            t, got = timed(lambda a=after: source.streams(after=a, limit=100))  # type: ignore[attr-defined]
            assert got  # type: ignore[truthy-bool]
            pages.append(t)
        t_page_median = statistics.median(pages)
        t_page_p95 = sorted(pages)[int(len(pages) * 0.95) - 1]
        t_info = best_of(lambda: source.stream_info(BIG))  # type: ignore[attr-defined]

        t_floor = best_of(lambda: replay_floor(url, schema))
        count = replay_floor(url, schema)
        assert count == BIG_EVENTS
        t_replay = best_of(lambda: sum(1 for _ in source.read_stream(BIG)))  # type: ignore[attr-defined]
        engine = Engine(source)  # type: ignore[arg-type]
        t_state, state = timed(lambda: engine.timeline(BIG).state_at())
        assert state.version == BIG_EVENTS  # type: ignore[attr-defined]
        t_count = best_of(lambda: source.event_count(), 3)  # type: ignore[attr-defined]
        t_histogram = best_of(lambda: source.event_histogram(60), 3)  # type: ignore[attr-defined]
    finally:
        source.close()  # type: ignore[attr-defined]

    ratio = t_replay / t_floor
    rows = [
        ("store", f"{STREAMS + 1:,} streams, {STREAMS * PER_STREAM + BIG_EVENTS:,} messages", ""),
        ("open (detect + connect)", f"{t_open * 1000:.0f} ms", ""),
        ("first streams page (100)", f"{t_first * 1000:.1f} ms", "loads the name catalog"),
        ("streams page (100), median", f"{t_page_median * 1000:.2f} ms", "budget 5 ms"),
        ("streams page (100), p95", f"{t_page_p95 * 1000:.2f} ms", f"{len(pages)} pages"),
        (f"stream_info {BIG}", f"{t_info * 1000:.2f} ms", ""),
        ("replay floor: SQL + orjson", f"{t_floor * 1000:.0f} ms", f"{BIG_EVENTS:,} events"),
        ("read_stream (replay)", f"{t_replay * 1000:.0f} ms", f"{ratio:.2f}x floor (budget 2x)"),
        ("engine state at the head (cold)", f"{t_state * 1000:.0f} ms", "fold + checkpoints"),
        ("event_count", f"{t_count * 1000:.1f} ms", "count(*) of messages"),
        ("event_histogram(60)", f"{t_histogram * 1000:.0f} ms", "GROUP BY in SQL"),
    ]
    print()
    print(f"{'what':36s} {'figure':40s} note")
    for what, figure, note in rows:
        print(f"{what:36s} {figure:40s} {note}")
    assert t_page_median < 0.005 * 4  # 5 ms budget, slack for a machine shared by seven
    assert ratio < 2.0 * 1.5
