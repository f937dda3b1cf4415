"""The timeline and diff screens on the demo fixture (400 events, every planted anomaly),
replayed with the demo's own domain code, as a new user following the tour would."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.screens.diff import DiffScreen, Side
from eventscope.explorer.screens.timeline import TimelineScreen
from eventscope.explorer.widgets.diff_view import DiffView
from eventscope.explorer.widgets.time_slider import TimeSlider
from support.timeline_stores import open_app, screen_text, settle

SIZE = (160, 48)
DOMAIN = "eventscope.domain.demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    manifest = build_fixture_store(path)
    return path, manifest


def _first(manifest: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in manifest["anomalies"] if a["kind"] == kind)


async def test_first_divergence_finds_the_cause_of_the_stale_snapshot(demo):
    """The stale snapshot was written by code that ignored FeeCharged: "first
    divergence" lands on the first FeeCharged (the cause), not on the snapshot where the
    error was noticed, and says which of the two it found."""
    path, manifest = demo
    stale = _first(manifest, "stale_snapshot")
    app = open_app(path, stream=stale["stream_id"], domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen) and timeline.shown is not None
        await pilot.press("d")
        await settle(app, pilot)
        diff_screen = app.screen
        assert isinstance(diff_screen, DiffScreen)
        assert "written by account code bank-2." in screen_text(app)  # who wrote the claim
        await pilot.press("f")
        await settle(app, pilot)
        finding = diff_screen.finding
        assert finding.found == "cause"
        source = app.source
        fees = [
            e.version
            for e in source.read_stream(stale["stream_id"])
            if e.event_type == "FeeCharged"
        ]
        assert finding.version == fees[0] < stale["version"]
        assert "found the cause" in finding.sentence
        assert f"first wrong snapshot is v{stale['version']}" in finding.sentence
        assert app.screen is timeline and timeline.shown.version == fees[0]
        await pilot.press("end", "d")  # the diff still shows the stale snapshot's claim
        await settle(app, pilot)
        lines = app.screen.query_one(DiffView).plain_lines()
        field = stale["field"]
        expected = f"~ {field}: {stale['snapshot_value']} → {stale['replay_value']}"
        app.screen.query_one("#left-value").value = str(stale["version"])
        app.screen.query_one("#right-value").value = str(stale["version"])
        app.screen.action_compare()
        await settle(app, pilot)
        lines = app.screen.query_one(DiffView).plain_lines()
        assert any(line.startswith(expected) for line in lines), lines


async def test_first_divergence_of_a_projection_row_opens_the_missed_event(demo):
    path, manifest = demo
    missed = _first(manifest, "projection_missed_event")
    app = open_app(path, domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        name, key = missed["projection"], missed["key"]
        diff_screen = DiffScreen(
            key,
            left=Side("projection", projection=name, key=key),
            right=Side("projection-replay", projection=name, key=key),
        )
        app.push_screen(diff_screen)
        await settle(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        finding = diff_screen.finding
        # The planted missed deposit is among the events whose absence explains the row
        # exactly (another deposit of the same amount explains it as well); the first
        # such event is opened, and the sentence names every candidate.
        assert finding.found == "cause" and missed["position"] in finding.candidates
        assert finding.position == finding.candidates[0]
        assert "projector missed" in finding.sentence
        assert f"{missed['position']:,}" in finding.sentence or len(finding.candidates) == 1
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        assert timeline.stream_id == missed["stream_id"]
        assert timeline.shown.version == app.source.event_at(finding.position).version


async def test_projection_row_that_missed_an_event_differs_from_its_replay(demo):
    path, manifest = demo
    missed = _first(manifest, "projection_missed_event")
    app = open_app(path, domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        name, key = missed["projection"], missed["key"]
        app.push_screen(
            DiffScreen(
                key,
                left=Side("projection", projection=name, key=key),
                right=Side("projection-replay", projection=name, key=key),
            )
        )
        await settle(app, pilot)
        screen = app.screen
        assert screen.error is None, screen.error
        lines = screen.query_one(DiffView).plain_lines()
        assert any(line.startswith(f"~ {missed['field']}:") for line in lines), lines


async def test_occurred_axis_jump_lands_on_the_backdated_correction(demo):
    path, manifest = demo
    backdated = _first(manifest, "backdated_correction")
    app = open_app(path, stream=backdated["stream_id"], domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("a", "a", "t")
        assert screen.query_one(TimeSlider).axis == "occurred"
        app.screen.query_one("#jump-input").value = backdated["occurred_at"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.shown.version == backdated["version"]
        occurred = datetime.fromisoformat(backdated["occurred_at"].replace("Z", "+00:00"))
        assert occurred.strftime("%Y-%m-%d %H:%M:%S") in screen_text(app)


async def test_occurred_axis_shows_which_events_are_in_the_answer(demo):
    """As of the backdated correction's business time the events recorded before it but
    that happened later are not in the answer (dimmed), and the pane says "as of business
    time O, as known at R". With '@ R' before the correction was recorded, it is out."""
    path, manifest = demo
    backdated = _first(manifest, "backdated_correction")
    stream, version = backdated["stream_id"], backdated["version"]
    app = open_app(path, stream=stream, version=version, domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("a", "a")
        await settle(app, pilot)
        step = screen.shown
        assert step.applied is not None and version in step.applied
        later = [
            e.version
            for e in app.source.read_stream(stream)
            if e.version < version and e.occurred_at.isoformat() > backdated["occurred_at"][:-1]
        ]
        assert later and not set(later) & step.applied
        text = screen_text(app)
        assert "as of business time" in text and "everything recorded" in text
        event_list = screen.event_list
        row = event_list.row_at(later[0] - 1)
        assert row is not None and event_list.row_style(row) == "dim"
        assert event_list.row_style(event_list.row_at(version - 1)) is None
        # Both moments: as of the correction's business time, as known just before it
        # was recorded -- the correction is not known then, so it is not in the answer.
        recorded = datetime.fromisoformat(backdated["recorded_at"].replace("Z", "+00:00"))
        known = (recorded.replace(microsecond=0) - timedelta(seconds=1)).isoformat()
        await pilot.press("t")
        app.screen.query_one("#jump-input").value = f"{backdated['occurred_at']} @ {known}"
        await pilot.press("enter")
        await settle(app, pilot)
        step = screen.shown
        assert step.known_at is not None and version not in step.applied
        assert f"as known at {known[:19].replace('T', ' ')}" in screen_text(app)
