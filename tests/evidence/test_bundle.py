"""Evidence bundles: they verify with the standalone script in an isolated interpreter,
and every kind of alteration fails naming the event (or file) that was changed."""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import shutil
from pathlib import Path

import orjson
import pytest
from eventscope.demo_data import build_fixture_store

from tests.evidence.conftest import load_verifier, run, run_verifier, unzip

STREAMS = "account-000005,customer-000006"
AT = "2026-04-15T00:00:00Z"


@pytest.fixture(scope="module")
def bundle(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of two streams at T with the demo domain (aggregate-derived states)."""
    target = tmp_path_factory.mktemp("bundle") / "case.zip"
    code, out, err = run(
        "bundle", demo_db, "--streams", STREAMS, "--at", AT, "--domain", "eventscope.domain.demo",
        "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    assert "head digest:" in out and "manifest sha256:" in out
    return target


@pytest.fixture
def folder(bundle: Path, tmp_path: Path) -> Path:
    """A fresh unzipped copy for each test (tests edit it)."""
    return unzip(bundle, tmp_path / "case")


def event_lines(folder: Path) -> list[bytes]:
    return (folder / "events.jsonl").read_bytes().split(b"\n")[:-1]


def failure(folder: Path) -> str:
    """The verifier's failure message, in-process; fails the test if it says OK."""
    verifier = load_verifier(folder)
    with pytest.raises(verifier.Altered) as caught:
        verifier.verify(str(folder))
    return str(caught.value)


def names_position(message: str, position: int) -> bool:
    return re.search(rf"position {position}\b", message) is not None


def test_bundle_verifies_with_stdlib_only_in_isolated_python(
    folder: Path, bundle: Path, demo_db: str
) -> None:
    done = run_verifier(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    head = run("digest", demo_db)[1].strip()
    assert f"head digest {head} is intact" in done.stdout
    # the zip itself, and the digest kept in the case file
    done = run_verifier(folder, str(bundle), "--head", head)
    assert done.returncode == 0, done.stdout
    wrong = head[:-1] + ("0" if head[-1] != "0" else "1")
    done = run_verifier(folder, "--head", wrong)
    assert done.returncode == 1 and "not the digest kept outside" in done.stdout


def test_bundle_content_matches_the_store(folder: Path, demo_db: str) -> None:
    events = [orjson.loads(line) for line in event_lines(folder)]
    for stream_id in STREAMS.split(","):
        stored = orjson.loads(run("events", demo_db, stream_id, "--json")[1])
        state = orjson.loads(
            run(
                "state",
                demo_db,
                stream_id,
                "--at",
                AT,
                "--domain",
                "eventscope.domain.demo",
                "--json",
            )[1]
        )
        mine = [e for e in events if e["stream_id"] == stream_id]
        assert len(mine) == state["version"] > 0
        for line, original in zip(mine, stored, strict=False):
            assert {k: line[k] for k in original} == original
        states = json.loads((folder / "states.json").read_text())
        entry = next(s for s in states if s["stream_id"] == stream_id)
        assert entry["state"] == state["state"] and entry["version"] == state["version"]
        assert entry["derivation"] != "generic" and entry["complete_history"] is True
    assert all(e["recorded_at"] <= "2026-04-15T00:00:00.000000Z" for e in events)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["head_digest"] == run("digest", demo_db)[1].strip()
    assert manifest["counts"]["selected_events"] == len(events)


def test_every_sampled_one_byte_edit_fails_naming_its_event(folder: Path) -> None:
    lines = event_lines(folder)
    positions = [orjson.loads(line)["position"] for line in lines]
    original = (folder / "events.jsonl").read_bytes()
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    rng = random.Random(7)
    offsets = sorted(rng.sample(range(len(original)), 80))
    # and the first and last byte of three lines, and every newline between them
    for index in (0, len(lines) // 2, len(lines) - 1):
        offsets += [starts[index], starts[index] + len(lines[index]) - 1]
        offsets.append(starts[index] + len(lines[index]))
    for at in offsets:
        line_index = max(i for i, s in enumerate(starts) if s <= at)
        edited = bytearray(original)
        edited[at] ^= 0x01
        (folder / "events.jsonl").write_bytes(bytes(edited))
        message = failure(folder)
        assert names_position(message, positions[line_index]), (at, message)
    (folder / "events.jsonl").write_bytes(original)
    assert load_verifier(folder).verify(str(folder))[0].startswith("OK")


def test_one_byte_edit_in_a_payload_fails_in_a_subprocess(folder: Path) -> None:
    lines = event_lines(folder)
    target = orjson.loads(lines[3])
    raw = bytearray(lines[3])
    index = raw.index(b'"data":{') + len(b'"data":{') + 2
    raw[index] ^= 0x02
    lines[3] = bytes(raw)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    done = run_verifier(folder)
    assert done.returncode == 1
    assert done.stdout.startswith("FAILED:")
    assert names_position(done.stdout, target["position"])


def test_removed_event_fails_naming_it(folder: Path) -> None:
    lines = event_lines(folder)
    removed = orjson.loads(lines[5])
    del lines[5]
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    message = failure(folder)
    assert names_position(message, removed["position"]) and "removed" in message
    done = run_verifier(folder)
    assert done.returncode == 1 and names_position(done.stdout, removed["position"])


def test_removed_last_event_fails_naming_it(folder: Path) -> None:
    lines = event_lines(folder)
    removed = orjson.loads(lines[-1])
    (folder / "events.jsonl").write_bytes(b"\n".join(lines[:-1]) + b"\n")
    assert names_position(failure(folder), removed["position"])


def test_reordered_lines_fail_naming_the_moved_event(folder: Path) -> None:
    lines = event_lines(folder)
    first, second = orjson.loads(lines[2]), orjson.loads(lines[3])
    lines[2], lines[3] = lines[3], lines[2]
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    message = failure(folder)
    assert names_position(message, first["position"])
    assert names_position(message, second["position"])
    assert "reordered" in message


def test_consistent_forgery_of_an_event_and_its_hash_is_caught_by_the_chain(
    folder: Path,
) -> None:
    """Re-hashing an edited event (and its own link) still breaks the next link."""
    verifier = load_verifier(folder)
    lines = event_lines(folder)
    event = orjson.loads(lines[1])
    event["data"] = {**event["data"], "forged": True}
    envelope = verifier.envelope_of(event)
    event["hash"] = verifier.chain_hash(event["prev_hash"], envelope)
    lines[1] = verifier.canonical(event)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    chain = (folder / "chain.jsonl").read_bytes().split(b"\n")[:-1]
    for i, raw in enumerate(chain):
        link = orjson.loads(raw)
        if link["position"] == event["position"]:
            link["hash"] = event["hash"]
            chain[i] = verifier.canonical(link)
    (folder / "chain.jsonl").write_bytes(b"\n".join(chain) + b"\n")
    message = failure(folder)
    assert names_position(message, event["position"] + 1)


def test_every_sampled_one_byte_edit_of_the_chain_fails_naming_its_position(
    folder: Path,
) -> None:
    original = (folder / "chain.jsonl").read_bytes()
    links = original.split(b"\n")[:-1]
    owner: list[int] = []  # byte offset -> position of the link it belongs to
    for raw in links:
        owner += [orjson.loads(raw)["position"]] * (len(raw) + 1)
    verifier = load_verifier(folder)
    for at in sorted(random.Random(11).sample(range(len(original)), 60)):
        edited = bytearray(original)
        edited[at] ^= 0x01
        (folder / "chain.jsonl").write_bytes(bytes(edited))
        with pytest.raises(verifier.Altered) as caught:
            verifier.verify(str(folder))
        assert names_position(str(caught.value), owner[at]), (at, str(caught.value))


def test_edited_context_event_fails_naming_it(folder: Path) -> None:
    chain = (folder / "chain.jsonl").read_bytes().split(b"\n")[:-1]
    index = next(i for i, raw in enumerate(chain) if b'"envelope"' in raw)
    position = orjson.loads(chain[index])["position"]
    chain[index] = chain[index].replace(b'"version":', b'"version":1', 1)
    (folder / "chain.jsonl").write_bytes(b"\n".join(chain) + b"\n")
    assert names_position(failure(folder), position)


def test_truncated_chain_fails(folder: Path) -> None:
    chain = (folder / "chain.jsonl").read_bytes().split(b"\n")[:-1]
    (folder / "chain.jsonl").write_bytes(b"\n".join(chain[:-2]) + b"\n")
    assert "not at the head digest" in failure(folder)


def test_edited_state_file_fails(folder: Path) -> None:
    states = json.loads((folder / "states.json").read_text())
    states[0]["state"]["balance_cents"] = states[0]["state"].get("balance_cents", 0) + 100
    (folder / "states.json").write_text(json.dumps(states, indent=2))
    message = failure(folder)
    assert "states.json" in message
    done = run_verifier(folder)
    assert done.returncode == 1 and "states.json" in done.stdout


def test_generic_states_are_recomputed_so_editing_state_and_manifest_together_fails(
    demo_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "generic.zip"
    code, _, err = run(
        "bundle", demo_db, "--stream", "account-000002", "--domain", "generic", "-o", str(target)
    )
    assert code == 0, err
    folder = unzip(target, tmp_path / "generic")
    assert "1 of 1 states recomputed" in run_verifier(folder).stdout
    states = json.loads((folder / "states.json").read_text())
    assert states[0]["recompute"] is True
    states[0]["state"]["extra"] = 1
    payload = json.dumps(states).encode()
    (folder / "states.json").write_bytes(payload)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["states.json"] = hashlib.sha256(payload).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    message = failure(folder)
    assert "account-000002" in message and "fold" in message


def test_hashes_only_bundle_verifies_but_says_what_it_cannot_prove(
    demo_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "private.zip"
    code, _, err = run(
        "bundle", demo_db, "--correlation", "onboarding-customer-000002", "--links", "hashes",
        "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    folder = unzip(target, tmp_path / "private")
    events = [orjson.loads(line) for line in event_lines(folder)]
    assert events and all(
        e["metadata"]["correlation_id"] == "onboarding-customer-000002" for e in events
    )
    assert b'"envelope"' not in (folder / "chain.jsonl").read_bytes()
    done = run_verifier(folder)
    assert done.returncode == 0, done.stdout
    assert "NOT proven offline" in done.stdout
    lines = event_lines(folder)
    lines[0] = lines[0].replace(b'"actor":"', b'"actor":"x', 1)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    assert names_position(failure(folder), events[0]["position"])


def test_bundle_refuses_a_broken_store_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "tampered.db"
    manifest = build_fixture_store(db, tamper=True)
    bad = next(a for a in manifest["anomalies"] if a["kind"] == "tampered_event")
    target = tmp_path / "case.zip"
    code, out, err = run("bundle", str(db), "--stream", bad["stream_id"], "-o", str(target))
    assert code != 0 and "broken" in err and "Traceback" not in err
    assert not target.exists()
    assert not list(tmp_path.glob(".case.zip*"))


def test_bundle_refuses_to_replace_a_file(demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "case.zip"
    target.write_bytes(b"keep me")
    code, _, err = run("bundle", demo_db, "--stream", "account-000001", "-o", str(target))
    assert code != 0 and "already exists" in err
    assert target.read_bytes() == b"keep me"


def test_verifier_file_in_bundle_is_the_packaged_one(folder: Path) -> None:
    from eventscope.domain.evidence.bundle import VERIFIER_PATH

    assert (folder / "verify_bundle.py").read_bytes() == VERIFIER_PATH.read_bytes()
    assert "import eventscope" not in VERIFIER_PATH.read_text()
    source = VERIFIER_PATH.read_text()
    for module in ("orjson", "store", "domain", "explorer"):
        assert not re.search(rf"^\s*(from|import) {module}\b", source, re.M)
    # the README promises Python 3.8+: the grammar must parse as 3.8
    ast.parse(source, feature_version=(3, 8))
    shutil.rmtree(folder)
