"""Verifying a large SQLite store with two processes gives exactly one walk's verdict.

The second process (`store.native.chain.walk_in_two`) checks the later events from the stored
hash at the split, which the first half must reproduce. Every kind of damage, on either
side of the split and right at it, must be reported as one walk reports it: same
position, same reason, same count of checked events. The threshold is lowered so a
small store takes the two-process path; the second process is real.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from eventscope.store import Digest, EventStore, NewEvent, helper_process
from eventscope.store.native import chain as chain_module

EVENTS = 400
SPLIT = int(EVENTS * chain_module.FIRST_SHARE)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    store = EventStore.open(path)
    batches = [
        (f"acct-{s}", [NewEvent("Moved", {"i": i, "s": s}, {"actor": "t"}) for i in range(20)])
        for s in range(EVENTS // 20)
    ]
    store.append_streams(batches)
    store.close()
    return path


def reports(path: Path, monkeypatch: pytest.MonkeyPatch, against: Digest | None = None):
    """(one walk's report, the two-process report, whether the second process answered)."""
    answered: list[bool] = []
    real_finish = chain_module._finish_worker

    def finish(worker):
        segment = real_finish(worker)
        answered.append(segment is not None)
        return segment

    monkeypatch.setattr(chain_module, "_finish_worker", finish)
    monkeypatch.setattr(chain_module, "IN_TWO_FROM", 10**12)
    with EventStore.open(path, read_only=True) as store:
        alone = store.verify(against)
    monkeypatch.setattr(chain_module, "IN_TWO_FROM", 10)
    seen: list[tuple[int, int]] = []
    with EventStore.open(path, read_only=True) as store:
        two = store.verify(against, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == two.checked
    return alone, two, answered


def run_sql(path: Path, sql: str, *params: object) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(sql, params)
    connection.close()


def test_a_sound_store_is_verified_by_both_processes(store_path: Path, monkeypatch) -> None:
    alone, two, answered = reports(store_path, monkeypatch)
    assert answered == [True]
    assert alone.ok and two == alone and two.checked == EVENTS


DAMAGE: dict[str, Callable[[Path], None]] = {
    "edited in the first half": lambda p: run_sql(
        p, "UPDATE events SET data = '{\"i\":99}' WHERE position = ?", 17
    ),
    "edited in the second half": lambda p: run_sql(
        p, "UPDATE events SET data = '{\"i\":99}' WHERE position = ?", SPLIT + 40
    ),
    "edited at the split": lambda p: run_sql(
        p, "UPDATE events SET data = '{\"i\":99}' WHERE position = ?", SPLIT
    ),
    "edited just after the split": lambda p: run_sql(
        p, "UPDATE events SET data = '{\"i\":99}' WHERE position = ?", SPLIT + 1
    ),
    "hash rewritten at the split": lambda p: run_sql(
        p, "UPDATE events SET hash = ? WHERE position = ?", "0" * 64, SPLIT
    ),
    "deleted just after the split": lambda p: run_sql(
        p, "DELETE FROM events WHERE position = ?", SPLIT + 1
    ),
    "deleted in the first half": lambda p: run_sql(p, "DELETE FROM events WHERE position = ?", 3),
    "tail cut": lambda p: run_sql(p, "DELETE FROM events WHERE position > ?", EVENTS - 5),
    "malformed column in the second half": lambda p: run_sql(
        p, "UPDATE events SET version = 'x' WHERE position = ?", EVENTS - 2
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_reported_as_one_walk_reports_it(
    store_path: Path, monkeypatch, damage: str
) -> None:
    DAMAGE[damage](store_path)
    alone, two, _ = reports(store_path, monkeypatch)
    assert not alone.ok
    assert two == alone


def test_a_digest_kept_outside_is_checked_in_the_second_half(store_path: Path, monkeypatch) -> None:
    with EventStore.open(store_path, read_only=True) as store:
        kept = store.head_digest()
    forged = Digest(kept.position, "f" * 64)
    alone, two, answered = reports(store_path, monkeypatch, forged)
    assert answered == [True]
    assert two == alone and two.first_bad_position == kept.position
    assert "digest kept outside" in (two.reason or "")


def test_a_failing_second_process_leaves_the_walk_to_this_one(
    store_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(helper_process, "BOOTSTRAP", "import sys; sys.exit(3)")
    DAMAGE["edited in the second half"](store_path)
    alone, two, answered = reports(store_path, monkeypatch)
    assert answered == [False]
    assert two == alone and two.first_bad_position == SPLIT + 40


def test_small_stores_memory_and_one_core_use_one_process(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"")
    assert not chain_module.worth_two(path, 1_000)
    assert chain_module.worth_two(path, 10**6)
    assert not chain_module.worth_two(tmp_path / "missing.db", 10**6)
    monkeypatch.setattr(helper_process, "cores", lambda: 1)
    assert not chain_module.worth_two(path, 10**6)


def test_damage_on_both_sides_of_the_split_is_all_reported(store_path: Path, monkeypatch) -> None:
    """Issue 12 §2: the walk goes on past the first break, in both processes."""
    for position in (17, SPLIT, SPLIT + 40):
        run_sql(store_path, "UPDATE events SET data = '{\"i\":99}' WHERE position = ?", position)
    run_sql(store_path, "UPDATE events SET actor = 'mallory' WHERE position = ?", EVENTS - 3)
    alone, two, answered = reports(store_path, monkeypatch)
    assert answered == [True]
    assert two == alone
    assert [(bad.position, bad.kind) for bad in two.bad_positions] == [
        (17, "link"),
        (SPLIT, "link"),
        (SPLIT + 40, "link"),
        (EVENTS - 3, "columns"),
    ]
    assert two.checked == EVENTS
