"""The timeline and diff screens on the demo fixture (400 events, every planted anomaly),
replayed with the demo's own domain code, as a new user following the tour would."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from timeline_stores import open_app, screen_text, settle

from demo_data import build_fixture_store
from explorer.screens.diff import DiffScreen, Side
from explorer.screens.timeline import TimelineScreen
from explorer.widgets.diff_view import DiffView
from explorer.widgets.time_slider import TimeSlider

SIZE = (160, 48)
DOMAIN = "domain.demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    manifest = build_fixture_store(path)
    return path, manifest


def _first(manifest: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in manifest["anomalies"] if a["kind"] == kind)


async def test_bisect_finds_the_planted_stale_snapshot(demo):
    path, manifest = demo
    stale = _first(manifest, "stale_snapshot")
    app = open_app(path, stream=stale["stream_id"], domain=DOMAIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen) and timeline.shown is not None
        await pilot.press("d", "f")
        await settle(app, pilot)
        assert app.screen is timeline and timeline.shown.version == stale["version"]
        await pilot.press("d")  # the diff now opens on that snapshot
        await settle(app, pilot)
        lines = app.screen.query_one(DiffView).plain_lines()
        field = stale["field"]
        expected = f"~ {field}: {stale['snapshot_value']} → {stale['replay_value']}"
        assert expected in lines


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
