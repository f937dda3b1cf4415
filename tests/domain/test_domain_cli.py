"""`eventscope state | diff | blame` through click's CliRunner on real store files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from domain_helpers import PLUGIN, at, ledger_event
from eventscope.domain.projection_runner import ProjectionRunner
from eventscope.explorer.cli import main
from eventscope.store import EventStore, NewEvent


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    store = EventStore.open(path)
    store.append(
        "acct-1",
        [
            NewEvent("Opened", {"owner": "ann", "limits": {"daily": 100}},
                     metadata={"actor": "ann"}, occurred_at=at(0), recorded_at=at(1)),
            NewEvent("Changed", {"balance": 10, "limits": {"daily": None}},
                     metadata={"actor": "bob"}, occurred_at=at(2), recorded_at=at(2)),
            NewEvent("Changed", {"balance": 25, "note": "\x1b[31mred\u202e"},
                     metadata={"actor": "cy"}, occurred_at=at(1.5), recorded_at=at(3)),
        ],
        stream_type="account",
    )  # fmt: skip
    store.save_snapshot("acct-1", 2, {"owner": "ann", "balance": 11}, "generic")
    store.append(
        "L-1",
        [ledger_event("Opened", {"owner": "zed"}), ledger_event("Credited", {"amount": 4})],
        stream_type="ledger",
    )
    ProjectionRunner(store, PLUGIN.projections, PLUGIN.registry).catch_up_all()
    store.close()
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_state_json_at_latest_version_and_time(db: str) -> None:
    code, out, err = run("state", db, "acct-1", "--json")
    assert code == 0 and err == ""
    assert orjson.loads(out) == {
        "stream_id": "acct-1",
        "version": 3,
        "state": {"owner": "ann", "limits": {}, "balance": 25, "note": "\x1b[31mred\u202e"},
    }
    assert orjson.loads(run("state", db, "acct-1", "--version", "1", "--json")[1])["state"] == {
        "owner": "ann",
        "limits": {"daily": 100},
    }
    by_time = orjson.loads(run("state", db, "acct-1", "--at", "2026-03-01T11:30:00", "--json")[1])
    assert by_time["version"] == 2
    occurred = run("state", db, "acct-1", "--at", "2026-03-01T10:45:00+00:00",
                   "--axis", "occurred", "--json")  # fmt: skip
    assert orjson.loads(occurred[1])["version"] == 3  # event 3 was backdated to 10:30


def test_state_text_output_is_terminal_safe(db: str) -> None:
    code, out, _ = run("state", db, "acct-1")
    assert code == 0
    assert "acct-1 at version 3 of 3 (generic fold)" in out
    assert "\x1b" not in out and "\u202e" not in out
    assert '"balance": 25' in out


def test_state_with_a_domain_plugin_uses_the_aggregate(db: str) -> None:
    code, out, _ = run("state", db, "L-1", "--json", "--domain", "domain_helpers:PLUGIN")
    assert code == 0
    assert orjson.loads(out)["state"] == {"owner": "zed", "balance": 4, "tags": [], "credits": 1}


def test_diff_between_versions_snapshot_and_projection(db: str) -> None:
    code, out, _ = run("diff", db, "acct-1", "--from-version", "1", "--to-version", "3", "--json")
    assert code == 0
    assert orjson.loads(out) == [
        {"path": ["balance"], "op": "added", "before": None, "after": 25},
        {"path": ["limits", "daily"], "op": "removed", "before": 100, "after": None},
        {"path": ["note"], "op": "added", "before": None, "after": "\x1b[31mred\u202e"},
    ]
    code, out, _ = run("diff", db, "acct-1", "--snapshot", "2", "--json")
    printed = orjson.loads(out)
    assert printed["differences"] == [
        {"path": ["balance"], "op": "changed", "before": 11, "after": 10},
        {"path": ["limits"], "op": "added", "before": None, "after": {}},
    ]
    # The snapshot's provenance: which code wrote the wrong claim, and when.
    provenance = printed["snapshot"]
    assert provenance["version"] == 2 and "state" not in provenance
    assert set(provenance) >= {"code_version", "created_at", "aggregate_type"}
    code, out, _ = run("diff", db, "acct-1", "--snapshot", "2")
    assert f"code {provenance['code_version']}" in out and provenance["created_at"] in out
    code, out, _ = run("diff", db, "L-1", "--projection", "balances", "--json",
                       "--domain", "domain_helpers:PLUGIN")  # fmt: skip
    assert code == 0 and orjson.loads(out) == []
    code, out, _ = run("diff", db, "acct-1", "--from-version", "1", "--to-version", "2")
    assert "~" not in out and "- limits.daily: 100" in out and "+ balance: 10" in out


def test_blame_json_shape_and_values(db: str) -> None:
    code, out, _ = run("blame", db, "acct-1", "--json")
    assert code == 0
    rows = orjson.loads(out)
    assert [(r["path"], r["value"], r["version"], r["actor"]) for r in rows] == [
        (["limits"], {}, 2, "bob"),  # payload keys are stored in canonical (sorted) order
        (["owner"], "ann", 1, "ann"),
        (["balance"], 25, 3, "cy"),
        (["note"], "\x1b[31mred\u202e", 3, "cy"),
    ]
    assert set(rows[0]) == {"path", "value", "position", "version", "event_type", "actor",
                            "recorded_at"}  # fmt: skip
    assert rows[1]["recorded_at"] == "2026-03-01T10:00:00.000000Z"
    assert rows[2]["event_type"] == "Changed" and rows[2]["position"] == 3
    code, out, _ = run("blame", db, "acct-1", "--version", "1")
    assert code == 0 and "limits.daily = 100  <- v1 @1 Opened by ann" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["state", "{db}", "nope"], "there is no stream 'nope' in this source"),
        (["state", "{db}", "acct-1", "--version", "9"], "version 9 is out of range"),
        (["state", "{db}", "acct-1", "--version", "-1"], "must be 0 or a positive version"),
        (["state", "{db}", "acct-1", "--at", "soon"], "'soon' is not a time eventscope"),
        (["state", "{db}", "acct-1", "--at", "2026-01-01", "--version", "1"], "not both"),
        (["diff", "{db}", "acct-1"], "choose one comparison"),
        (["diff", "{db}", "acct-1", "--snapshot", "3"], "no snapshot at version 3"),
        (["diff", "{db}", "acct-1", "--projection", "balances"], "load the domain with --domain"),
        (["diff", "{db}", "acct-1", "--from-version", "0", "--to-version", "8"], "out of range"),
        (["blame", "{db}", "acct-1", "--version", "4"], "version 4 is out of range"),
        (["state", "{db}", "acct-1", "--domain", "no_such_mod_x"], "cannot import domain module"),
        (["state", "/nonexistent/x.db", "acct-1"], ""),
    ],
)
def test_user_mistakes_are_one_sentence_and_nonzero(db: str, args: list[str], message: str) -> None:
    code, out, err = run(*[a.format(db=db) for a in args])
    assert code != 0
    assert out == ""
    assert err.startswith("eventscope: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_commands_never_modify_the_store(db: str) -> None:
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    for args in (["state", db, "acct-1"], ["diff", db, "acct-1", "--snapshot", "2"],
                 ["blame", db, "acct-1"]):  # fmt: skip
        assert run(*args)[0] == 0
    assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before


def test_skipped_events_are_reported_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    store = EventStore.open(path)
    store.append(
        "L-2",
        [ledger_event("Opened", {"owner": "a"}), NewEvent("Renamed", {"to": "b"})],
        stream_type="ledger",
    )
    store.close()
    code, out, err = run("state", str(path), "L-2", "--json", "--domain", "domain_helpers:PLUGIN")
    assert code == 0
    assert orjson.loads(out)["version"] == 2
    assert "event 2 (Renamed, position 2) skipped: Ledger has no handler for Renamed" in err


def test_state_blame_and_diff_on_the_business_time_axis(db: str) -> None:
    """v3 is backdated to 10:30, before v2 (11:00). As of 10:45 business time the answer
    is v1 then v3 -- v2 had not happened yet, although its version is lower."""
    code, out, err = run("state", db, "acct-1", "--at", "2026-03-01T10:45:00Z",
                         "--axis", "occurred", "--json")  # fmt: skip
    assert code == 0, err
    printed = orjson.loads(out)
    assert printed["applied_versions"] == [1, 3]
    assert printed["state"]["limits"] == {"daily": 100}  # v2's removal is not in it
    assert printed["as_of"] == "2026-03-01T10:45:00.000000Z" and printed["known_at"] is None
    code, out, _ = run("state", db, "acct-1", "--at", "2026-03-01T10:45:00Z", "--axis",
                       "occurred", "--known-at", "2026-03-01T11:30:00Z", "--json")  # fmt: skip
    assert orjson.loads(out)["applied_versions"] == [1]  # v3 was recorded at 12:00
    code, out, _ = run("state", db, "acct-1", "--at", "2026-03-01T10:45:00Z", "--axis", "occurred")
    assert "as of business time 2026-03-01T10:45:00.000000Z, as known at" in out
    assert "(everything recorded)" in out and "(v1, v3)" in out
    code, out, _ = run("blame", db, "acct-1", "--at", "2026-03-01T12:30:00Z", "--axis",
                       "occurred", "--json")  # fmt: skip
    printed = orjson.loads(out)
    assert printed["applied_versions"] == [1, 3, 2]
    by_path = {tuple(entry["path"]): entry["version"] for entry in printed["blame"]}
    assert by_path[("balance",)] == 2  # applied last in business-time order: 10 wins
    code, out, _ = run("diff", db, "acct-1", "--at", "2026-03-01T10:45:00Z", "--axis",
                       "occurred", "--known-at", "2026-03-01T11:30:00Z", "--json")  # fmt: skip
    printed = orjson.loads(out)
    assert printed["left"]["applied_versions"] == [1]
    assert printed["right"]["applied_versions"] == [1, 3]
    assert {tuple(d["path"]) for d in printed["differences"]} == {("balance",), ("note",)}


def test_known_at_without_a_business_time_is_one_sentence(db: str) -> None:
    for args in (
        ["state", db, "acct-1", "--known-at", "2026-03-01T11:00:00Z"],
        ["state", db, "acct-1", "--at", "2026-03-01T11:00:00Z", "--known-at", "2026-03-01"],
        ["blame", db, "acct-1", "--known-at", "2026-03-01T11:00:00Z"],
        ["diff", db, "acct-1", "--at", "2026-03-01T11:00:00Z"],
    ):
        code, out, err = run(*args)
        assert code == 2 and out == "" and "Traceback" not in err
        assert "--axis occurred" in err and len(err.strip().splitlines()) == 1


def test_before_anything_happened_is_the_initial_state(db: str) -> None:
    code, out, err = run("state", db, "acct-1", "--at", "2020-01-01T00:00:00Z", "--axis",
                         "occurred", "--json")  # fmt: skip
    assert code == 0, err
    printed = orjson.loads(out)
    assert (printed["version"], printed["state"], printed["applied_versions"]) == (0, {}, [])


def test_streams_json_says_when_more_follow_or_prints_all(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    store = EventStore.open(path)
    for index in range(7):
        store.append(f"s-{index}", [NewEvent("Noted", {"i": index})], stream_type="thing")
    store.close()
    code, out, err = run("streams", str(path), "--limit", "3", "--json")
    assert code == 0 and [s["stream_id"] for s in orjson.loads(out)] == ["s-0", "s-1", "s-2"]
    assert "more follow" in err and "--after s-2" in err and "--all" in err
    code, out, err = run("streams", str(path), "--limit", "3", "--after", "s-2", "--json")
    assert [s["stream_id"] for s in orjson.loads(out)] == ["s-3", "s-4", "s-5"]
    code, out, err = run("streams", str(path), "--limit", "7", "--json")
    assert len(orjson.loads(out)) == 7 and err == ""  # exactly a page: nothing follows
    code, out, err = run("streams", str(path), "--limit", "2", "--all", "--json")
    assert len(orjson.loads(out)) == 7 and err == ""
