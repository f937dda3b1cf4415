"""Same seed and size -> byte-identical events, timestamps and hashes; derived claims too."""

from __future__ import annotations

from pathlib import Path

from demo_stores import event_rows, raw_rows
from eventscope.demo_data import build_demo
from eventscope.demo_data.fixtures import FIXTURE_EVENTS


def _derived(path: Path) -> tuple[list, list, list]:
    snapshots = raw_rows(
        path,
        "snapshots",
        "stream_id, version, state, aggregate_type, schema_version, code_version",
        "stream_id, version",
    )
    rows = raw_rows(
        path, "projection_rows", "projection, key, document, position", "projection, key"
    )
    checkpoints = raw_rows(path, "checkpoints", "name, position", "name")
    return snapshots, rows, checkpoints


def test_two_builds_with_the_same_seed_and_size_are_identical(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "a.db", 1_500, seed=11)
    second = build_demo(tmp_path / "b.db", 1_500, seed=11)
    rows_a, rows_b = event_rows(tmp_path / "a.db"), event_rows(tmp_path / "b.db")
    assert len(rows_a) == 1_500
    assert rows_a == rows_b  # ids, payload bytes, both timestamps and every hash
    assert _derived(tmp_path / "a.db") == _derived(tmp_path / "b.db")
    first.pop("store"), second.pop("store")
    assert first == second
    assert first["head_digest"] == f"1500:{rows_a[-1][-1]}"


def test_a_child_process_simulation_writes_the_same_store(tmp_path: Path) -> None:
    """Large builds simulate in a child process; the history must not depend on it."""
    here = build_demo(tmp_path / "here.db", 800, seed=5, in_child=False)
    child = build_demo(tmp_path / "child.db", 800, seed=5, in_child=True)
    assert event_rows(tmp_path / "here.db") == event_rows(tmp_path / "child.db")
    assert _derived(tmp_path / "here.db") == _derived(tmp_path / "child.db")
    here.pop("store"), child.pop("store")
    assert here == child


def test_another_seed_gives_another_history(tmp_path: Path) -> None:
    build_demo(tmp_path / "a.db", FIXTURE_EVENTS, seed=1)
    build_demo(tmp_path / "b.db", FIXTURE_EVENTS, seed=2)
    rows_a, rows_b = event_rows(tmp_path / "a.db"), event_rows(tmp_path / "b.db")
    assert len(rows_a) == len(rows_b) == FIXTURE_EVENTS
    assert {r[1] for r in rows_a}.isdisjoint({r[1] for r in rows_b})  # event ids
    assert rows_a[-1][-1] != rows_b[-1][-1]


def test_the_requested_size_is_exact_and_time_only_moves_forward(medium_demo) -> None:
    path, manifest = medium_demo
    rows = event_rows(path)
    assert [r[0] for r in rows] == list(range(1, manifest["events"] + 1))
    recorded = [r[10] for r in rows]
    assert recorded == sorted(recorded)
    assert manifest["recorded_from"] == recorded[0] and manifest["recorded_to"] == recorded[-1]
