"""Issue 12 §2 in the explorer: the integrity screen lists every broken position and
opens any of them; once verified, altered events are marked in the timeline's event
list, in the event detail and in the correlation trace. At 160x48 and 80x24."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.app import make_app
from support.textual import screen_text, settle, wait_until

SIZES = [(160, 48), (80, 24)]
EDITED = (120, 250)


@pytest.fixture
def damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:
    """The demo fixture's planted tamper plus two more edited events and one actor
    column changed without its hashed metadata."""
    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    manifest = build_fixture_store(path, tamper=True)
    (planted,) = [a["position"] for a in manifest["anomalies"] if a["kind"] == "tampered_event"]
    connection = sqlite3.connect(path)
    with connection:
        for position in EDITED:
            connection.execute(
                "UPDATE events SET data = '{\"x\":1}' WHERE position = ?", (position,)
            )
        connection.execute("UPDATE events SET actor = 'auditor:mallory' WHERE position = 300")
    connection.close()
    return path, sorted([planted, *EDITED, 300])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_broken_position_is_listed_and_any_opens(damaged, size) -> None:
    path, positions = damaged
    app = make_app(str(path))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: app.integrity.state == "broken")
        await settle(app, pilot)
        assert app.integrity.bad_count == len(positions)
        assert sorted(app.integrity.marks) == positions
        assert app.integrity.marks[300] == "columns altered"
        table = app.screen.query_one("#integrity-broken")
        assert table.row_count == len(positions)
        text = screen_text(app)
        assert f"BROKEN at position {positions[0]:,}" in text
        assert f"{len(positions)} bad positions" in text
        # the second broken position, not only the first, opens in its timeline
        second = app.source.event_at(positions[1])
        table.focus()
        await pilot.press("down")
        await wait_until(pilot, lambda: app.screen.broken_event == second)
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TimelineScreen")
        await settle(app, pilot)
        assert app.screen.stream_id == second.stream_id
        assert f"⚠ {second.version}" in screen_text(app)  # its row in the event list
        if size[1] < 30:  # a short terminal shows the detail pane in place of the state
            await pilot.press("p")
        await wait_until(pilot, lambda: "⚠ LINK BROKEN" in screen_text(app))  # the detail


async def test_no_marks_before_verify_and_on_a_sound_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    build_fixture_store(path)
    app = make_app(str(path))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert app.integrity.marks == {}
        await pilot.press("v")
        await wait_until(pilot, lambda: app.integrity.state == "verified")
        assert app.integrity.marks == {} and app.integrity.bad_count == 0


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_timeline_open_before_verify_shows_the_marks_after_it(damaged, size) -> None:
    """The timeline was painted before the walk (no marks known then); coming back to it
    from the integrity screen must show the marks the walk found, not the old rows."""
    path, _positions = damaged
    source_app = make_app(str(path))
    async with source_app.run_test(size=size):
        edited = source_app.source.event_at(EDITED[0])
    app = make_app(str(path), stream=edited.stream_id, version=edited.version)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TimelineScreen")
        await settle(app, pilot)
        assert f"⚠ {edited.version}" not in screen_text(app)
        await pilot.press("v")
        await wait_until(pilot, lambda: app.integrity.state == "broken")
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TimelineScreen")
        await wait_until(pilot, lambda: f"⚠ {edited.version}" in screen_text(app))
        if size[1] < 30:
            await pilot.press("p")
        await wait_until(pilot, lambda: "⚠ LINK BROKEN" in screen_text(app))
