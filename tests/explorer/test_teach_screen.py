"""Teaching mode, driven with Pilot at 160×48 and 80×24 on a real sandbox (a 400-event
demo in a temporary data folder): a whole lesson end to end, rejections with nothing
appended, the snapshot policy, a second user's concurrency error, read models that lag
and catch up after the delay, upcasting, the command log with the demo's own rejected
commands, and the reset key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eventscope.demo_data.sandbox import LOG_NAME, SANDBOX_NAME, open_sandbox
from eventscope.explorer.screens.teach import TeachApp, TeachScreen
from eventscope.explorer.widgets.time_slider import AXES
from support.timeline_stores import screen_text, settle

SIZES = [(160, 48), (80, 24)]


@pytest.fixture
def sandbox(tmp_path: Path) -> Any:
    return open_sandbox(tmp_path / "teach", events=400, seed=7)


async def wait_until(pilot: Any, condition: Any, what: str, attempts: int = 400) -> None:
    """Wait for a state (the screen's clock runs on real time), never a fixed sleep."""
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def teach_screen(app: Any, pilot: Any) -> TeachScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, TeachScreen), "the teach screen")
    await settle(app, pilot)
    return app.screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_full_lesson_open_an_account_and_deposit(sandbox: Any, size) -> None:
    app = TeachApp(sandbox)
    async with app.run_test(size=size) as pilot:
        screen = await teach_screen(app, pilot)
        head = app.source.head_position()
        await pilot.press("ctrl+l")  # lesson 1
        await settle(app, pilot)
        run = screen.lesson
        assert run.lesson.key == "open-and-deposit" and run.index == 0
        assert "press ctrl+s" in screen_text(app)

        await pilot.press("ctrl+s")  # step 1: open (the form is filled in)
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.index == 1, "step 1 checked")
        stream = app.session.last.stream_id
        assert app.session.last.status == "accepted"
        assert app.source.stream_info(stream).version == 1
        assert app.source.head_position() == head + 1
        assert "ACCEPTED" in screen_text(app)

        screen.choose("account", "deposit")  # step 2: deposit on the same stream
        await settle(app, pilot)
        screen.query_one("#teach-stream").value = stream
        screen.set_field("amount", "100.00")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.index == 2, "step 2 checked")
        last = app.session.last
        assert [e.event_type for e in last.events] == ["MoneyDeposited"]
        assert (last.version_before, last.version_after) == (1, 2)
        text = screen_text(app)  # the result is on screen at both sizes, lesson pane too
        assert "stream version 1 → 2" in text and "● balance_cents:" in text, text
        assert [c.path for c in last.changes] == [("balance_cents",)]

        # Step 3: the read model lags (delay 2 s by default), then catches up.
        lag = next(m for m in app.session.read_models() if m.name == "account_balances")
        assert lag.events >= 1 and lag.checkpoint < app.source.head_position()
        await wait_until(pilot, lambda: run.done, "the projection caught up", attempts=600)
        lag = next(m for m in app.session.read_models() if m.name == "account_balances")
        assert lag.caught_up and lag.checkpoint == app.source.head_position()
        row = app.source.projection_row("account_balances", stream)
        assert row is not None and row.document["balance_cents"] == 10000
        await pilot.pause()
        assert "Lesson complete" in screen_text(app)


async def test_rejections_snapshots_concurrency_and_the_command_log(sandbox: Any) -> None:
    app = TeachApp(sandbox)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await teach_screen(app, pilot)
        screen.delay = 0.0
        demo_rejections = app.session.log.count("rejected", source="demo")
        assert demo_rejections == sandbox.manifest["rejected_commands"] > 0
        assert "(demo)" in screen_text(app)  # the generator's rejections, in the log pane

        await pilot.press("ctrl+s")  # open account-teach-001
        await settle(app, pilot)
        stream = app.session.last.stream_id
        head = app.source.head_position()
        screen.choose("account", "withdraw")
        await settle(app, pilot)
        screen.query_one("#teach-stream").value = stream
        screen.set_field("amount", "999999.00")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        last = app.session.last
        assert last.status == "rejected" and "insufficient funds" in last.reason
        assert app.source.head_position() == head  # nothing appended
        text = screen_text(app)
        assert "REJECTED" in text and "nothing appended" in text

        # Bad input is refused by the command model before the aggregate runs.
        screen.set_field("amount", "abc")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session.last.status == "invalid"
        assert app.source.head_position() == head

        # The snapshot policy (every 5 events in a 400-event demo) is shown when it fires.
        screen.choose("account", "deposit")
        await settle(app, pilot)
        screen.query_one("#teach-stream").value = stream
        for _ in range(4):
            await pilot.press("ctrl+s")
            await settle(app, pilot)
        assert app.session.last.version_after == 5
        assert app.session.last.snapshot_at == 5
        assert app.source.snapshot_at(stream, 5).version == 5
        assert "snapshot taken at v5" in screen_text(app)

        # A second user, working from the version before the class's command: conflict.
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        first, second = app.session.history[-2:]
        assert first.status == "accepted" and second.status == "conflict"
        assert "expected at version 5 but is at version 6" in second.reason
        assert "CONFLICT" in screen_text(app)
        assert app.source.stream_info(stream).version == 6

        outcomes = [e["outcome"] for e in app.session.log.entries() if e["source"] == "sandbox"]
        assert outcomes.count("rejected") == 1 and outcomes.count("conflict") == 1


