"""Bundles a reviewer can trust (reliability.md test 12, attacked).

Forgeries that the verifier used to accept with ``--head`` (the head digest kept
outside, as the README says to run it), each made the way an attacker with the bundle in
hand would: edit, then rewrite states.json and the manifest's file digests to match.

* a selected event moved into the context chain, its stream's state rewritten to the
  version before it -> FAILED, naming the moved event;
* a state marked "not recomputed" and edited -> FAILED (the verifier recomputes every
  state it can, whatever states.json claims), and the ones it cannot are listed with why;
* no ``--manifest-sha256`` -> a NOTE says the manifest itself was not checked;
* the verifier replaced by a three-line fake -> `eventscope verify-bundle` runs the copy
  installed with eventscope and fails; the genuine copy's SHA-256 is published in the
  README, `eventscope --version --verbose`, the report and the bundle's own README.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventscope.domain.evidence import verify_bundle
from eventscope.domain.evidence.bundle import VERIFIER_PATH, verifier_sha256
from eventscope.explorer.cli import main
from eventscope.store import NewEvent
from reliability_support import figure

from tests.conftest import StoreFactory

HERE = Path(__file__).parent
SELECTED = "acct-1"


def _location(factory: StoreFactory) -> str:
    if factory.backend == "sqlite":
        return factory.location
    return f"{factory.location}?schema={factory.open_options['schema']}"


def _cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def source(store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("EVENTSCOPE_ACCESS_LOG", str(tmp_path / "access.jsonl"))
    store = store_factory()
    for n in range(1, 7):  # interleaved, so the chain between acct-1's events has context
        store.append(SELECTED, [NewEvent("Noted", {"n": n, "total": n * 10})], stream_type="acct")
        metadata = {"correlation_id": "c-1" if n % 2 == 0 else f"c-{n}"}
        store.append("acct-2", [NewEvent("Noted", {"other": n}, metadata)])
    return _location(store_factory)


def _bundle(source: str, folder: Path, *extra: str) -> tuple[Path, str, str]:
    target = folder.parent / f"{folder.name}.zip"
    code, out, err = _cli(["bundle", source, *extra, "-o", str(target), "--json"])
    assert code == 0, err
    summary = json.loads(out)
    folder.mkdir()
    with zipfile.ZipFile(target) as archive:
        archive.extractall(folder)
    return folder, summary["head_digest"], summary["manifest_sha256"]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _reseal(folder: Path) -> None:
    """What a forger does last: make manifest.json's file digests match the edits."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _verify(folder: Path, head: str, manifest_sha256: str | None = None) -> list[str]:
    return verify_bundle.verify(str(folder), head, manifest_sha256)


def _failure(folder: Path, head: str) -> str:
    with pytest.raises(verify_bundle.Altered) as caught:
        _verify(folder, head)
    return str(caught.value)


def _move_last_selected_into_context(folder: Path) -> int:
    events = [json.loads(line) for line in _lines(folder / "events.jsonl")]
    moved = events.pop()
    (folder / "events.jsonl").write_bytes(
        b"".join(verify_bundle.canonical(event) + b"\n" for event in events)
    )
    envelope = verify_bundle.canonical(verify_bundle.envelope_of(moved))
    chain = []
    for line in _lines(folder / "chain.jsonl"):
        link = json.loads(line)
        if link["position"] == moved["position"]:
            line = (
                b'{"envelope":' + envelope + b',"hash":"' + link["hash"].encode()
                + b'","position":' + str(link["position"]).encode() + b"}"
            )  # fmt: skip
        chain.append(line + b"\n")
    (folder / "chain.jsonl").write_bytes(b"".join(chain))
    states = json.loads((folder / "states.json").read_text())
    for entry in states:
        if entry["stream_id"] == moved["stream_id"]:
            entry["version"] -= 1
            state: dict[str, Any] = {}
            for event in events:
                if event["stream_id"] == moved["stream_id"]:
                    verify_bundle.merge(state, event["data"])
            entry["state"] = state
    (folder / "states.json").write_text(json.dumps(states, indent=2) + "\n")
    _reseal(folder)
    return int(moved["position"])


