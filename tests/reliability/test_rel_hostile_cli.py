"""Hostile input through the CLI (reliability.md tests 16 and 18).

* Every string of `support.hostile.HOSTILE`, stored in every field, is printed by every
  headless command (tables and `--json`, stdout and stderr) without a single raw ESC,
  C0/C1 control, BEL, CR or bidi control; in tables each shows as a visible escape.
* Oversized and pathological payloads -- a 10^6-digit integer, 100,000 levels of nesting,
  50 MB -- end in a controlled error when appended, and as an explained, undecodable or
  malformed event (never a traceback) when they are already in a store or a file.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import EventStore, InvalidEvent, NewEvent
from reliability_support import figure
from support.hostile import (
    HOSTILE,
    HOSTILE_CORRELATION,
    PLAIN_STREAM,
    build_hostile_store,
    forbidden_in,
    hostile_stream,
)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hostile_store(tmp_path_factory.mktemp("hostile") / "hostile.db")


def _run(args: list[str]) -> tuple[int, str]:
    """Run one command; return its exit code and stdout + stderr as one text."""
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert b"\x1b" not in result.stdout_bytes and b"\x1b" not in result.stderr_bytes
    return result.exit_code, result.stdout + result.stderr


def _commands(db: str) -> list[list[str]]:
    commands = [
        ["streams", db],
        ["streams", db, "--json"],
        ["streams", db, "--prefix", "acct-"],
        ["events", db, PLAIN_STREAM],
        ["events", db, PLAIN_STREAM, "--json"],
        ["state", db, PLAIN_STREAM],
        ["state", db, PLAIN_STREAM, "--json"],
        ["blame", db, PLAIN_STREAM],
        ["blame", db, PLAIN_STREAM, "--json"],
        ["diff", db, PLAIN_STREAM, "--from-version", "1", "--to-version", "17"],
        ["diff", db, PLAIN_STREAM, "--from-version", "1", "--to-version", "17", "--json"],
        ["diff", db, PLAIN_STREAM, "--snapshot", "17"],
        ["verify", db],
        ["digest", db],
        ["events", db, "no-such-" + HOSTILE["osc52-clipboard"]],  # the error echoes the id
        ["state", db, HOSTILE_CORRELATION],
    ]
    for name in HOSTILE:
        commands.append(["events", db, hostile_stream(name)])
        commands.append(["state", db, hostile_stream(name), "--json"])
    return commands


def test_hostile_strings_never_reach_the_terminal_from_any_command(hostile_db: Path) -> None:
    db = str(hostile_db)
    outputs = []
    for args in _commands(db):
        status, output = _run(args)
        assert status in (0, 1, 2), (args, status, output)
        assert not forbidden_in(output), (args[0], forbidden_in(output), output[:400])
        outputs.append(output)
    table = _run(["events", db, PLAIN_STREAM])[1]
    # Each string is still *there*, as a visible escape: evidence is shown, not dropped.
    assert "\\x1b[2J" in table and "\\x1b]52;c;" in table and "\\x9b2J" in table
    assert "\\u202e" in table and "\\r" in table and "\\x07" in table
    assert "[@click=app.quit]quit[/]" in table and "[link=https://evil.example]" in table
    as_json = orjson.loads(_run(["events", db, PLAIN_STREAM, "--json"])[1])
    # JSON output escapes them and decodes back to exactly the stored strings.
    notes = [event["data"].get("note") for event in as_json[1:]]
    assert notes == list(HOSTILE.values())
    assert [event["metadata"]["actor"] for event in as_json[1:]] == list(HOSTILE.values())
    figure(
        "hostile/cli",
        f"{len(HOSTILE)}/{len(HOSTILE)} hostile strings inert in "
        f"{len(outputs)} command outputs (tables and --json, stdout and stderr): 0 raw "
        "ESC/C0/C1/bidi code points; JSON round-trips them exactly",
    )


def test_hostile_jsonl_export_and_its_listing_stay_inert(hostile_db: Path, tmp_path: Path) -> None:
    export = tmp_path / "hostile.jsonl"
    status, _ = _run(["export", str(hostile_db), "--jsonl", str(export)])
    assert status == 0
    raw = export.read_bytes()
    # The file is data, not terminal output: JSON escapes C0 controls (so no raw ESC);
    # C1/bidi characters stay raw UTF-8 inside strings there (see tests/RELIABILITY.md).
    assert b"\x1b" not in raw and b"\x07" not in raw and b"\r" not in raw
    stored = [orjson.loads(line) for line in raw.splitlines()]
    assert [e["data"].get("note") for e in stored[1 : len(HOSTILE) + 1]] == list(HOSTILE.values())
    for args in (["streams", str(export)], ["events", str(export), PLAIN_STREAM]):
        status, output = _run(args)
        assert status == 0 and not forbidden_in(output), forbidden_in(output)
    assert _run(["verify", str(export)])[0] == 0


# --- oversized and pathological payloads ------------------------------------------------
DEPTH = 100_000


def _deep(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_oversized_payloads_are_refused_before_the_write(tmp_path: Path) -> None:
    store = EventStore.open(tmp_path / "store.db")
    huge_int = 10 ** (10**6)  # a 1,000,001-digit integer
    cases = {
        "10^6-digit integer": {"n": huge_int},
        "100k-deep nesting": _deep(DEPTH),
        "50 MB string": {"blob": "x" * (50 * 1024 * 1024)},
    }
    refused = {}
    for label, data in cases.items():
        started = time.perf_counter()
        with pytest.raises(InvalidEvent) as caught:
            store.append("big-1", [NewEvent("Big", data)])
        refused[label] = (str(caught.value), time.perf_counter() - started)
        assert "\n" not in str(caught.value) and len(str(caught.value)) < 200
    assert store.head_position() == 0 and store.verify().ok  # nothing written
    assert (
        "2**53" in refused["10^6-digit integer"][0] or "integer" in refused["10^6-digit integer"][0]
    )
    assert "nested deeper" in refused["100k-deep nesting"][0]
    assert "over the limit" in refused["50 MB string"][0]
    store.close()
    figure(
        "hostile/oversized-append",
        "; ".join(
            f"{label}: refused in {seconds * 1000:.0f} ms"
            for label, (_, seconds) in refused.items()
        ),
    )


def _raw_insert_event(path: Path, position: int, data_text: str) -> None:
    """Put a row straight into the file, as another tool (or an attacker) could."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "INSERT INTO events (position, event_id, stream_id, stream_type, version, "
            "event_type, schema_version, data, metadata, occurred_at, recorded_at, hash) "
            "VALUES (?, ?, 'raw-1', 'raw', ?, 'Raw', 1, ?, '{}', "
            "'2026-03-01T09:00:00.000000Z', '2026-03-01T09:00:00.000000Z', ?)",
            (position, str(uuid.uuid4()), position, data_text, "0" * 64),
        )
        connection.execute(
            "INSERT INTO streams (stream_id, stream_type, version, event_count, "
            "first_recorded_at, last_recorded_at, first_position, last_position) VALUES "
            "('raw-1', 'raw', ?, ?, '2026-03-01T09:00:00.000000Z', "
            "'2026-03-01T09:00:00.000000Z', 1, ?) ON CONFLICT (stream_id) DO UPDATE SET "
            "version = excluded.version, event_count = excluded.event_count, "
            "last_position = excluded.last_position",
            (position, position, position),
        )
        connection.commit()
    finally:
        connection.close()


