"""Every planted anomaly in the manifest is found by the engine and the headless commands,
and nothing else is reported: a clean demo's snapshots and read models agree with the
replay everywhere except where the manifest says."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from demo_stores import anomalies
from eventscope.demo_data import build_fixture_store, load_manifest, manifest_path
from eventscope.domain.demo import DOMAIN, built_by_demo
from eventscope.domain.engine import Engine
from eventscope.explorer.cli import main
from eventscope.store import EventFilter, EventStore


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_manifest_lists_every_kind_and_is_stored_beside_the_store(fixture_demo) -> None:
    path, manifest = fixture_demo
    assert load_manifest(path) == manifest
    assert manifest_path(path) == path.with_name("demo.db.manifest.json")
    kinds = {item["kind"] for item in manifest["anomalies"]}
    assert kinds == {
        "stale_snapshot",
        "projection_missed_event",
        "backdated_correction",
        "burst_before_freeze",
    }
    assert len(anomalies(manifest, "stale_snapshot")) == 3
    assert len(anomalies(manifest, "backdated_correction")) == 4


def test_consistency_reports_exactly_the_planted_snapshots_and_row(
    fixture_demo, fixture_source: EventStore
) -> None:
    _path, manifest = fixture_demo
    assert built_by_demo(fixture_source)
    report = Engine(fixture_source, DOMAIN).consistency()
    assert report.checked_snapshots > 10 and report.checked_rows > 50
    assert report.unchecked == []
    found_snapshots = {(p.stream_id, p.version) for p in report.problems if p.kind == "snapshot"}
    planted = {(a["stream_id"], a["version"]) for a in anomalies(manifest, "stale_snapshot")}
    assert found_snapshots == planted
    found_rows = {(p.projection, p.key) for p in report.problems if p.kind == "projection"}
    (missed,) = anomalies(manifest, "projection_missed_event")
    assert found_rows == {("account_balances", missed["key"])}


def test_a_stale_snapshot_differs_from_the_replay_by_the_fees(fixture_demo, fixture_source) -> None:
    _path, manifest = fixture_demo
    engine = Engine(fixture_source, DOMAIN)
    for item in anomalies(manifest, "stale_snapshot"):
        (entry,) = engine.diff_snapshot(item["stream_id"], item["version"])
        assert list(entry.path) == ["balance_cents"]
        assert (entry.before, entry.after) == (item["snapshot_value"], item["replay_value"])
        snapshot = engine.snapshot(item["stream_id"], item["version"])
        assert snapshot.code_version == "bank-2.1"
        # The difference is exactly the fees booked up to that version.
        fees = sum(
            int(e.data["amount"].replace(".", ""))
            for e in fixture_source.read_stream(item["stream_id"], to_version=item["version"])
            if e.event_type == "FeeCharged"
        )
        assert fees > 0 and entry.before - entry.after == fees


def test_the_projection_row_is_short_by_the_missed_deposit(fixture_demo, fixture_source) -> None:
    _path, manifest = fixture_demo
    (missed,) = anomalies(manifest, "projection_missed_event")
    entries = {
        tuple(e.path): e
        for e in Engine(fixture_source, DOMAIN).diff_projection("account_balances", missed["key"])
    }
    assert set(entries) == {("balance_cents",), ("movements",)}
    cents = int(missed["missing_amount"].replace(".", ""))
    assert entries[("balance_cents",)].after - entries[("balance_cents",)].before == cents
    assert entries[("movements",)].after - entries[("movements",)].before == 1
    event = fixture_source.event_at(missed["position"])
    assert event is not None and event.event_type == "MoneyDeposited"
    assert event.stream_id == missed["key"]


def test_backdated_corrections_are_the_only_events_whose_business_time_is_earlier(
    fixture_demo, fixture_source
) -> None:
    _path, manifest = fixture_demo
    backdated = {
        event.position
        for event in fixture_source.read_all()
        if event.occurred_at != event.recorded_at
    }
    planted = anomalies(manifest, "backdated_correction")
    assert backdated == {item["position"] for item in planted}
    for item in planted:
        event = fixture_source.event_at(item["position"])
        assert event is not None and event.event_type == "CorrectionPosted"
        assert event.recorded_at - event.occurred_at > timedelta(days=1)
        assert event.actor == "backoffice:l.moreau"
        # The bitemporal view: the correction is in the state as of its business time on the
        # occurred axis, but was not yet known at that moment on the recorded axis.
        engine = Engine(fixture_source, DOMAIN)
        timeline = engine.timeline(item["stream_id"])
        assert timeline.version_at_time(event.occurred_at, axis="occurred") >= event.version
        assert timeline.version_at_time(event.occurred_at, axis="recorded") < event.version


def test_burst_then_freeze_then_declines(fixture_demo, fixture_source) -> None:
    _path, manifest = fixture_demo
    (burst,) = anomalies(manifest, "burst_before_freeze")
    account = burst["stream_id"]
    events = list(
        fixture_source.read_all(
            burst["first_position"] - 1,
            burst["last_position"],
            filter=EventFilter(stream_id=account),
        )
    )
    assert events[0].event_type == "MoneyDeposited" and events[0].data["amount"] == "9800.00"
    outgoing = [e for e in events if e.event_type in ("MoneyWithdrawn", "TransferDebited")]
    assert len(outgoing) >= 10
    assert (events[-1].recorded_at - events[0].recorded_at).total_seconds() < 3600
    frozen = fixture_source.event_at(burst["freeze_position"])
    assert frozen is not None and frozen.event_type == "AccountFrozen"
    assert frozen.stream_id == account and frozen.actor == "officer:m.okafor"
    assert burst["declined_transfer_positions"]
    for position in burst["declined_transfer_positions"]:
        requested = fixture_source.event_at(position)
        assert requested is not None and requested.data["from_account"] == account
        (outcome,) = [e for e in fixture_source.read_stream(requested.stream_id) if e.version == 2]
        assert outcome.event_type == "TransferDeclined" and "frozen" in outcome.data["reason"]


def test_tamper_is_found_by_verify_at_the_manifest_position(tmp_path: Path) -> None:
    path = tmp_path / "tampered.db"
    manifest = build_fixture_store(path, tamper=True)
    assert manifest["tampered"] is True
    (tampered,) = anomalies(manifest, "tampered_event")
    result = run_cli("verify", str(path), "--json")
    assert result.exit_code == 1
    report = orjson.loads(result.stdout)
    assert report["ok"] is False
    assert report["first_bad_position"] == tampered["position"]
    source = EventStore.open(str(path), read_only=True)
    try:
        event = source.event_at(tampered["position"])
        assert event is not None and event.data["amount"] == tampered["tampered_value"]
    finally:
        source.close()


def test_without_tamper_the_chain_verifies_against_the_manifest_digest(fixture_demo) -> None:
    path, manifest = fixture_demo
    result = run_cli("verify", str(path), "--against", manifest["head_digest"], "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["ok"] is True


@pytest.mark.parametrize("kind", ["stale_snapshot", "projection_missed_event"])
def test_the_manifest_commands_find_the_anomaly(fixture_demo, tmp_path: Path, kind: str) -> None:
    path, manifest = fixture_demo
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    for item in anomalies(manifest, kind):
        args = item["find_with"].split()[1:]
        args[args.index("DB")] = str(copy)
        result = run_cli(*args, "--json")
        assert result.exit_code == 0, result.output
        printed = orjson.loads(result.stdout)
        # diff --snapshot prints {snapshot: provenance, differences}; --projection a list
        entries = printed["differences"] if isinstance(printed, dict) else printed
        assert ["balance_cents"] in [entry["path"] for entry in entries]
