"""SVG snapshots of the timeline, diff, consistency and field-history screens (160×48 and
80×24, deterministic data).

The store is opened by a relative path from inside tmp_path, so the status bar shows
"store.db" rather than a temporary directory that changes every run. Update with
`--snapshot-update` only after looking at the report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eventscope.explorer.widgets.diff_view import DiffView
from support.timeline_stores import ACCOUNT, STALE, build_store, open_app, settle

SIZES = pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])


@pytest.fixture
def store_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    build_store(tmp_path / "store.db")
    monkeypatch.chdir(tmp_path)
    return "store.db"


@SIZES
def test_timeline_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("right")  # v4 -> v5: a deposit, balance highlighted with blame
        await settle(pilot.app, pilot)

    app = open_app(store_here, stream=ACCOUNT, version=4)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_timeline_occurred_axis_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("a", "a")  # occurred axis: the backdated v7 sits at the start
        await settle(pilot.app, pilot)

    app = open_app(store_here, stream=ACCOUNT, version=7)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_diff_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("d")
        await settle(pilot.app, pilot)
        pilot.app.screen.query_one(DiffView).focus()  # no blinking cursor in the picture
        await pilot.pause()

    app = open_app(store_here, stream=STALE, version=6)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_timeline_narrow_panes_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        if pilot.app.screen.narrow:
            await pilot.press("p")  # the event pane below the list
        await settle(pilot.app, pilot)

    app = open_app(store_here, stream=ACCOUNT, version=7)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_consistency_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("k")
        await settle(pilot.app, pilot)

    assert snap_compare(open_app(store_here), terminal_size=size, run_before=run_before)


@SIZES
def test_field_history_snapshot(snap_compare, store_here, size):
    async def run_before(pilot) -> None:
        from eventscope.explorer.widgets.state_tree import StateTree

        await settle(pilot.app, pilot)
        tree = pilot.app.screen.query_one(StateTree)
        tree.move_cursor_to(lambda line: line.data == ("balance",))
        await pilot.press("h")
        await settle(pilot.app, pilot)

    app = open_app(store_here, stream=ACCOUNT, version=12)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
