"""`eventscope streams | events | verify | digest` through click's CliRunner, on both
backends: JSON shapes, exit statuses, terminal-safe tables and one-sentence errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NO_STREAM, NewEvent

EVENT_KEYS = {
    "position",
    "version",
    "event_id",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
    "hash",
}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def source_args(store_factory) -> list[str]:
    """The SOURCE argument for the CLI; PG stores name their schema with ?schema=."""
    if store_factory.backend == "sqlite":
        return [store_factory.location]
    schema = store_factory.open_options["schema"]
    sep = "&" if "?" in store_factory.location else "?"
    return [f"{store_factory.location}{sep}schema={schema}"]


@pytest.fixture
def filled(store_factory):
    store = store_factory()
    store.append(
        "acct-1",
        [
            NewEvent("Opened", {"owner": "ann"}, {"actor": "ann"}),
            NewEvent("Deposited", {"amount": 10, "note": "\x1b[2Jboom\u202e"}, {"actor": "bob"}),
        ],
        expected_version=NO_STREAM,
        stream_type="account",
    )
    store.append("order-1", [NewEvent("Placed", {"total": 5})])
    store.close()
    return store_factory


def test_streams_json_and_type_filter(filled) -> None:
    result = run("streams", *source_args(filled), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["stream_id"], r["stream_type"], r["version"]) for r in rows] == [
        ("acct-1", "account", 2),
        ("order-1", "order", 1),
    ]
    assert rows[0]["event_count"] == 2 and rows[0]["last_recorded_at"].endswith("Z")
    only = json.loads(run("streams", *source_args(filled), "--type", "order", "--json").stdout)
    assert [r["stream_id"] for r in only] == ["order-1"]


def test_streams_table(filled) -> None:
    result = run("streams", *source_args(filled))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["STREAM", "TYPE", "VERSION", "EVENTS"]
    assert lines[1].split()[:4] == ["acct-1", "account", "2", "2"]


def test_events_json_shape(filled) -> None:
    result = run("events", *source_args(filled), "acct-1", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2 and EVENT_KEYS <= set(rows[0])
    assert [(r["position"], r["version"], r["event_type"]) for r in rows] == [
        (1, 1, "Opened"),
        (2, 2, "Deposited"),
    ]
    assert rows[1]["data"]["note"] == "\x1b[2Jboom\u202e"  # JSON keeps the exact value
    assert len(rows[0]["hash"]) == 64 and rows[0]["metadata"] == {"actor": "ann"}


def test_events_table_never_sends_control_characters_to_the_terminal(filled) -> None:
    result = run("events", *source_args(filled), "acct-1")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert '"note":"\\u001b[2Jboom\\u202e"' in result.stdout


def test_table_cells_from_stream_ids_are_escaped(store_factory) -> None:
    store = store_factory()
    store.append("evil-\x1b]52;c;aGk=\x07", [NewEvent("X", {})])
    store.close()
    result = run("streams", *source_args(store_factory))
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "evil-\\x1b]52;c;aGk=\\x07" in result.stdout


def test_unknown_stream_is_one_sentence_and_nonzero(filled) -> None:
    result = run("events", *source_args(filled), "nope")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip() == "eventscope: there is no stream 'nope' in this source"


def test_verify_digest_and_against(filled) -> None:
    digest = run("digest", *source_args(filled))
    assert digest.exit_code == 0
    text = digest.stdout.strip()
    position, _, hash_hex = text.partition(":")
    assert position == "3" and len(hash_hex) == 64
    as_json = json.loads(run("digest", *source_args(filled), "--json").stdout)
    assert as_json == {"position": 3, "hash": hash_hex, "verified": True}

    ok = run("verify", *source_args(filled))
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: 3 events checked")
    report = json.loads(run("verify", *source_args(filled), "--json").stdout)
    assert (report["ok"], report["checked"], report["first_bad_position"]) == (True, 3, None)
    assert run("verify", *source_args(filled), "--against", text).exit_code == 0

    # Cut the tail and fix up only the head row's position: the head record's hash
    # and time still name the last event that was cut.
    filled.raw_execute("DELETE FROM events WHERE position = 3")
    filled.raw_execute("UPDATE chain_head SET position = 2")
    half = json.loads(run("verify", *source_args(filled), "--json").stdout)
    assert (half["first_bad_position"], half["bad_positions"][0]["kind"]) == (3, "head")
    # Fix up the whole head row: only the kept digest notices.
    filled.raw_execute(
        "UPDATE chain_head SET hash = (SELECT hash FROM events WHERE position = 2), "
        "recorded_at = (SELECT recorded_at FROM events WHERE position = 2)"
    )
    cut = run("verify", *source_args(filled), "--json")  # the chain holds; the catalog not
    assert cut.exit_code == 1 and json.loads(cut.stdout)["first_bad_position"] is None
    broken = run("verify", *source_args(filled), "--against", text, "--json")
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_bad_position"] == 3


def test_verify_exits_1_on_an_edited_event(filled) -> None:
    filled.raw_execute("UPDATE events SET data = :d WHERE position = 2", {"d": '{"amount":1000}'})
    result = run("verify", *source_args(filled))
    assert result.exit_code == 1
    assert result.stdout.startswith("BROKEN at position 2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "{tmp}/missing.db"], "there is no file at"),
        (["streams", "{tmp}/notes.txt"], "not an eventscope store"),
        (["digest", "mysql://u@h/db"], "PostgreSQL"),
        (["verify", "postgresql://u:hunter2@127.0.0.1:1/x"], "cannot connect to PostgreSQL"),
        (["verify", "{tmp}/store.db", "--against", "12:xyz"], "64 hexadecimal"),
        (["verify", "{tmp}/store.db", "--against", "nonsense"], "POSITION:HASH"),
    ],
)
def test_user_mistakes_are_one_sentence_without_traceback(
    tmp_path: Path, sqlite_store, args: list[str], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n")
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert "hunter2" not in err


@pytest.mark.parametrize("backend", ["sqlite"])  # byte identity of the SQLite file
def test_cli_never_writes_to_the_store(filled) -> None:
    path = Path(filled.location)
    before = path.read_bytes()
    for args in (["streams"], ["events", "x"], ["verify"], ["digest"]):
        run(args[0], str(path), *args[1:])
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (3,)
