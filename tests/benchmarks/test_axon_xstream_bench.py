"""XStream decoding throughput (Axon payloads), run on demand:

    .venv/bin/python -m pytest tests/benchmarks/test_axon_xstream_bench.py -m benchmark -s

The payloads are the Axon fixture's (tests/fixtures/foreign/axon/generate.py, built in
memory, no database): bank and gift-card events of 200-400 bytes with their `<meta-data>`
(traceId, correlationId, userName). The floor, measured in the same run on the same
bytes, is `xml.etree.ElementTree.fromstring` alone: parsing without building any
document. Decoding must also walk the tree, type leaves and name classes, so the figure
to watch is the ratio. Nothing asserts on wall time (shared 2-core machines swing by
20-35% between runs); decoded events/s are printed with their ratio to the floor.
"""

from __future__ import annotations

import gc
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from eventscope.store.sources.axon.xstream import XStreamDocument, decode, decode_metadata

from tests.fixtures.foreign.axon.generate import History, xstream_metadata, xstream_payload

pytestmark = pytest.mark.benchmark

ROUNDS = 7


def best_of(floor: Callable[[], None], ours: Callable[[], None]) -> tuple[float, float]:
    """The fastest of ROUNDS runs of each, alternating floor and decoder so that both see
    the same load; the fastest run is the least disturbed by other processes."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(ROUNDS):
        for which, work in enumerate((floor, ours)):
            gc.collect()
            start = time.perf_counter()
            work()
            times[which].append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def test_xstream_decoding_rate() -> None:
    history = History(seed=41, accounts=400, cards=200)
    pairs = [
        (xstream_payload(e.payload_class, e.fields), xstream_metadata(e.metadata))
        for e in history.events
    ]
    # The floor cannot parse XStream's control-character references (the decoder can);
    # compare on the payloads both read.
    typical = [(p, m) for p, m in pairs if b"&#" not in p + m]
    payloads = [p for p, _ in typical]
    metadata = [m for _, m in typical]
    n = len(payloads)
    assert all(isinstance(decode(p), XStreamDocument) for p in payloads)
    size = sum(map(len, payloads)) / n
    meta_size = sum(map(len, metadata)) / n

    def floor_payloads() -> None:
        for p in payloads:
            ET.fromstring(p)

    def decode_payloads() -> None:
        for p in payloads:
            decode(p)

    def floor_events() -> None:
        for p, m in zip(payloads, metadata, strict=True):
            ET.fromstring(p)
            ET.fromstring(m)

    def decode_events() -> None:
        for p, m in zip(payloads, metadata, strict=True):
            decode(p)
            decode_metadata(m)

    rows = []
    for label, floor, ours in (
        ("payload", floor_payloads, decode_payloads),
        ("payload + metadata", floor_events, decode_events),
    ):
        floor_s, ours_s = best_of(floor, ours)
        rows.append((label, n / floor_s, n / ours_s, ours_s / floor_s))
    print(
        f"\nXStream decoding, {n} Axon events (payload ~{size:.0f} B, metadata ~{meta_size:.0f} B)"
    )
    print(f"{'what':<20} {'floor ev/s':>12} {'decode ev/s':>12} {'ratio':>7}")
    for label, floor_rate, rate, ratio in rows:
        print(f"{label:<20} {floor_rate:>12,.0f} {rate:>12,.0f} {ratio:>6.2f}x")
