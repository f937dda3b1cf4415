"""Two invariants verify proves beside the hash links, on SQLite and PostgreSQL:

* recorded times never go back along positions -- a row forged at the tail with a
  correct hash and a backdated `recorded_at` (so "as known at R" questions would count
  it as known early) keeps every link intact, and only this check names it;
* the head record names the last event's hash and time -- a head that disagrees would
  let the next append chain onto a hash nobody can check.
"""

from __future__ import annotations

import orjson
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import ANY, NewEvent
from test_rel_tampering import _rehash, _row, _source


def _build(store, events: int = 30) -> None:
    for number in range(1, events + 1):
        store.append_streams(
            [(f"acct-{number % 3}", [NewEvent("Deposited", {"amount": number})], ANY, "acct")]
        )


def _verify(source: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, ["verify", source, "--json"])
    assert "Traceback" not in result.stderr
    text = CliRunner().invoke(main, ["verify", source])
    return result.exit_code, orjson.loads(result.stdout), text.stdout


def test_a_backdated_row_with_a_correct_hash_is_named(store_factory) -> None:
    store = store_factory()
    _build(store)
    store.close()
    raw = store_factory.raw_execute
    last = _row(raw, 30)
    early = _row(raw, 5)["recorded_at"]
    last["recorded_at"] = early
    forged = _rehash(last, _row(raw, 29)["hash"])
    raw(
        "UPDATE events SET recorded_at = :r, hash = :h WHERE position = 30",
        {"r": early, "h": forged},
    )
    raw("UPDATE chain_head SET hash = :h, recorded_at = :r WHERE id = 1", {"h": forged, "r": early})

    status, report, text = _verify(_source(store_factory))
    assert status == 1 and report["ok"] is False
    assert report["bad_count"] == 1
    (bad,) = report["bad_positions"]
    assert (bad["position"], bad["kind"]) == (30, "time")
    assert f"recorded at {early}, earlier than position 29" in bad["reason"]
    assert "BROKEN at position 30" in text and "recorded times never go back" in text


def test_many_backdated_rows_are_each_named_once(store_factory) -> None:
    """Times running backwards from position 11 on: every such row is named, and the
    counts agree (no double counting beside a link the walk already names)."""
    store = store_factory()
    _build(store)
    store.close()
    raw = store_factory.raw_execute
    # Also break one link, so the walk's own finding and the time finding meet.
    raw("UPDATE events SET data = :d WHERE position = 20", {"d": '{"amount":999}'})
    previous = _row(raw, 10)["hash"]
    base = _row(raw, 10)["recorded_at"]
    for position in range(11, 31):
        row = _row(raw, position)
        row["recorded_at"] = f"2000-01-01T00:00:{60 - position:02d}.000000Z"
        if position == 20:
            previous = row["hash"]  # leave the broken link as it is
            raw("UPDATE events SET recorded_at = :r WHERE position = 20", {"r": row["recorded_at"]})
            continue
        previous = _rehash(row, previous)
        raw(
            "UPDATE events SET recorded_at = :r, hash = :h WHERE position = :p",
            {"r": row["recorded_at"], "h": previous, "p": position},
        )
    raw(
        "UPDATE chain_head SET hash = :h, recorded_at = :r WHERE id = 1",
        {"h": previous, "r": row["recorded_at"]},
    )
    assert base > "2000"

    status, report, _ = _verify(_source(store_factory))
    assert status == 1
    kinds = {bad["position"]: bad["kind"] for bad in report["bad_positions"]}
    assert report["bad_count"] == len(report["bad_positions"])
    # 11..30 are backdated (11 earlier than 10); 20 is a broken link, 21 follows it.
    assert kinds[20] == "link"
    assert all(kinds[p] == "time" for p in range(11, 31) if p not in (20, 21))
    assert 21 not in kinds  # judged on its own: its predecessor is the altered row
    assert [bad["position"] for bad in report["bad_positions"]] == sorted(kinds)


def test_a_head_record_that_disagrees_with_the_last_event_is_named(store_factory) -> None:
    store = store_factory()
    _build(store)
    store.close()
    raw = store_factory.raw_execute
    raw("UPDATE chain_head SET hash = :h WHERE id = 1", {"h": "0" * 64})

    status, report, text = _verify(_source(store_factory))
    assert status == 1 and report["ok"] is False
    (bad,) = report["bad_positions"]
    assert (bad["position"], bad["kind"]) == (31, "head")
    assert "head record names hash 0000000000000000" in bad["reason"]
    assert "BROKEN at position 31" in text


def test_an_intact_store_has_neither_finding(store_factory) -> None:
    store = store_factory()
    _build(store)
    store.close()
    status, report, _ = _verify(_source(store_factory))
    assert (status, report["ok"], report["bad_count"]) == (0, True, 0)
