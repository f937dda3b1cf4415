"""The Marten source at scale (issue 14): a streams page at 100k streams, and the replay
of a 10k-event stream against the bare floor measured in the same run (the same SQL
through psycopg plus `orjson.loads` of each payload, nothing else). Figures are printed
with ratios; the budgets (page <= 5 ms, replay <= 2x the floor) are asserted loosely, on
the median of several runs, because two cores are shared.

The tables are made from Marten's published DDL and filled with SQL (Marten cannot run
here): uuid stream ids (Marten's default), the metadata columns, 100k one-event streams
plus one stream of 10k events, and a high-water mark, so every query carries the cap.

    .venv/bin/python -m pytest tests/benchmarks/test_marten_bench.py -m benchmark -s
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable

import orjson
import pytest
from eventscope.store import open_source

from tests.fixtures.foreign.pg import libpq_url
from tests.sources.marten_tables import connect, create_tables

STREAMS = 100_000
BIG_EVENTS = 10_000
BIG = "00000000-0000-4000-8000-00000000b16b"


def fill(url: str, schema: str) -> None:
    with connect(url) as conn:
        create_tables(conn, schema, uuid_ids=True, conjoined=False, metadata=True)
        conn.execute(
            f"INSERT INTO {schema}.mt_streams (id, type, version, timestamp, created) "
            "SELECT md5(i::text)::uuid, 'account', 1, now(), now() "
            f"FROM generate_series(1, {STREAMS}) i"
        )
        conn.execute(
            f"INSERT INTO {schema}.mt_events (seq_id, id, stream_id, version, data, type, "
            "timestamp, tenant_id, mt_dotnet_type, correlation_id, user_name) "
            "SELECT i * 2, md5('e' || i)::uuid, md5(i::text)::uuid, 1, "
            "jsonb_build_object('Amount', i, 'Note', repeat('n', 40), 'Tags', jsonb_build_array('a', 'b')), "
            "'account_opened', now(), '*DEFAULT*', 'Bank.AccountOpened, Bank', md5(i::text), 'teller' "
            f"FROM generate_series(1, {STREAMS}) i"
        )
        conn.execute(
            f"INSERT INTO {schema}.mt_streams (id, type, version, timestamp, created) "
            f"VALUES ('{BIG}', 'ledger', {BIG_EVENTS}, now(), now())"
        )
        conn.execute(
            f"INSERT INTO {schema}.mt_events (seq_id, id, stream_id, version, data, type, "
            "timestamp, tenant_id, mt_dotnet_type, correlation_id, user_name) "
            f"SELECT {STREAMS * 2} + i, md5('b' || i)::uuid, '{BIG}', i, "
            "jsonb_build_object('Amount', i, 'Note', repeat('n', 40), 'Line', jsonb_build_object('Sku', 'S-' || i)), "
            "'entry_posted', now(), '*DEFAULT*', 'Bank.EntryPosted, Bank', md5(i::text), 'teller' "
            f"FROM generate_series(1, {BIG_EVENTS}) i"
        )
        conn.execute(
            f"INSERT INTO {schema}.mt_event_progression (name, last_seq_id) "
            f"VALUES ('HighWaterMark', {STREAMS * 2 + BIG_EVENTS})"
        )
        conn.execute(f"ANALYZE {schema}.mt_events")
        conn.execute(f"ANALYZE {schema}.mt_streams")


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.benchmark
@pytest.mark.postgres
def test_marten_streams_page_and_replay(pg_url: str, pg_schema: str) -> None:
    fill(pg_url, pg_schema)
    source = open_source(f"{pg_url}?schema={pg_schema}")
    try:
        first = source.streams(limit=100)
        middle = first[50].stream_id.replace(first[50].stream_id[:2], "7f", 1)
        source.streams(after=middle, limit=100)  # warm the pool and the plans
        page_start = median_seconds(lambda: source.streams(limit=100), 30)
        page_middle = median_seconds(lambda: source.streams(after=middle, limit=100), 30)
        page_prefix = median_seconds(lambda: source.streams(prefix="a1", limit=100), 30)
        assert source.count_streams() == STREAMS + 1
        t_count = median_seconds(source.count_streams, 5)

        import psycopg

        # The floors: the source's own query for the stream, run bare through psycopg in
        # one statement (all rows at once, no keyset chunks) with `orjson.loads` of each
        # payload; and the payload column alone.
        columns = source._decode.select  # type: ignore[attr-defined]
        same_sql = (
            f"SELECT {columns} FROM mt_events e WHERE e.stream_id = %s::uuid ORDER BY e.version"
        )
        data_sql = "SELECT data::text FROM mt_events WHERE stream_id = %s::uuid ORDER BY version"
        with psycopg.connect(libpq_url(pg_url), options=f"-c search_path={pg_schema}") as conn:

            def floor(sql: str, index: int) -> int:
                loads = orjson.loads
                rows = conn.execute(sql, (BIG,)).fetchall()
                for row in rows:
                    loads(row[index])
                return len(rows)

            assert floor(same_sql, 7) == floor(data_sql, 0) == BIG_EVENTS
            t_floor = median_seconds(lambda: floor(same_sql, 7), 7)
            t_data_floor = median_seconds(lambda: floor(data_sql, 0), 7)
        assert len(list(source.read_stream(BIG))) == BIG_EVENTS
        # Consumed as a fold consumes it (events not kept), like the floor's payloads.
        t_replay = median_seconds(lambda: deque(source.read_stream(BIG), maxlen=0), 7)
    finally:
        source.close()
    ratio = t_replay / t_floor
    print(
        f"\nMarten source, {STREAMS:,} streams:\n"
        f"  streams page (100), first:        {page_start * 1000:.2f} ms (budget 5 ms)\n"
        f"  streams page (100), after middle: {page_middle * 1000:.2f} ms\n"
        f"  streams page (100), prefix 'a1':  {page_prefix * 1000:.2f} ms\n"
        f"  count_streams():                   {t_count * 1000:.1f} ms\n"
        f"  replay of {BIG_EVENTS:,} events: {t_replay * 1000:.1f} ms = "
        f"{BIG_EVENTS / t_replay:,.0f} events/s\n"
        f"  floor (same SQL + orjson.loads): {t_floor * 1000:.1f} ms -> ratio {ratio:.2f}x "
        "(budget 2x)\n"
        f"  floor (data column only + orjson.loads): {t_data_floor * 1000:.1f} ms -> ratio "
        f"{t_replay / t_data_floor:.2f}x"
    )
    assert page_start < 0.02 and page_middle < 0.02  # loose: 5 ms is the budget on a quiet box
    assert ratio < 3
