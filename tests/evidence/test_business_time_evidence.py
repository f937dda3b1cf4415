"""Reports and bundles on the business-time axis: they say "as of business time O, as
known at R", list the events applied in that order, and a bundle's business-time states
are recomputed by the standalone verifier from the events it holds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventscope.demo_data import build_fixture_store
from eventscope.store.records import format_timestamp, parse_timestamp

from tests.evidence.conftest import load_verifier, run, run_verifier, unzip


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """The fixture demo and its first backdated correction."""
    path = tmp_path_factory.mktemp("bt-evidence") / "demo.db"
    manifest = build_fixture_store(path)
    correction = next(a for a in manifest["anomalies"] if a["kind"] == "backdated_correction")
    return str(path), correction


def _moments(correction: dict[str, Any]) -> tuple[str, str]:
    """O: a minute after the correction's business time; R: just before it was recorded."""
    occurred = parse_timestamp(correction["occurred_at"])
    recorded = parse_timestamp(correction["recorded_at"])
    return (
        format_timestamp(occurred + timedelta(minutes=1)),
        format_timestamp(recorded - timedelta(seconds=1)),
    )


def test_report_states_business_time_and_lists_the_applied_events(planted) -> None:
    db, correction = planted
    as_of, _known = _moments(correction)
    code, out, err = run(
        "report", db, correction["stream_id"], "--at", as_of, "--axis", "occurred",
        "--no-access-log",
    )  # fmt: skip
    assert code == 0, err
    assert f"as of business time {as_of}, as known at" in out
    assert "(everything recorded)" in out
    assert "Events applied, in business-time order" in out
    state = orjson.loads(
        run("state", db, correction["stream_id"], "--at", as_of, "--axis", "occurred", "--json")[1]
    )
    assert correction["version"] in state["applied_versions"]
    assert ", ".join(str(v) for v in state["applied_versions"]) in out


def test_report_known_at_leaves_the_later_correction_out(planted) -> None:
    db, correction = planted
    as_of, known = _moments(correction)
    code, out, err = run(
        "report", db, correction["stream_id"], "--at", as_of, "--axis", "occurred",
        "--known-at", known, "--no-access-log",
    )  # fmt: skip
    assert code == 0, err
    assert f"as of business time {as_of}, as known at {known}" in out
    state = orjson.loads(
        run(
            "state", db, correction["stream_id"], "--at", as_of, "--axis", "occurred",
            "--known-at", known, "--json",
        )[1]
    )  # fmt: skip
    assert correction["version"] not in state["applied_versions"]


def test_bundle_on_the_occurred_axis_is_recomputed_by_the_verifier(planted, tmp_path: Path) -> None:
    db, correction = planted
    as_of, _known = _moments(correction)
    target = tmp_path / "case.zip"
    code, _out, err = run(
        "bundle", db, "--stream", correction["stream_id"], "--at", as_of, "--axis", "occurred",
        "--domain", "generic", "-o", str(target), "--no-access-log",
    )  # fmt: skip
    assert code == 0, err
    folder = unzip(target, tmp_path / "case")
    [entry] = json.loads((folder / "states.json").read_text())
    assert entry["axis"] == "occurred" and entry["as_of"] == as_of
    assert correction["version"] in entry["applied_versions"]
    # Not a prefix: something that happened after O is left out below the correction.
    prefix = list(range(1, correction["version"] + 1))
    assert entry["applied_versions"] != prefix
    assert entry["recompute"] is True
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["selection"]["axis"] == "occurred"
    done = run_verifier(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 of 1 states recomputed" in done.stdout
    # The verifier's own check: applied versions that are not what the events select.
    verifier = load_verifier(folder)
    events = [orjson.loads(line) for line in (folder / "events.jsonl").read_bytes().splitlines()]
    by_stream = verifier.check_streams([entry], events)
    wrong = {**entry, "applied_versions": prefix}  # "the last version that occurred by O"
    with pytest.raises(verifier.Altered, match="versions applied"):
        verifier.check_states([wrong], by_stream, manifest)
