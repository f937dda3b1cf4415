"""Bundles and anchored digests on both backends, with payloads that exercise every corner
of canonical JSON the standalone verifier re-implements (floats, non-ASCII and astral
keys, escapes, nulls, deep objects)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from eventscope.store import NewEvent

from tests.conftest import StoreFactory
from tests.evidence.conftest import run, run_verifier, unzip

TRICKY = [
    {"amount": 1.5, "rate": 0.1, "big": 1e21, "small": 1e-7, "neg": -2.5e-5, "int": 2**53},
    {"é": "café", "日本": "語", "\U0001f600": "astral key", "\uff61": "sorts after astral"},
    {"text": 'quote " backslash \\ tab \t nl \n ctl \x01 del \x7f', "nested": {"a": {"b": 1}}},
    {"nested": {"a": None, "c": [1, {"d": None}]}, "amount": None},
    {"flag": True, "none_kept": False, "list": [], "obj": {}},
]


def fill(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.append(
        "other-1", [NewEvent("Noise", {"secret": "zz-private-1", "n": 1})], stream_type="x"
    )
    store.append(
        "case-1",
        [NewEvent("Changed", data, {"actor": "ann", "correlation_id": "c-1"}) for data in TRICKY],
        stream_type="case",
    )
    store.append(
        "other-2",
        [NewEvent("Noise", {"secret": "zz-private-2", "inner": {"hash": "x", "position": 9}})],
        stream_type="x",
    )
    store.close()


def cli_location(store_factory: StoreFactory) -> str:
    if store_factory.backend == "sqlite":
        return store_factory.location
    return f"{store_factory.location}?schema={store_factory.open_options['schema']}"


def test_bundle_with_tricky_payloads_verifies_offline(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    fill(store_factory)
    source = cli_location(store_factory)
    target = tmp_path / "case.zip"
    code, _, err = run("bundle", source, "--stream", "case-1", "-o", str(target))
    assert code == 0, err
    folder = unzip(target, tmp_path / "case")
    done = run_verifier(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 selected events" in done.stdout
    assert "1 of 1 states recomputed" in done.stdout
    states = json.loads((folder / "states.json").read_text())
    expected = orjson.loads(run("state", source, "case-1", "--json")[1])["state"]
    assert states[0]["state"] == expected and states[0]["recompute"] is True
    # the unselected event after the stream is context in the chain, not a selected event
    events = (folder / "events.jsonl").read_text()
    assert "zz-private-1" not in events and "zz-private-2" not in events
    assert "zz-private-2" in (folder / "chain.jsonl").read_text()


def test_hashes_only_bundle_keeps_other_payloads_private(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    fill(store_factory)
    target = tmp_path / "case.zip"
    args = ("bundle", cli_location(store_factory), "--correlation", "c-1", "--links", "hashes")
    code, _, err = run(*args, "-o", str(target))
    assert code == 0, err
    folder = unzip(target, tmp_path / "case")
    every_file = b"".join(p.read_bytes() for p in folder.iterdir())
    assert b"zz-private-1" not in every_file and b"zz-private-2" not in every_file
    done = run_verifier(folder)
    assert done.returncode == 0 and "NOT proven offline" in done.stdout


def test_verify_against_catches_a_cut_tail(store_factory: StoreFactory) -> None:
    fill(store_factory)
    source = cli_location(store_factory)
    anchored = run("digest", source)[1].strip()
    assert anchored.startswith("7:")
    store_factory.raw_execute("DELETE FROM events WHERE position > 5")
    hashes = store_factory.raw_execute("SELECT hash FROM events WHERE position = 5")
    store_factory.raw_execute(
        "UPDATE chain_head SET position = 5, hash = :h WHERE id = 1", {"h": hashes[0][0]}
    )
    store_factory.raw_execute(
        "UPDATE streams SET version = 4, event_count = 4 WHERE stream_id = 'case-1'"
    )
    code, out, _ = run("verify", source, "--against", anchored, "--json")
    report = orjson.loads(out)
    assert code == 1 and report["first_bad_position"] == 6
    assert "removed from the tail" in report["reason"]
