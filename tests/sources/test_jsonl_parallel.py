"""Two-process indexing of JSON Lines gives exactly the index one process builds.

The merge (`store.sources.jsonl.parallel`) must agree with a single scan on every rule that
looks back at earlier lines: default and explicit versions, stream types, positions,
recording times that default to the previous event's, malformed-line reasons and their
line numbers. Hypothesis writes small files full of such cases and every line boundary
is tried as the split; the real second process, its failure, and the refused merge are
tested on their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from eventscope.store import helper_process
from eventscope.store.sources.jsonl import parallel as jsonl_parallel
from eventscope.store.sources.jsonl.index import JsonlIndex, build_index
from eventscope.store.sources.jsonl.parallel import build_index_in_two
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TIMES = ("2026-01-01T10:00:00.000001Z", "2026-01-01T10:00:01.5Z", "2026-01-02T09:00:00", "bad")
UNCOMPARED = {"_group_lock", "by_stream", "stream_starts"}


def fields(index: JsonlIndex) -> dict[str, Any]:
    return {name: getattr(index, name) for name in index.__slots__ if name not in UNCOMPARED}


def line_starts(content: bytes) -> list[int]:
    return [at + 1 for at, byte in enumerate(content[:-1]) if byte == ord("\n")]


optional = st.none().map(lambda _: ...)  # "leave the field out"


@st.composite
def event_lines(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["event"] * 6 + ["not json", "blank", "array"]))
    if kind == "not json":
        return b'{"stream_id": '
    if kind == "blank":
        return b"   "
    if kind == "array":
        return b"[1, 2]"
    line: dict[str, Any] = {
        "stream_id": draw(st.sampled_from(["acct-1", "acct-2", "order-1", "solo"])),
        "event_type": draw(st.sampled_from(["Opened", "Moved"])),
        "data": {},
    }
    choices: dict[str, st.SearchStrategy[Any]] = {
        "stream_type": st.sampled_from(["acct", "account", "order"]),
        "version": st.one_of(st.integers(0, 5), st.just("2")),
        "position": st.integers(-1, 40),
        "recorded_at": st.sampled_from(TIMES),
        "occurred_at": st.sampled_from(TIMES),
        "hash": st.sampled_from(["0" * 64, "X"]),
    }
    for name, values in choices.items():
        if draw(st.booleans()):
            line[name] = draw(values)
    return orjson.dumps(line)


def write(path: Path, lines: list[bytes], final_newline: bool = True) -> bytes:
    content = b"\n".join(lines) + (b"\n" if final_newline else b"")
    path.write_bytes(content)
    return content


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(event_lines(), min_size=2, max_size=24), final_newline=st.booleans())
def test_every_split_gives_the_single_scan_index(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], final_newline: bool
) -> None:
    path = tmp_path_factory.mktemp("split") / "history.jsonl"
    content = write(path, lines, final_newline)
    alone = fields(build_index(path, parallel=False))
    for split in line_starts(content):
        two = build_index_in_two(path, worker=False, split_at=split)
        assert two is not None
        assert fields(two) == alone, f"split at byte {split}"


def test_the_merge_is_used_when_the_halves_agree(tmp_path: Path, monkeypatch) -> None:
    """Streams run across the split with default and explicit versions, explicit types,
    and a leading event whose time is "the previous one's": the merge accepts."""
    merged: list[bool] = []
    real_merge = jsonl_parallel.merge
    monkeypatch.setattr(
        jsonl_parallel, "merge", lambda *a: merged.append(real_merge(*a)) or merged[-1]
    )
    lines = [
        orjson.dumps({"stream_id": f"acct-{i % 7}", "event_type": "E", "data": {}})
        for i in range(30)
    ]
    lines[0] = orjson.dumps(
        {
            "stream_id": "x-1",
            "event_type": "E",
            "data": {},
            "version": 1,
            "stream_type": "account",
            "recorded_at": TIMES[0],
        }
    )
    lines[20] = orjson.dumps(
        {"stream_id": "x-1", "event_type": "E", "data": {}, "stream_type": "account"}
    )
    lines[21] = orjson.dumps({"stream_id": "x-1", "event_type": "F", "data": {}, "version": 3})
    path = tmp_path / "h.jsonl"
    content = write(path, lines)
    two = build_index_in_two(path, worker=False, split_at=line_starts(content)[19])
    assert merged == [True]
    assert two is not None and fields(two) == fields(build_index(path, parallel=False))
    assert two.versions[two.stream_last[two.stream_numbers["x-1"]]] == 3


def e(**fields: Any) -> bytes:
    return orjson.dumps({"stream_id": "s-1", "event_type": "E", "data": {}, **fields})


CONTRADICTIONS = {
    # Version 1 again: the second half alone would take it as the first it sees.
    "version": ([e(version=1), e(version=2)], [e(version=1), e(version=3)]),
    "version that is not a number": ([e(), e()], [e(version="3"), e()]),
    # Refused for its time in the second half alone, for its type in one scan.
    "type on a refused line": ([e(stream_type="acct")], [e(stream_type="order", recorded_at="x")]),
    "position before the first half's": ([e(position=5), e(position=9)], [e(position=7), e()]),
}


@pytest.mark.parametrize("case", CONTRADICTIONS)
def test_a_second_half_that_contradicts_the_first_is_rescanned(
    tmp_path: Path, monkeypatch, case: str
) -> None:
    merged: list[bool] = []
    real_merge = jsonl_parallel.merge
    monkeypatch.setattr(
        jsonl_parallel, "merge", lambda *a: merged.append(real_merge(*a)) or merged[-1]
    )
    first, second = CONTRADICTIONS[case]
    path = tmp_path / "h.jsonl"
    content = write(path, first + second)
    two = build_index_in_two(path, worker=False, split_at=line_starts(content)[len(first) - 1])
    assert merged == [False]
    alone = build_index(path, parallel=False)
    assert two is not None and fields(two) == fields(alone)
    assert alone.malformed_count >= 1


def big_file(path: Path, lines: int) -> bytes:
    out = []
    for i in range(1, lines + 1):
        event: dict[str, Any] = {
            "stream_id": f"acct-{i % 97}",
            "event_type": "Moved",
            "data": {"i": i},
        }
        if i % 10 == 0:
            event["stream_type"] = "acct"
        if i % 3 == 0:
            event["recorded_at"] = f"2026-01-01T10:00:{i % 60:02d}.{i:06d}Z"
        out.append(orjson.dumps(event))
    out[lines // 2] = b"not json"
    return write(path, out)


def test_the_second_process_indexes_its_half(tmp_path: Path, monkeypatch) -> None:
    merged: list[bool] = []
    real_merge = jsonl_parallel.merge
    monkeypatch.setattr(
        jsonl_parallel, "merge", lambda *a: merged.append(real_merge(*a)) or merged[-1]
    )
    path = tmp_path / "big.jsonl"
    big_file(path, 5000)
    two = build_index_in_two(path)  # a real `python -I` worker
    assert merged == [True]
    alone = build_index(path, parallel=False)
    assert two is not None and fields(two) == fields(alone)
    assert two.malformed_count == 1 and two.problems[0][0] == 2501


def test_a_failing_second_process_falls_back_to_one_scan(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(helper_process, "BOOTSTRAP", "import sys; sys.exit(3)")
    path = tmp_path / "big.jsonl"
    big_file(path, 3000)
    two = build_index_in_two(path)
    assert two is not None and fields(two) == fields(build_index(path, parallel=False))


def test_large_files_are_split_and_small_ones_are_not(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.jsonl"
    big_file(path, 3000)
    assert not jsonl_parallel.worth_splitting(path)  # well under 32 MiB
    monkeypatch.setattr(jsonl_parallel, "SPLIT_FROM_BYTES", 1024)
    monkeypatch.setattr(helper_process, "cores", lambda: 2)
    assert jsonl_parallel.worth_splitting(path)
    calls: list[Path] = []
    real = jsonl_parallel.build_index_in_two
    monkeypatch.setattr(
        jsonl_parallel,
        "build_index_in_two",
        lambda p, progress=None: calls.append(p) or real(p, progress),
    )
    seen: list[tuple[int, int]] = []
    index = build_index(path, lambda done, total: seen.append((done, total)))
    assert calls == [path]
    assert fields(index) == fields(build_index(path, parallel=False))
    size = path.stat().st_size
    assert seen[-1] == (size, size) and all(done <= total == size for done, total in seen)
    monkeypatch.setattr(helper_process, "cores", lambda: 1)
    assert not jsonl_parallel.worth_splitting(path)
