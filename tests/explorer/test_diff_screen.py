"""Pilot tests of the diff and consistency screens on a store with planted stale snapshots
(acct-002: right at v3, stale at v6 and v8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventscope.explorer.screens.consistency import ConsistencyScreen
from eventscope.explorer.screens.diff import DiffScreen
from eventscope.explorer.screens.timeline import TimelineScreen
from eventscope.explorer.widgets.diff_view import DiffView
from eventscope.explorer.widgets.virtual_table import VirtualTable
from support.timeline_stores import (
    HOSTILE_STREAM,
    STALE,
    build_store,
    open_app,
    screen_text,
    settle,
)

SIZE = (160, 48)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store.db")


async def test_diff_of_a_stale_snapshot_shows_the_differing_field(store_path):
    app = open_app(store_path, stream=STALE, version=6)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        assert screen.left.kind == "snapshot" and screen.left.version == 6
        assert screen.right.kind == "version" and screen.right.version == 6
        assert screen.counts is not None and (screen.counts.changed, screen.counts.total) == (1, 1)
        lines = screen.query_one(DiffView).plain_lines()
        assert lines == ["~ balance: 1007 → 7  (−1,000)"]  # the delta, for two numbers
        shown = screen_text(app)
        assert "snapshot at v6  →  state at v6" in shown and "~1 changed" in shown
        assert "snapshots at v3, v6, v8" in shown


async def test_first_divergence_jumps_the_timeline_to_the_first_stale_snapshot(store_path):
    app = open_app(store_path, stream=STALE, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        timeline = app.screen
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("f")
        await settle(app, pilot)
        assert app.screen is timeline  # the diff closed; the same timeline moved
        assert isinstance(timeline, TimelineScreen)
        assert timeline.version == 6 and timeline.shown.version == 6
        assert "v 6 / 8" in screen_text(app)


async def test_any_two_versions_can_be_compared_and_bad_input_is_one_sentence(store_path):
    app = open_app(store_path, stream=STALE, version=5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#left-kind").value = "version"
        screen.query_one("#right-kind").value = "version"
        await pilot.pause()
        screen.query_one("#left-value").value = "2"
        screen.query_one("#right-value").value = "5"
        screen.query_one("#right-value").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        lines = screen.query_one(DiffView).plain_lines()
        assert "~ balance: 20 → 49  (+29)" in lines
        assert '+ address: {"city":"Lyon","zip":"69001"}' in lines
        assert (screen.counts.added, screen.counts.changed) == (1, 2)
        await pilot.press("s")  # swap: the same differences, the other way round
        await settle(app, pilot)
        assert "~ balance: 49 → 20  (−29)" in screen.query_one(DiffView).plain_lines()
        assert screen.counts.removed == 1

        screen.query_one("#left-value").value = "two"
        screen.query_one("#left-value").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.error is not None and "whole number" in screen.error
        screen.query_one("#left-value").value = "99"
        screen.query_one("#left-value").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.error is not None and "99" in screen.error and app.is_running


async def test_hostile_strings_in_a_diff_render_inert(store_path):
    app = open_app(store_path, stream=HOSTILE_STREAM, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen) and screen.counts.total == 2
        shown = screen_text(app)
        assert "[@click=app.quit]boom[/]" in shown and "acct-[b]003[/b]" in shown
        assert "\x1b" not in shown and "\u202e" not in shown and "\\u202e" in shown
        assert app.is_running


async def test_consistency_lists_stale_snapshots_and_opens_their_diff(store_path):
    app = open_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ConsistencyScreen())
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConsistencyScreen)
        table = screen.query_one(VirtualTable)
        rows = [row.cells for row in table.visible_rows()]
        claims = [(cells[0], cells[1], cells[2]) for cells in rows]
        assert ("snapshot", STALE, "v6") in claims and ("snapshot", STALE, "v8") in claims
        assert ("snapshot", STALE, "v3") not in claims  # the right one is not listed
        # Provenance: which code wrote each wrong snapshot, and when.
        written = {cells[2]: cells[3] for cells in rows if cells[0] == "snapshot"}
        assert written["v6"].startswith("test at 20") and written["v8"].startswith("t at 20")
        assert f"{len(screen.problems)} claims disagree" in screen_text(app)
        index = claims.index(("snapshot", STALE, "v6"))
        table.move_cursor(index)
        await pilot.press("enter")
        await settle(app, pilot)
        diff = app.screen
        assert isinstance(diff, DiffScreen) and diff.stream_id == STALE
        assert diff.query_one(DiffView).plain_lines() == ["~ balance: 1007 → 7  (−1,000)"]


async def test_the_store_is_byte_identical_after_a_session(store_path):
    import hashlib

    def digest() -> str:
        return hashlib.sha256(store_path.read_bytes()).hexdigest()

    before = digest()
    app = open_app(store_path, stream=STALE, version=8)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("left", "shift+left", "home", "end", "b", "f", "a")
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        await pilot.press("f")  # bisect, back on the timeline
        await settle(app, pilot)
        app.push_screen(ConsistencyScreen())
        await settle(app, pilot)
    assert digest() == before
