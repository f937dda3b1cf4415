"""`eventscope demo` and the embedded default demo, through the real CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.demo_data import default_demo_path, ensure_default_demo, load_manifest
from eventscope.explorer.cli import main
from eventscope.store import EventStore, NewEvent


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_builds_a_store_and_says_how_to_find_the_anomalies(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = invoke("demo", "--db", str(db), "--events", "600", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert f"Built {db}: 600 events" in result.output
    assert "stale_snapshot: eventscope diff" in result.output
    assert "--domain eventscope.domain.demo" in result.output
    manifest = load_manifest(db)
    assert manifest is not None and manifest["events"] == 600 and manifest["seed"] == 3
    store = EventStore.open(str(db), read_only=True)
    try:
        assert store.head_position() == 600
        assert store.verify().ok
    finally:
        store.close()
    assert not list(tmp_path.glob(".*building*"))  # no temporary left behind


def test_an_existing_store_is_kept_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert invoke("demo", "--db", str(db), "--events", "300").exit_code == 0
    before = digest(db)
    result = invoke("demo", "--db", str(db), "--events", "400")
    assert result.exit_code == 2
    assert result.output.strip() == f"eventscope: {db} already exists; pass --force to replace it"
    assert digest(db) == before
    result = invoke("demo", "--db", str(db), "--events", "400", "--force", "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["events"] == 400
    assert load_manifest(db)["events"] == 400


def test_force_never_replaces_a_file_that_is_not_a_demo(tmp_path: Path) -> None:
    evidence = tmp_path / "audit.db"
    store = EventStore.open(str(evidence))
    store.append("acct-1", [NewEvent("Opened", {"owner": "ann"})], stream_type="account")
    store.close()
    before = digest(evidence)
    result = invoke("demo", "--db", str(evidence), "--force")
    assert result.exit_code == 2
    assert "is not a demo store" in result.output and "Traceback" not in result.output
    assert digest(evidence) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "10"], "a demo needs at least 300 events, not 10"),
        (["--db", "{tmp}/missing/demo.db"], "the folder {tmp}/missing does not exist"),
        (["--db", "{tmp}"], "is a folder"),
    ],
)
def test_bad_input_is_one_sentence(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    if "--db" not in args:
        args += ["--db", str(tmp_path / "demo.db")]
    result = invoke("demo", *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message.format(tmp=tmp_path) in lines[0]
    assert "Traceback" not in result.output


def test_tamper_flag_breaks_the_chain(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = invoke("demo", "--db", str(db), "--events", "300", "--tamper", "--json")
    assert result.exit_code == 0, result.output
    (tampered,) = [
        a for a in orjson.loads(result.stdout)["anomalies"] if a["kind"] == "tampered_event"
    ]
    verify = invoke("verify", str(db), "--json")
    assert verify.exit_code == 1
    assert orjson.loads(verify.stdout)["first_bad_position"] == tampered["position"]


def test_the_default_demo_is_built_once_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    import eventscope.demo_data.default as default

    monkeypatch.setattr(default, "DEFAULT_EVENTS", 500, raising=False)
    calls: list[tuple[int, int]] = []
    path = ensure_default_demo(lambda done, total: calls.append((done, total)))
    assert path == default_demo_path() == tmp_path / "data" / "eventscope" / "demo.db"
    assert calls and calls[-1][0] == calls[-1][1]
    first = digest(path)
    calls.clear()
    assert ensure_default_demo(lambda done, total: calls.append((done, total))) == path
    assert calls == [] and digest(path) == first  # not rebuilt
    path.with_name("demo.db.manifest.json").unlink()  # an unfinished build: rebuilt
    assert ensure_default_demo() == path and load_manifest(path) is not None
