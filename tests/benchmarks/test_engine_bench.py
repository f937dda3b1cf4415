"""Benchmarks of the temporal engine (issue 3), run on demand:

    .venv/bin/python -m pytest tests/benchmarks/test_engine_bench.py -m benchmark -s

Each prints a table with the figures and their ratio to a floor measured in the same run
(raw stdlib `sqlite3` SELECT of the same rows + `orjson.loads` + a trivial fold), because
absolute times on a shared 2-core machine swing by 20-35% between runs. Nothing here
asserts on wall time; the targets are printed next to the figures.

Targets: full replay of a 10k-event stream <= 1.5x the floor; state at 1,000 random
versions of a 100k-event stream after the first pass: median <= 2 ms, p99 <= 10 ms;
projection rebuild >= 100k events/s. RSS is reported for the 100k-event stream.
"""

from __future__ import annotations

import gc
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest
from eventscope.domain.aggregate import Aggregate, applies
from eventscope.domain.engine import Engine
from eventscope.domain.events import DecodedEvent, DomainEvent, EventRegistry
from eventscope.domain.plugin import DomainPlugin
from eventscope.domain.projection import Projection
from eventscope.domain.projection_runner import ProjectionRunner
from eventscope.domain.timeline import AggregateFolder, Timeline
from eventscope.store import EventStore, NewEvent
from pydantic import BaseModel

pytestmark = pytest.mark.benchmark

EVENT_COLUMNS = (
    "position, stream_id, stream_type, version, event_id, event_type, schema_version, "
    "data, metadata, occurred_at, recorded_at, hash"
)


# --- a realistic little domain (~200-byte payloads) ------------------------------------
class Moved(DomainEvent):
    amount: int
    balance_hint: int
    channel: str
    reference: str
    note: str


class AccountState(BaseModel):
    balance: int = 0
    movements: int = 0
    last_channel: str | None = None
    last_reference: str | None = None


class Account(Aggregate[AccountState]):
    stream_type = "account"
    State = AccountState

    @applies(Moved)
    def _moved(state: dict[str, Any], data: dict[str, Any]) -> None:
        state["balance"] += data["amount"]
        state["movements"] += 1
        state["last_channel"] = data["channel"]
        state["last_reference"] = data["reference"]


class Totals(Projection):
    name = "totals"
    handles = (Moved,)

    def initial(self, key: str) -> dict[str, Any]:
        return {"balance": 0, "movements": 0}

    def apply(self, document: dict[str, Any], event: DecodedEvent) -> dict[str, Any]:
        document["balance"] += event.data["amount"]
        document["movements"] += 1
        return document


PLUGIN = DomainPlugin(aggregates={"account": Account}, projections=[Totals()], events=[Moved])


def payload(i: int) -> dict[str, Any]:
    return {
        "amount": (i * 7919) % 2001 - 1000,
        "balance_hint": i,
        "channel": ("atm", "online", "branch")[i % 3],
        "reference": f"ref-{i:08d}-{(i * 31) % 99991:05d}",
        "note": "monthly settlement of invoices and standing orders " + "x" * (i % 17),
    }


def build_store(path: Path, streams: dict[str, int], interleave: int = 100) -> EventStore:
    """Write `streams` {stream_id: n_events} interleaved in batches of `interleave`."""
    store = EventStore.open(path, synchronous="NORMAL")
    written = dict.fromkeys(streams, 0)
    counter = 0
    while any(written[s] < n for s, n in streams.items()):
        batches = []
        for stream_id, total in streams.items():
            if written[stream_id] >= total:
                continue
            size = min(interleave, total - written[stream_id])
            events = []
            for _ in range(size):
                counter += 1
                events.append(NewEvent("Moved", payload(counter), {"actor": f"user-{counter % 7}"}))
            batches.append((stream_id, events, "ANY" and _any(), "account"))
            written[stream_id] += size
        store.append_streams(batches)
    return store


def _any() -> Any:
    from eventscope.store import ANY

    return ANY


