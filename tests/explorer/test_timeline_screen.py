"""Pilot tests of the stream timeline: real key presses on a real SQLite store in tmp_path,
assertions on what the screen shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from eventscope.explorer.screens.time_jump import TimeJumpScreen
from eventscope.explorer.screens.timeline import TimelineScreen
from eventscope.explorer.widgets.event_detail import EventDetail
from eventscope.explorer.widgets.event_list import EventList
from eventscope.explorer.widgets.field_chart import FieldChart
from eventscope.explorer.widgets.state_tree import StateTree
from eventscope.explorer.widgets.time_slider import TimeSlider
from support.timeline_stores import (
    ACCOUNT,
    BASE,
    HOSTILE_STREAM,
    build_store,
    open_app,
    recorded,
    screen_text,
    settle,
)

SIZE = (160, 48)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store.db")


def _tree_line(app, key: str) -> tuple[str, str]:
    """(text, row role) of the state tree line whose key is `key`."""
    tree = app.screen.query_one(StateTree)
    for line, text in zip(tree.lines, tree.plain_lines(), strict=True):
        if text[2:].lstrip().startswith(f"{key}:") or text[2:].lstrip().startswith(f"{key} "):
            return text, line.row_role
    raise AssertionError(f"no {key!r} in the state tree: {tree.plain_lines()}")


async def test_stepping_changes_the_state_and_highlights_the_changed_field(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert screen.shown is not None and screen.shown.version == 3
        text, role = _tree_line(app, "balance")
        assert '"balance"' not in text and "balance: -1" in text and role == "changed-row"
        assert "v 3 / 12" in screen_text(app)

        await pilot.press("right")  # v4: AddressChanged adds a nested object
        await settle(app, pilot)
        assert screen.shown.version == 4
        text, role = _tree_line(app, "address")
        assert role == "added-row"
        text, role = _tree_line(app, "city")
        assert '"Lyon"' in text and role == "added-row"
        text, role = _tree_line(app, "balance")
        assert "balance: -1" in text and role == ""  # unchanged by this event

        await pilot.press("right")  # v5: a deposit of 50
        await settle(app, pilot)
        text, role = _tree_line(app, "balance")
        assert "balance: 49" in text and "was -1" in text and role == "changed-row"
        shown = screen_text(app)
        assert "v 5 / 12" in shown and "balance: 49" in shown
        assert "Deposited" in app.screen.query_one(EventDetail).plain_lines()[0]
        # The blame column names the event, actor and time that last set the field.
        assert "v5 Deposited · alice · 2026-03-01 14:00" in text


async def test_keys_reach_the_slider_whatever_has_focus(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.query_one(EventDetail).focus()
        await pilot.press("shift+right")
        await settle(app, pilot)
        assert screen.version == 11 and screen.shown.version == 11
        screen.query_one(StateTree).focus()
        await pilot.press("left", "left")
        await settle(app, pilot)
        assert screen.shown.version == 9
        await pilot.press("end")
        await settle(app, pilot)
        assert screen.shown.version == 12
        await pilot.press("home")
        await settle(app, pilot)
        assert screen.shown.version == 1
        await pilot.press("home")  # a second press goes before the first event
        await settle(app, pilot)
        assert screen.shown.version == 0 and screen.query_one(StateTree).lines == []
        await pilot.press("left")  # clamped at 0
        assert screen.version == 0
        # The event list follows the slider, and moving in the list moves the slider.
        events = screen.query_one(EventList)
        events.focus()
        await pilot.press("end")  # priority binding: the slider, not the table
        await settle(app, pilot)
        assert events.cursor_row == 11
        await pilot.press("up", "up")
        await settle(app, pilot)
        assert screen.shown.version == 10 and "v 10 / 12" in screen_text(app)


async def test_time_jump_lands_on_the_right_version_on_both_axes(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=12)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        slider = screen.query_one(TimeSlider)

        # Recorded axis ("version" reads a typed time as recorded time).
        await pilot.press("t")
        assert isinstance(app.screen, TimeJumpScreen)
        jump = app.screen.query_one("#jump-input")
        jump.value = (recorded(5) + timedelta(minutes=30)).isoformat()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.shown.version == 5

        # Occurred axis: v7 is backdated (occurred ten days before it was recorded), so
        # five days before the first recording only v7 had happened -- and nothing had
        # been recorded yet.
        await pilot.press("a", "a")
        assert slider.axis == "occurred"
        moment = (BASE - timedelta(days=5)).isoformat()
        await pilot.press("t")
        app.screen.query_one("#jump-input").value = moment
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.shown.version == 7
        await pilot.press("a")  # -> version axis
        await pilot.press("a")  # -> recorded axis
        assert slider.axis == "recorded"
        await pilot.press("t")
        app.screen.query_one("#jump-input").value = moment
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.shown.version == 0

        # Bad input: one sentence in the dialog, nothing moves.
        await pilot.press("t")
        dialog = app.screen
        dialog.query_one("#jump-input").value = "next tuesday"
        await pilot.press("enter")
        assert app.screen is dialog
        assert "ISO 8601" in str(dialog.query_one("#jump-error").render())
        await pilot.press("escape")
        assert app.screen is screen and screen.version == 0


async def test_version_number_jump_and_playback(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("t")
        app.screen.query_one("#jump-input").value = "8"
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.shown.version == 8
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert screen.query_one(TimeSlider).speed == 1  # one event a second
        await pilot.press("space")
        assert screen.query_one(TimeSlider).playing
        screen._play_timer.pause()  # beats by hand: a loaded machine must not race the test
        screen._tick()  # what the play timer does on each beat
        screen._tick()
        await settle(app, pilot)
        assert screen.shown.version == 10
        await pilot.press("space")
        assert not screen.query_one(TimeSlider).playing


async def test_chart_marker_moves_without_rebuilding_the_plot(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=6)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        chart = app.screen.query_one(FieldChart)
        assert chart.series is not None and chart.series.label == "balance"
        assert chart.series.ys[:5] == [0.0, 20.0, -1.0, -1.0, 49.0]
        builds = chart.builds
        column = chart.marker_column()
        await pilot.press("right", "right", "right")
        await settle(app, pilot)
        assert chart.builds == builds
        assert chart.marker_column() is not None and chart.marker_column() > column
        await pilot.press("f")  # next numeric field
        await settle(app, pilot)
        assert chart.series.label != "balance" and chart.builds > builds


async def test_hostile_strings_render_inert(store_path):
    app = open_app(store_path, stream=HOSTILE_STREAM, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and app.is_running
        shown = screen_text(app)
        # Markup stays literal text, escapes are made visible, none reach the terminal.
        assert "[@click=app.quit]boom[/]" in shown
        assert "acct-[b]003[/b]" in shown
        assert "\\x1b[31mred" in shown or "\\u001b[31mred" in shown
        assert "\x1b" not in shown and "\u202e" not in shown and "\x9b" not in shown
        tree = "\n".join(screen.query_one(StateTree).plain_lines())
        assert "[@click=app.quit]boom[/]" in tree and "\\u202e" in tree
        detail = "\n".join(screen.query_one(EventDetail).plain_lines())
        assert "[@click=app.quit]" in detail and "\u202e" not in detail
        rows = screen.query_one(EventList).visible_rows()
        assert rows and "[@click=app.quit]" in str(rows[0].cells[2])
        await pilot.press("right", "left")
        await settle(app, pilot)
        assert app.is_running


async def test_undecodable_event_is_shown_with_its_reason(tmp_path):
    import orjson

    lines = [
        {
            "stream_id": "s-1",
            "event_type": "Opened",
            "data": {"balance": 1},
            "recorded_at": "2026-03-01T09:00:00Z",
        },
        {
            "stream_id": "s-1",
            "event_type": "Garbled",
            "data": {},
            "decode_error": "payload bytes are not UTF-8",
            "recorded_at": "2026-03-01T10:00:00Z",
        },
        {
            "stream_id": "s-1",
            "event_type": "Deposited",
            "data": {"balance": 3},
            "recorded_at": "2026-03-01T11:00:00Z",
        },
    ]
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    app = open_app(path, stream="s-1", version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        detail = screen.query_one(EventDetail).plain_lines()
        assert any("undecodable: payload bytes are not UTF-8" in line for line in detail)
        subtitle = str(screen.query_one(StateTree).border_subtitle)
        assert "1 undecodable event skipped" in subtitle and "(s)" not in subtitle
        rows = screen.query_one(EventList).visible_rows()
        assert rows[1].cells[0].startswith("✗") and rows[1].style == "red"
        await pilot.press("right")
        await settle(app, pilot)
        assert "balance: 3" in "\n".join(screen.query_one(StateTree).plain_lines())


async def test_huge_payloads_are_cut_in_the_list_and_the_detail(tmp_path):
    from eventscope.store import EventStore, NewEvent

    store = EventStore.open(tmp_path / "huge.db")
    big = {"blob": "x" * 600_000, "items": list(range(5_000)), "balance": 1}
    store.append("big-1", [NewEvent(event_type="Huge", data=big)], stream_type="Blob")
    store.close()
    app = open_app(tmp_path / "huge.db", stream="big-1", version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        row = screen.query_one(EventList).visible_rows()[0]
        assert len(row.cells[-1]) <= 160 and row.cells[-1].endswith("…")
        detail = screen.query_one(EventDetail).plain_lines()
        assert max(len(line) for line in detail) < 4_100
        assert any("more characters" in line for line in detail)
        assert any("more lines" in line for line in detail)
        assert app.is_running


async def test_unknown_stream_is_one_sentence_not_a_crash(store_path):
    app = open_app(store_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(TimelineScreen("no-such-[b]stream"))
        await settle(app, pilot)
        screen = app.screen
        assert screen.error == "there is no stream 'no-such-[b]stream' in this source"
        assert "there is no stream 'no-such-[b]stream'" in screen_text(app)
        await pilot.press("right", "t")  # nothing to step or jump in; nothing breaks
        assert app.screen is screen and app.is_running


async def test_leaving_while_workers_run_is_harmless(tmp_path):
    from support.textual import notifications, wait_until
    from support.timeline_stores import build_long_stream

    path = build_long_stream(tmp_path / "long.db", 3_000)
    app = open_app(path)
    errors: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = app.screen
        for _ in range(3):  # open and leave at once, before the state or chart arrive
            app.open_stream("acct-big", 1_500)
            # Wait for the state "the timeline is on top", not for a time: under load the
            # push may land after the keys, which then act on the browser instead.
            await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
            await pilot.press("right", "escape")
            await wait_until(pilot, lambda: app.screen is home)
        await settle(app, pilot)
        errors = notifications(app, "error")
        assert app.screen is home and app.is_running
    assert errors == []


async def test_clicking_the_slider_track_seeks(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        slider = screen.query_one(TimeSlider)
        track = slider.content_region.width - 2
        middle = 1 + (track - 1) // 2  # content column of the track's middle
        await pilot.click(TimeSlider, offset=(slider.styles.padding.left + middle, 0))
        await settle(app, pilot)
        assert screen.shown.version == 6
        await pilot.click(TimeSlider, offset=(slider.styles.padding.left + track, 0))
        await settle(app, pilot)
        assert screen.shown.version == 12


async def test_the_next_step_is_prepared_ahead_in_the_direction_of_travel(store_path):
    app = open_app(store_path, stream=ACCOUNT, version=4)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("right")
        await settle(app, pilot)
        assert screen.shown.version == 5 and 6 in screen._steps  # prepared meanwhile
        await pilot.press("left", "left")
        await settle(app, pilot)
        assert screen.shown.version == 3 and 2 in screen._steps  # the other direction
        prepared = screen._steps[2]
        await pilot.press("left")
        await settle(app, pilot)
        assert screen.shown is prepared  # drawn from the prepared step, not recomputed
