"""Scale curve: the cost of each operation per event (or per call) on demo stores of 10k,
100k and 1M events, so that worse-than-linear growth shows at a glance.

    .venv/bin/python -m pytest tests/benchmarks/test_scale_curve.py -m benchmark -s

For each size the demo generator builds a fresh store (the build's cost per event is the
"append" line: the demo's pipelined bulk append, hash chain and catalog included), then:
* verify: the whole chain walk, per event;
* stream page: one page of 100 from the catalog after a random stream id (median of 50),
  per call -- should stay flat;
* state at a random version: a cold engine's `state(stream, version=V)` of a random
  stream at a random V (median of 20), per call -- grows with the stream, not the store;
* first paint: `eventscope open STORE` in tmux until the first stream id shows (the
  harness of `test_tui_open_bench.py`), per call -- should stay flat.
Printed as a table and a log-log plot (plotext); never asserted (a shared, noisy box).
The README's performance section shows the last run.
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_tui_open_bench import EVENTSCOPE, catalog_facts, first_paint, tmux_server

pytestmark = [
    pytest.mark.benchmark,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SIZES = (10_000, 100_000, 1_000_000)
__all__ = ["tmux_server"]  # the fixture, re-exported so pytest finds it here


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(path: Path, events: int) -> dict[str, float]:
    from eventscope.demo_data import build_demo
    from eventscope.explorer.engine_factory import build_engine
    from eventscope.store import open_source

    started = time.perf_counter()
    build_demo(path, events=events, force=True)
    build = time.perf_counter() - started
    rng = random.Random(events)
    with open_source(str(path), read_only=True) as source:
        started = time.perf_counter()
        assert source.verify().ok
        verify = time.perf_counter() - started
        ids = [info.stream_id for info in source.streams(limit=5000)]
        page = median_seconds(lambda: source.streams(after=rng.choice(ids), limit=100), 50)

        def cold_state() -> None:
            stream = rng.choice(ids)
            length = source.stream_info(stream).version
            build_engine(source, None).state(stream, version=rng.randint(1, length))

        state = median_seconds(cold_state, 20)
    first, *_ = catalog_facts(path)
    paint, _rss = first_paint(f"{EVENTSCOPE} open {path}", first)
    return {
        "append (µs/event)": build / events * 1e6,
        "verify (µs/event)": verify / events * 1e6,
        "stream page (ms)": page * 1e3,
        "state at random V (ms)": state * 1e3,
        "first paint (s)": paint,
    }


def test_scale_curve(tmp_path: Path, tmux_server: None) -> None:
    results = {size: measure(tmp_path / f"demo-{size}.db", size) for size in SIZES}
    names = list(results[SIZES[0]])
    print("\nscale curve (demo stores; per event or per call)")
    print(f"{'operation':<26}" + "".join(f"{size:>14,}" for size in SIZES))
    for name in names:
        print(f"{name:<26}" + "".join(f"{results[size][name]:>14.3f}" for size in SIZES))
    try:
        import plotext as plt
    except ImportError:  # plotext comes with textual-plotext; the table is enough
        return
    plt.clear_figure()
    plt.plotsize(72, 18)
    for name, marker in zip(names, "ovspf", strict=False):
        values = [results[size][name] for size in SIZES]
        plt.plot(list(SIZES), values, label=f"{marker}: {name}", marker=marker)
    plt.xscale("log")
    plt.yscale("log")
    plt.xlabel("events in the store")
    plt.theme("clear")
    print(re.sub(r"\x1b\[[0-9;]*m", "", plt.build()))  # plain text, for the README
