"""JSON Lines at scale (issue 6's benchmark): a 1M-line file opened to the first stream
list, `state` of its largest stream, and the index build rate.

Baselines measured in the same run on the same file: reading and splitting every line
(the I/O floor) and `orjson.loads` of every line (the parse floor; the index must parse
each line once to validate it). Figures are printed with ratios; nothing asserts on wall
time. `open` indexes a file this large with two processes (`store.sources.jsonl.parallel`); the
one-process build is timed too, and its CPU time relative to the parse floor holds steady
when other processes share the two cores. Run with:

    .venv/bin/python -m pytest tests/benchmarks/test_sources_bench.py -m benchmark -s

EVENTSCOPE_BENCH_LINES changes the file size (default 1,000,000 lines, ~100k streams,
one stream of 5% of the lines).
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import psutil
import pytest
from eventscope.domain.engine import Engine
from eventscope.store import open_source
from eventscope.store.sources.jsonl.index import build_index

LINES = int(os.environ.get("EVENTSCOPE_BENCH_LINES", "1000000"))
BIG = "acct-big"


def make_file(path: Path, lines: int) -> None:
    """~200-byte lines like a real export: 100k streams, one big stream, times in order."""
    rnd = random.Random(6)
    streams = max(lines // 10, 1)
    chunk: list[bytes] = []
    with open(path, "wb") as out:
        for i in range(1, lines + 1):
            stream = BIG if i % 20 == 0 else f"acct-{rnd.randrange(streams)}"
            second, micro = divmod(i * 1000, 1_000_000)
            chunk.append(
                orjson.dumps(
                    {
                        "stream_id": stream,
                        "stream_type": "account",
                        "event_type": ("Deposited", "Withdrawn")[i % 2],
                        "data": {"amount": rnd.randrange(1, 1000), "note": "n" * 40, "i": i},
                        "metadata": {"actor": f"u{i % 7}", "correlation_id": f"c-{i // 3}"},
                        "recorded_at": f"2026-01-01T{second // 3600 % 24:02d}:"
                        f"{second // 60 % 60:02d}:{second % 60:02d}.{micro:06d}Z",
                    }
                )
            )
            if len(chunk) == 10000:
                out.write(b"\n".join(chunk) + b"\n")
                chunk = []
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")


def cpu(action: Callable[[], object]) -> float:
    """CPU seconds of this process: steadier than wall time on a shared machine."""
    gc.collect()
    start = time.process_time()
    action()
    return time.process_time() - start


def timed(action: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def read_floor(path: Path) -> int:
    count = 0
    with open(path, "rb", buffering=0) as raw:
        pending = b""
        while chunk := raw.read(1 << 22):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            count += len(lines)
    return count


def parse_floor(path: Path) -> int:
    loads = orjson.loads
    count = 0
    with open(path, "rb", buffering=0) as raw:
        pending = b""
        while chunk := raw.read(1 << 22):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                loads(line)
                count += 1
    return count


@pytest.mark.benchmark
def test_jsonl_at_a_million_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "big.jsonl"
    made, _ = timed(lambda: make_file(path, LINES))
    size_mb = path.stat().st_size / 1e6
    process = psutil.Process()

    t_read, n_read = timed(lambda: read_floor(path))
    t_parse, n_parse = timed(lambda: parse_floor(path))
    assert n_read == n_parse == LINES

    rss_before = process.memory_info().rss
    t_open, source = timed(lambda: open_source(str(path)))  # indexes, then caches
    t_list, page = timed(lambda: source.streams(limit=100))
    rss_open = process.memory_info().rss - rss_before
    assert source.event_count() == LINES and len(page) == 100
    cpu_parse = cpu(lambda: parse_floor(path))
    cpu_index = cpu(lambda: build_index(path, parallel=False))
    t_one, _ = timed(lambda: build_index(path, parallel=False))
    t_warm, warm = timed(lambda: open_source(str(path)))  # the cached index
    t_warm_list, _ = timed(lambda: warm.streams(limit=100))
    warm.close()

    info = source.stream_info(BIG)
    assert info is not None and info.version == LINES // 20
    engine = Engine(source)
    t_state, state = timed(lambda: engine.state(BIG))
    t_state_again, _ = timed(lambda: engine.state(BIG, version=info.version // 2))
    t_read_stream, events = timed(lambda: sum(1 for _ in source.read_stream(BIG)))
    assert events == info.version and state.version == info.version
    source.close()

    # End to end, as a user runs it: a fresh process indexes the file and prints the state.
    eventscope = str(Path(sys.executable).parent / "eventscope")
    t_cli, result = timed(
        lambda: subprocess.run(
            [eventscope, "state", str(path), BIG, "--json"], capture_output=True, check=False
        )
    )
    assert result.returncode == 0, result.stderr

    rate = LINES / t_open
    ratio = cpu_index / cpu_parse
    rows = [
        ("file", f"{LINES:,} lines, {size_mb:,.0f} MB (made in {made:.1f} s)", ""),
        ("I/O floor: read + split", f"{t_read:.2f} s = {LINES / t_read:,.0f} lines/s", ""),
        ("parse floor: + orjson.loads", f"{t_parse:.2f} s = {LINES / t_parse:,.0f} lines/s", ""),
        (
            "open (index build)",
            f"{t_open:.2f} s = {rate:,.0f} lines/s",
            f"{t_open / t_parse:.2f}x parse floor (budget >= 200k lines/s)",
        ),
        (
            "index build in one process",
            f"{t_one:.2f} s = {LINES / t_one:,.0f} lines/s",
            f"open splits files >= 32 MiB over two processes: {t_one / t_open:.2f}x faster",
        ),
        (
            "index build (one process), CPU time / parse floor CPU",
            f"{ratio:.2f}x",
            f"= {1_000_000 / ratio:,.0f} lines/s at DESIGN's 1.0M loads/s",
        ),
        ("first stream list (100)", f"{t_list * 1000:.1f} ms", ""),
        ("open -> first stream list (cold)", f"{t_open + t_list:.2f} s", "index built"),
        ("open -> first stream list (warm)", f"{t_warm + t_warm_list:.2f} s", "cached index"),
        ("RSS added by the open source", f"{rss_open / 1e6:,.0f} MB", ""),
        (f"state of {BIG} ({info.version:,} events)", f"{t_state * 1000:.0f} ms", "cold"),
        ("state at half way (same timeline)", f"{t_state_again * 1000:.1f} ms", "checkpointed"),
        (f"read_stream {BIG}", f"{t_read_stream * 1000:.0f} ms", ""),
        ("`eventscope state FILE acct-big --json`", f"{t_cli:.2f} s", "fresh process"),
    ]
    print()
    print(f"{'what':42s} {'figure':44s} note")
    for what, figure, note in rows:
        print(f"{what:42s} {figure:44s} {note}")
