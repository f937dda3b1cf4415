"""SVG snapshots of the what-if timeline and the teaching screen, at 160×48 and 80×24.

Stores are opened by relative paths from inside tmp_path, so the status bar and the
teaching header do not show a temporary directory; the command log's clock is fixed and
the read models are caught up before the picture, so every run draws the same screen.
Update with `--snapshot-update` only after looking at the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.textual import wait_until
from support.timeline_stores import open_app, settle

SIZES = [(160, 48), (80, 24)]
IDS = ["160x48", "80x24"]


@pytest.fixture
def demo_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from eventscope.demo_data import build_fixture_store

    build_fixture_store(tmp_path / "demo.db")
    monkeypatch.chdir(tmp_path)
    return "demo.db"


@pytest.fixture
def sandbox_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from eventscope.demo_data.sandbox import open_sandbox

    monkeypatch.chdir(tmp_path)
    return open_sandbox(Path("teach"), events=400, seed=7)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_what_if_timeline_snapshot(snap_compare, demo_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("x")  # what if the deposit at v2 had not happened?
        await settle(pilot.app, pilot)
        screen = pilot.app.screen
        # At 80x24 the chart is off screen (one pane below the list); the one-row
        # what-if-vs-actual line under the banner answers the question at both sizes.
        await wait_until(
            pilot, lambda: "what-if 0.00" in str(screen.query_one("#tl-whatif-compare").render())
        )
        if size == (160, 48):  # wait until the chart drawn is the one built for its size
            chart = screen.chart
            await wait_until(
                pilot,
                lambda: (
                    not chart._building
                    and chart._built is not None
                    and chart._built.size == tuple(chart.size)
                ),
            )
        await settle(pilot.app, pilot)

    app = open_app(demo_here, stream="account-000001", version=2)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_teach_screen_snapshot(snap_compare, sandbox_here, size):
    from eventscope.explorer.screens.teach import TeachApp, TeachScreen

    async def run_before(pilot) -> None:
        app = pilot.app
        for _ in range(200):
            if isinstance(app.screen, TeachScreen):
                break
            await pilot.pause(0.02)
        screen = app.screen
        app.session.log.now = lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        screen.delay = 0.0
        await pilot.press("ctrl+l")  # lesson 1, step 1
        await pilot.press("ctrl+s")  # open account-teach-001
        await settle(app, pilot)
        for _ in range(400):  # the read models catch up (delay 0)
            if all(m.caught_up for m in app.session.read_models()) and not screen._catching_up:
                break
            await pilot.pause(0.02)
        screen._tick()
        screen.query_one("#teach-submit").focus()  # no blinking cursor in the picture
        app.clear_notifications()  # a toast's lifetime depends on the machine's speed
        await settle(app, pilot)

    app = TeachApp(sandbox_here)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