def test_a_selected_event_moved_into_the_context_chain_is_caught(
    source: str, tmp_path: Path, store_factory: StoreFactory
) -> None:
    tried = 0
    for extra in ([], ["--at", "9999-01-01T00:00:00Z"]):
        folder, head, _ = _bundle(source, tmp_path / f"moved{tried}", "--stream", SELECTED, *extra)
        assert _verify(folder, head)[0].startswith("OK")
        position = _move_last_selected_into_context(folder)
        message = _failure(folder, head)
        assert f"position {position}" in message and "moved out" in message, message
        tried += 1
    # An honest bundle at an earlier time keeps later events of the stream as context.
    folder, head, _ = _bundle(
        source, tmp_path / "early", "--stream", SELECTED, "--at", _time(source, 3)
    )
    assert _verify(folder, head)[0].startswith("OK")
    figure(
        f"bundle/moved-event/{store_factory.backend}",
        f"{tried}/{tried} bundles with a selected event moved into the context chain (states "
        "and digests rewritten) FAILED with --head; an honest earlier-time bundle passed",
    )


def _time(source: str, version: int) -> str:
    code, out, _ = _cli(["events", source, SELECTED, "--json"])
    assert code == 0
    return json.loads(out)[version - 1]["recorded_at"]


def test_every_state_it_can_recompute_is_recomputed_and_the_rest_are_named(
    source: str, tmp_path: Path
) -> None:
    folder, head, manifest_sha256 = _bundle(source, tmp_path / "marked", "--stream", SELECTED)
    states = json.loads((folder / "states.json").read_text())
    states[0]["recompute"] = False
    states[0]["state"]["total"] = 1_000_000
    (folder / "states.json").write_text(json.dumps(states, indent=2) + "\n")
    _reseal(folder)
    assert "is not what its events fold to" in _failure(folder, head)
    # A correlation bundle holds part of a stream: that state is listed, with the reason.
    folder, head, manifest_sha256 = _bundle(source, tmp_path / "corr", "--correlation", "c-1")
    lines = _verify(folder, head, manifest_sha256)
    text = "\n".join(lines)
    assert "0 of 1 states recomputed" in text, text
    assert '"acct-2" at version 6: the bundle does not hold its whole history' in text, text
    assert "no --manifest-sha256" not in text
    assert "no --manifest-sha256" in "\n".join(_verify(folder, head))


def test_the_verifier_inside_a_bundle_is_not_the_one_to_trust(source: str, tmp_path: Path) -> None:
    folder, head, manifest_sha256 = _bundle(source, tmp_path / "fake", "--stream", SELECTED)
    readme = (folder / "README.md").read_text()
    assert verifier_sha256() in readme and "sha256sum verify_bundle.py" in readme
    # The forger's bundle: an edited event and a verifier that always says OK.
    lines = _lines(folder / "events.jsonl")
    lines[0] = lines[0].replace(b'"total":10', b'"total":99')
    (folder / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    (folder / "verify_bundle.py").write_text("print('OK: everything matches')\n")
    _reseal(folder)
    assert hashlib.sha256((folder / "verify_bundle.py").read_bytes()).hexdigest() not in readme
    code, out, _ = _cli(["verify-bundle", str(folder), "--head", head])
    assert code == 1 and "FAILED" in out and verifier_sha256() in out, out
    # The genuine copy passes a genuine bundle, and says the manifest was checked.
    genuine, head, manifest_sha256 = _bundle(source, tmp_path / "genuine", "--stream", SELECTED)
    code, out, _ = _cli(
        ["verify-bundle", str(genuine), "--head", head, "--manifest-sha256", manifest_sha256]
    )
    assert code == 0 and "NOTE: manifest.json was not compared" not in out, out
    # Published where a reviewer looks: --version --verbose, the README, the report.
    code, out, _ = _cli(["--version", "--verbose"])
    assert code == 0 and verifier_sha256() in out
    assert verifier_sha256() in (HERE.parents[1] / "README.md").read_text()
    code, report, _ = _cli(["report", source, SELECTED, "--no-access-log"])
    assert code == 0 and verifier_sha256() in report
    assert verifier_sha256() == hashlib.sha256(VERIFIER_PATH.read_bytes()).hexdigest()