def timed(func: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        func()
        out.append(time.perf_counter() - began)
    return out


def raw_floor(path: Path, stream_id: str | None) -> dict[str, Any]:
    """stdlib sqlite3 SELECT of the same rows + orjson.loads + a trivial fold."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if stream_id is None:
            rows = connection.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY position")
        else:
            rows = connection.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY version",
                (stream_id,),
            )
        state: dict[str, Any] = {}
        loads = orjson.loads
        for row in rows:
            state.update(loads(row[7]))
        return state
    finally:
        connection.close()


def table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\n{title}")
    print(f"{'what':52} {'figure':>16} {'ratio':>10}  target")
    for what, figure, ratio, target in rows:
        print(f"{what:52} {figure:>16} {ratio:>10}  {target}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 1e6


def test_full_replay_of_a_10k_event_stream_vs_the_raw_floor(tmp_path: Path) -> None:
    path = tmp_path / "replay.db"
    streams = {"acct-target": 10_000, **{f"acct-{i:03d}": 1_000 for i in range(10)}}
    store = build_store(path, streams)
    store.close()
    store = EventStore.open(path, read_only=True)
    registry = PLUGIN.registry
    repeat = 9

    def generic() -> None:
        Timeline(store, "acct-target").state_at()

    def aggregate() -> None:
        Timeline(
            store, "acct-target", folder=AggregateFolder(Account), registry=registry
        ).state_at()

    def floor() -> None:
        raw_floor(path, "acct-target")

    def store_read() -> None:
        for _ in store.read_stream("acct-target"):
            pass

    floor()
    generic()  # warm the page cache and code paths
    results: dict[str, list[float]] = {"floor": [], "read": [], "generic": [], "aggregate": []}
    for _ in range(repeat):  # interleaved, so drift hits all of them alike
        results["floor"] += timed(floor, 1)
        results["read"] += timed(store_read, 1)
        results["generic"] += timed(generic, 1)
        results["aggregate"] += timed(aggregate, 1)
    base = statistics.median(results["floor"])
    med = {k: statistics.median(v) for k, v in results.items()}
    table(
        "Full replay of a 10k-event stream (interleaved with 10k others), state at latest",
        [
            ("floor: sqlite3 SELECT + orjson.loads + dict.update", ms(base), "1.00x", ""),
            ("store.read_stream alone (RecordedEvents, no fold)", ms(med["read"]),
             f"{med['read'] / base:.2f}x", "(store's share)"),
            ("engine, generic fold (timeline first pass)", ms(med["generic"]),
             f"{med['generic'] / base:.2f}x", "<= 1.5x"),
            ("engine, aggregate appliers (timeline first pass)", ms(med["aggregate"]),
             f"{med['aggregate'] / base:.2f}x", "<= 1.5x"),
        ],
    )  # fmt: skip
    state = Timeline(store, "acct-target", folder=AggregateFolder(Account)).state_at().state
    assert state["movements"] == 10_000
    store.close()


def test_state_at_random_versions_of_a_100k_event_stream(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    build_store(path, {"acct-big": 100_000}, interleave=1000).close()
    store = EventStore.open(path, read_only=True)
    gc.collect()
    rss_before = rss_mb()
    engine = Engine(store, PLUGIN)
    began = time.perf_counter()
    timeline = engine.timeline("acct-big")
    length = timeline.length
    first_pass = time.perf_counter() - began
    gc.collect()
    rss_after = rss_mb()
    rng = random.Random(7)
    versions = [rng.randint(0, length) for _ in range(1000)]
    samples = []
    for version in versions:
        t0 = time.perf_counter()
        timeline.state_at(version)
        samples.append(time.perf_counter() - t0)
    steps = []
    for version in versions[:300]:
        version = max(1, version)
        t0 = time.perf_counter()
        timeline.state_at(version)
        timeline.changes_at(version)
        timeline.event(version)
        steps.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    timeline.blame_at(length)
    blame_first = time.perf_counter() - t0
    blames = []
    for version in versions[:200]:
        t0 = time.perf_counter()
        timeline.blame_at(version)
        blames.append(time.perf_counter() - t0)
    series_t0 = time.perf_counter()
    timeline.series(("balance",))
    series_time = time.perf_counter() - series_t0
    gc.collect()
    rss_end = rss_mb()

    def pct(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))]

    table(
        f"100k-event stream, aggregate fold, K={timeline.k}",
        [
            ("first pass (read + fold + checkpoints)", ms(first_pass), "", ""),
            ("state_at, 1,000 random versions: median", ms(statistics.median(samples)), "",
             "<= 2 ms"),
            ("state_at, 1,000 random versions: p99", ms(pct(samples, 0.99)), "", "<= 10 ms"),
            ("slider step (state+changes+event): median", ms(statistics.median(steps)), "", ""),
            ("slider step (state+changes+event): p99", ms(pct(steps, 0.99)), "", ""),
            ("blame index (first blame, one pass)", ms(blame_first), "", ""),
            ("blame_at after the index: median", ms(statistics.median(blames)), "", ""),
            ("series of one field over 100k versions", ms(series_time), "", ""),
            ("RSS before the timeline", f"{rss_before:.0f} MB", "", ""),
            ("RSS after the first pass", f"{rss_after:.0f} MB",
             f"+{rss_after - rss_before:.0f} MB", ""),
            ("RSS after all of the above", f"{rss_end:.0f} MB",
             f"+{rss_end - rss_before:.0f} MB", ""),
            ("checkpoints + arrays held", f"{timeline.memory_estimate() / 1e6:.1f} MB", "", ""),
        ],
    )  # fmt: skip
    assert timeline.state_at().state["movements"] == 100_000
    store.close()


def test_projection_rebuild_throughput(tmp_path: Path) -> None:
    path = tmp_path / "proj.db"
    streams = {f"acct-{i:04d}": 100 for i in range(1000)}
    build_store(path, streams, interleave=100).close()
    store = EventStore.open(path)
    total = store.head_position()
    runner = ProjectionRunner(store, [Totals()], EventRegistry([Moved]), batch_size=5000)

    def floor() -> None:
        raw_floor(path, None)

    def store_read() -> None:
        for _ in store.read_all(0):
            pass

    floors, reads, rebuilds = [], [], []
    for _ in range(3):
        floors += timed(floor, 1)
        reads += timed(store_read, 1)
        began = time.perf_counter()
        report = runner.rebuild("totals")
        rebuilds.append(time.perf_counter() - began)
        assert report.applied == total
    base = statistics.median(floors)
    rebuild = statistics.median(rebuilds)
    read = statistics.median(reads)
    table(
        f"Projection rebuild over {total:,} events into {len(streams):,} rows (SQLite file)",
        [
            ("floor: sqlite3 SELECT + orjson.loads + dict.update", ms(base), "1.00x", ""),
            ("store.read_all alone (RecordedEvents, no projection)", ms(read),
             f"{read / base:.2f}x", f"{total / read:,.0f} ev/s"),
            ("rebuild (read, decode, apply, write rows+checkpoint)", ms(rebuild),
             f"{rebuild / base:.2f}x", ""),
            ("rebuild throughput", f"{total / rebuild:,.0f} ev/s", "", ">= 100,000 ev/s"),
        ],
    )  # fmt: skip
    rows = store.projection_rows("totals", limit=2000)
    assert len(rows) == 1000 and sum(r.document["movements"] for r in rows) == total
    store.close()


def test_business_time_axis_on_a_100k_event_stream(tmp_path: Path) -> None:
    """The occurred axis: one backdated event in 100 (a day back). Reported next to the
    recorded axis of the same stream in the same run: the first business-time question
    (sort + one pass for the view's checkpoints), then questions at random business times
    (checkpoint + at most K applies), and a new known-at R (a new view)."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    path = tmp_path / "business.db"
    store = EventStore.open(path, synchronous="NORMAL")
    batch = []
    for i in range(100_000):
        back = timedelta(days=1) if i % 100 == 99 else timedelta(0)
        moment = t0 + timedelta(minutes=i)
        batch.append(NewEvent("Moved", payload(i), occurred_at=moment - back, recorded_at=moment))
        if len(batch) == 1000:
            store.append("acct-bt", batch, stream_type="account")
            batch = []
    store.close()
    store = EventStore.open(path, read_only=True)
    engine = Engine(store, PLUGIN)
    timeline = engine.timeline("acct-bt")
    length = timeline.length
    rng = random.Random(11)
    versions = [rng.randint(0, length) for _ in range(300)]
    recorded: list[float] = []
    for version in versions:
        began = time.perf_counter()
        timeline.state_at(version)
        recorded.append(time.perf_counter() - began)
    began = time.perf_counter()
    timeline.state_as_of(t0 + timedelta(days=35))
    first = time.perf_counter() - began
    moments = [t0 + timedelta(minutes=rng.randint(0, length)) for _ in range(300)]
    business = []
    for moment in moments:
        began = time.perf_counter()
        timeline.state_as_of(moment)
        business.append(time.perf_counter() - began)
    began = time.perf_counter()
    timeline.state_as_of(t0 + timedelta(days=35), t0 + timedelta(days=50))
    new_view = time.perf_counter() - began
    floor = statistics.median(recorded)
    median = statistics.median(business)
    table(
        "100k-event stream, business-time axis (1 % backdated), aggregate fold",
        [
            ("state_at (recorded axis), 300 random versions: median", ms(floor), "1.0x", ""),
            ("first state_as_of (sort + view checkpoints)", ms(first), "", ""),
            ("state_as_of, 300 random business times: median", ms(median),
             f"{median / floor:.1f}x", "same order as state_at"),
            ("state_as_of with a new known_at R (a new view)", ms(new_view), "", ""),
            ("memory held (checkpoints, views)", f"{timeline.memory_estimate() / 1e6:.1f} MB",
             "", ""),
        ],
    )  # fmt: skip
    # Everything applied: the sums agree; "last_*" fields follow business-time order.
    every = timeline.state_as_of(t0 + timedelta(days=999)).state
    assert (every["balance"], every["movements"]) == (
        timeline.state_at().state["balance"],
        length,
    )
    store.close()
