"""The committed fixtures equal a fresh build, so they can never drift from the generator
(regenerate with `python -m eventscope.demo_data.fixtures` after an intended change)."""

from __future__ import annotations

from pathlib import Path

import orjson
from eventscope.demo_data import FIXTURE_EVENTS, FIXTURE_JSONL
from eventscope.demo_data.fixtures import FIXTURE_MANIFEST, fixture_files
from eventscope.domain.demo import built_by_demo
from eventscope.store import open_source


def test_committed_fixtures_equal_a_fresh_build(tmp_path: Path) -> None:
    jsonl, manifest = fixture_files(tmp_path)
    assert FIXTURE_JSONL.read_bytes() == jsonl
    assert FIXTURE_MANIFEST.read_bytes() == manifest


def test_the_fixture_has_every_anomaly_kind_and_both_schema_versions() -> None:
    manifest = orjson.loads(FIXTURE_MANIFEST.read_bytes())
    assert manifest["events"] == FIXTURE_EVENTS
    assert {a["kind"] for a in manifest["anomalies"]} == {
        "stale_snapshot",
        "projection_missed_event",
        "backdated_correction",
        "burst_before_freeze",
    }
    for change in manifest["schema_changes"]:
        assert change["stored_v1"] > 0 and change["stored_v2"] > 0
    lines = FIXTURE_JSONL.read_bytes().splitlines()
    assert len(lines) == FIXTURE_EVENTS


def test_the_jsonl_fixture_opens_as_a_source_with_a_verifiable_chain() -> None:
    source = open_source(str(FIXTURE_JSONL))
    try:
        assert not built_by_demo(source)  # a copy carries no label: generic unless asked
        assert source.event_count() == FIXTURE_EVENTS
        report = source.verify()
        assert report.ok and report.checked == FIXTURE_EVENTS
    finally:
        source.close()
