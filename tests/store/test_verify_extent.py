"""Issue 12 §2: `verify` reports the whole extent of damage, proves the indexed columns
and the stream catalog, and `digest` refuses a broken chain; on both backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NO_STREAM, NewEvent

EVENTS = 40


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def source_args(store_factory) -> list[str]:
    if store_factory.backend == "sqlite":
        return [store_factory.location]
    return [f"{store_factory.location}?schema={store_factory.open_options['schema']}"]


@pytest.fixture
def forty(store_factory):
    store = store_factory()
    for stream in range(4):
        store.append(
            f"acct-{stream}",
            [
                NewEvent("Deposited", {"n": i}, {"actor": f"user:{i}", "correlation_id": "c"})
                for i in range(EVENTS // 4)
            ],
            expected_version=NO_STREAM,
            stream_type="account",
        )
    store.close()
    return store_factory


def _edit(factory, position: int) -> None:
    factory.raw_execute(
        "UPDATE events SET data = :d WHERE position = :p", {"d": '{"n":-1}', "p": position}
    )


def test_every_edited_position_is_named_and_later_events_are_not(forty) -> None:
    for position in (5, 17, 33):
        _edit(forty, position)
    store = forty()
    report = store.verify()
    store.close()
    assert report.ok is False and report.checked == EVENTS
    assert [(bad.position, bad.kind) for bad in report.bad_positions] == [
        (5, "link"),
        (17, "link"),
        (33, "link"),
    ]
    assert report.bad_count == 3 and report.first_bad_position == 5


def test_json_and_text_list_every_bad_position(forty) -> None:
    _edit(forty, 3)
    forty.raw_execute("DELETE FROM events WHERE position = 20")
    as_json = run("verify", *source_args(forty), "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["chain"] is True
    assert report["bad_count"] == 2
    assert [(b["position"], b["kind"]) for b in report["bad_positions"]] == [
        (3, "link"),
        (20, "missing"),
    ]
    text = run("verify", *source_args(forty))
    assert text.exit_code == 1
    assert text.stdout.startswith("BROKEN at position 3: 2 bad position(s)")
    table = text.stdout.splitlines()
    assert table[1].split() == ["POSITION", "PROBLEM", "DETAIL"]
    assert table[2].split()[:2] == ["3", "link"] and table[3].split()[:2] == ["20", "missing"]


@pytest.mark.parametrize("column", ["actor", "correlation_id", "causation_id"])
def test_an_edited_indexed_column_is_caught(forty, column: str) -> None:
    forty.raw_execute(f"UPDATE events SET {column} = 'auditor:mallory' WHERE position = 12")
    report = json.loads(run("verify", *source_args(forty), "--json").stdout)
    assert report["ok"] is False
    assert report["bad_positions"] == [
        {
            "position": 12,
            "kind": "columns",
            "reason": f"event 12's {column} column(s) disagree with its hashed metadata",
        }
    ]


def test_a_catalog_row_that_disagrees_is_reported_per_stream(forty) -> None:
    forty.raw_execute("UPDATE streams SET event_count = 99 WHERE stream_id = 'acct-2'")
    forty.raw_execute("UPDATE streams SET version = 3 WHERE stream_id = 'acct-3'")
    result = run("verify", *source_args(forty), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["bad_count"] == 0
    problems = report["catalog_problems"]
    assert len(problems) == 2
    assert problems[0].startswith("stream 'acct-2': the catalog records event count 99")
    assert problems[1].startswith("stream 'acct-3': the catalog records version 3")
    text = run("verify", *source_args(forty)).stdout
    assert "The stream catalog disagrees with the events in 2 stream(s):" in text


def test_digest_verifies_first_and_refuses_a_broken_chain(forty) -> None:
    _edit(forty, 7)
    result = CliRunner().invoke(main, ["digest", *source_args(forty)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().startswith("eventscope: the hash chain is broken at position 7")
    assert len(result.stderr.strip().splitlines()) == 1
    unverified = CliRunner().invoke(main, ["digest", *source_args(forty), "--unverified"])
    assert unverified.exit_code == 0
    assert unverified.stdout.startswith(f"{EVENTS}:")
    assert "warning" in unverified.stderr and "not verified" in unverified.stderr