def test_pathological_rows_already_in_a_store_are_shown_not_fatal(tmp_path: Path) -> None:
    """Rows that no append would accept (written by raw SQL): a 10^6-digit integer,
    100k-deep nesting, text that is not JSON, JSON that is not an object. Reading them
    must yield explained, undecodable events; verify must name the first one."""
    path = tmp_path / "store.db"
    EventStore.open(path).close()
    sys.set_int_max_str_digits(0) if hasattr(sys, "set_int_max_str_digits") else None
    texts = [
        '{"n":' + "9" * 10**6 + "}",
        '{"a":' * DEPTH + "{}" + "}" * DEPTH,
        "not json at all",
        "[1, 2, 3]",
    ]
    for position, text in enumerate(texts, start=1):
        _raw_insert_event(path, position, text)
    db = str(path)
    status, output = _run(["events", db, "raw-1"])
    assert status == 0 and not forbidden_in(output)
    assert len(output) < 20_000  # cut for the table, never the whole 10^6 digits
    status, output = _run(["events", db, "raw-1", "--json"])
    assert status == 0
    events = orjson.loads(output)
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    status, output = _run(["state", db, "raw-1"])
    assert status in (0, 2)
    status, output = _run(["verify", db])
    assert status == 1 and "BROKEN at position 1" in output
    store = EventStore.open(path, read_only=True)
    try:
        read = list(store.read_stream("raw-1"))
        assert [e.decode_error is not None for e in read] == [True, True, True, True]
        assert all(e.data == {} for e in read)
    finally:
        store.close()


def test_pathological_lines_in_a_jsonl_file_are_reported_by_line(tmp_path: Path) -> None:
    good = {"stream_id": "s-1", "event_type": "Ok", "data": {"balance": 1}}
    lines = [
        orjson.dumps(good),
        b'{"stream_id":"s-1","event_type":"Big","data":{"n":' + b"9" * 10**6 + b"}}",
        b'{"stream_id":"s-1","event_type":"Deep","data":'
        + b'{"a":' * DEPTH
        + b"{}"
        + b"}" * DEPTH
        + b"}",
        orjson.dumps({**good, "event_type": "Ok2"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    warning = "eventscope: warning: 2 malformed lines skipped (lines 2, 3)"
    status, output = _run(["verify", str(path), "--json"])
    assert status == 1
    report = orjson.loads(output.split(warning)[0])  # stdout; the warning is on stderr
    assert report["malformed"] == 2 and "line 2" in report["reason"]
    status, output = _run(["events", str(path), "s-1", "--json"])
    assert status == 0 and output.count(warning) == 1
    assert [e["event_type"] for e in orjson.loads(output.split(warning)[0])] == ["Ok", "Ok2"]