async def test_upcasting_saga_trace_consistency_and_backdated_axis(sandbox: Any) -> None:
    from eventscope.domain.teaching.lessons import LESSONS, LessonRun

    app = TeachApp(sandbox)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await teach_screen(app, pilot)
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        text = screen_text(app)
        assert "stored in schema 1" in text and "v1→v2" in text
        assert "valid today's shape" in text

        run = LessonRun(next(lesson for lesson in LESSONS if lesson.key == "transfer-saga"))
        screen.start_lesson(run)
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.index == 1, "the saga ran")
        transfer = app.session.last
        assert len({e.stream_id for e in transfer.events}) == 3
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.done, "the correlation trace")
        assert type(app.screen).__name__ == "CorrelationScreen"
        await pilot.press("escape")
        await settle(app, pilot)

        run = LessonRun(next(lesson for lesson in LESSONS if lesson.key == "stale-snapshot"))
        screen.start_lesson(run)
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.index == 1, "the consistency check")
        await pilot.press("enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.done, "the diff of a stale snapshot")
        await pilot.press("escape", "escape")
        await settle(app, pilot)

        run = LessonRun(next(lesson for lesson in LESSONS if lesson.key == "backdated-correction"))
        screen.start_lesson(run)
        await pilot.press("ctrl+b")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.index == 1, "the backdated timeline")
        timeline = app.screen
        for _ in range(len(AXES)):  # "a" steps version -> recorded -> occurred, one press each
            if timeline.slider.axis == "occurred":
                break
            before = timeline.slider.axis
            await pilot.press("a")
            await wait_until(pilot, lambda was=before: timeline.slider.axis != was, "the next axis")
        await settle(app, pilot)
        await wait_until(pilot, lambda: run.done, "the occurred axis")


async def test_reset_makes_the_sandbox_fresh(sandbox: Any) -> None:
    app = TeachApp(sandbox)
    async with app.run_test(size=(160, 48)) as pilot:
        await teach_screen(app, pilot)
        head = app.source.head_position()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.source.head_position() == head + 1
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.sandbox is not sandbox, "the fresh sandbox")
        await settle(app, pilot)
        assert app.source.head_position() == head
        assert app.source.stream_info("account-teach-001") is None
        assert app.session.log.count(source="sandbox") == 0
        assert app.sandbox.path == sandbox.path  # the same place in the data folder
        assert "A fresh sandbox" in screen_text(app)


def test_the_sandbox_lives_in_the_data_folder(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner
    from eventscope.demo_data.sandbox import sandbox_folder
    from eventscope.explorer.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = sandbox_folder()
    assert folder == tmp_path / "data" / "eventscope" / "teach"
    made = open_sandbox(events=400, seed=7)
    assert made.path == folder / SANDBOX_NAME and made.log_path == folder / LOG_NAME
    again = open_sandbox(events=400, seed=7)  # reused while it is the same size and seed
    assert again.manifest["head_digest"] == made.manifest["head_digest"]
    result = CliRunner().invoke(main, ["teach", "--events", "10"])
    assert result.exit_code == 2 and "at least" in result.stderr
    result = CliRunner().invoke(main, ["teach", "--events", "400"])
    assert result.exit_code == 2 and "needs a terminal" in result.stderr


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_status_bar_says_writable_sandbox_in_red(sandbox: Any, size) -> None:
    """A writable sandbox must not look like evidence: solid red, the words in full, at
    both sizes (the location gives way first), and no "1 events" anywhere."""
    from eventscope.explorer.widgets.status_bar import StatusBar

    app = TeachApp(sandbox)
    async with app.run_test(size=size) as pilot:
        await teach_screen(app, pilot)
        bar = app.screen.query_one(StatusBar)
        segments = [s for line in bar.render_lines(bar.outer_size.region) for s in line]
        flag = [s for s in segments if "WRITABLE (sandbox)" in s.text]
        assert flag, "".join(s.text for s in segments)
        colour = flag[0].style.bgcolor.get_truecolor()
        assert colour.red >= 0xC0 and colour.green < 0x30 and colour.blue < 0x30
        text = "".join(s.text for s in segments)
        assert "following" in text or "live" in text
        assert "press v" in text  # the integrity stays readable at 80 columns
        assert "READ-ONLY" not in text
        from eventscope.explorer.widgets.key_footer import KeyFooter

        keys = app.screen.query_one(KeyFooter).shown_keys()  # fitted, never cut mid-word
        assert keys[0] == "? Help" and "^s Submit" in keys
        assert all(key in screen_text(app) for key in keys)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        text = screen_text(app)
        assert not re.search(r"(?<![\d,.])1 (events|rows|differences)\b", text)
        # The result is on screen at both sizes: the new version and the changed fields
        # (at 80x24 the step-by-step trace comes after them and is what gets cut).
        assert "stream version 0 → 1" in text and "● status:" in text, text
