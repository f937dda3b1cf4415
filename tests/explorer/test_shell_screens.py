"""Integrity, correlation trace, world as of T, help and palette: real key presses on real
stores (the shell's small store and the demo fixture), asserting what is on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.app import make_app
from support.shell_store import build_store
from support.textual import screen_text, settle

SIZE = (160, 48)


@pytest.fixture
def small_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return build_store(Path("shell.db"))


@pytest.fixture
def tampered_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    manifest = build_fixture_store(path, tamper=True)
    (tampered,) = [a for a in manifest["anomalies"] if a["kind"] == "tampered_event"]
    return path, tampered["position"]


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    build_fixture_store(path)
    return path


async def test_verify_names_the_tampered_position_and_opens_it(tampered_demo) -> None:
    path, position = tampered_demo
    app = make_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        text = screen_text(app)
        assert f"BROKEN at position {position:,}" in text  # result box and status bar
        assert text.count(f"BROKEN at position {position:,}") == 2
        assert app.integrity.state == "broken" and app.integrity.first_bad_position == position
        broken = app.source.event_at(position)
        assert broken.stream_id in text
        await pilot.press("enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
        assert app.screen.stream_id == broken.stream_id
        await pilot.press("escape", "escape")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "BrowserScreen"
        assert f"BROKEN at position {position:,}" in screen_text(app)  # status bar remembers


async def test_verify_an_intact_store(small_store: Path) -> None:
    app = make_app(str(small_store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        text = screen_text(app)
        count = app.source.event_count()
        assert "chain intact" in text and f"{count:,} events checked" in text
        assert f"integrity: verified ({count:,} events)" in text


async def test_correlation_trace_shows_the_causation_tree_and_gaps(small_store: Path) -> None:
    app = make_app(str(small_store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"corr:corr-transfer-1", "enter")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        text = screen_text(app)
        assert "3 events across 3 streams" in text
        lines = {
            name: line
            for line in text.splitlines()
            for name in ("TransferRequested", "MoneyWithdrawn", "MoneyDeposited")
            if name in line
        }
        # Each event is indented under the one that caused it.
        indent = {name: len(line) - len(line.lstrip(" ▼▶├└│─┃┣┗━")) for name, line in lines.items()}
        assert indent["TransferRequested"] < indent["MoneyWithdrawn"] < indent["MoneyDeposited"]
        assert "← cmd-77" in lines["TransferRequested"]  # a command outside the trace
        assert "+2h07m" in lines["MoneyDeposited"]  # 7 min step + the planted 2 h gap
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
        assert app.screen.stream_id == "account-0002"


async def test_correlation_from_an_unknown_id_says_so(small_store: Path) -> None:
    app = make_app(str(small_store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        await pilot.press(*"nope", "enter")
        await settle(app, pilot)
        assert "no events carry correlation id nope" in screen_text(app)


async def test_world_as_of_t_moves_and_shows_projection_rows(demo: Path) -> None:
    app = make_app(str(demo))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        screen = app.screen
        head = app.source.head_position()
        text = screen_text(app)
        assert f"position {head:,} / {head:,}" in text
        assert "account_balances" in text and "order_status_board" in text
        latest = app.engine.projection_as_of("account_balances", head)
        assert f"{len(latest)} rows as of position {head:,}" in text
        screen.settle_delay = 3600  # deterministic: compute only when the test flushes
        await pilot.press("home")
        screen.flush()
        await settle(app, pilot)
        assert "0 rows as of position 0" in screen_text(app)
        # Rapid moves coalesce: nothing is computed until the keys settle, then only once.
        started = screen.computations
        await pilot.press("right", "shift+right", "shift+right")
        await settle(app, pilot)
        step = max(1, head // 100)
        target = 21 * step
        assert screen.position == target and screen.computations == started
        assert "0 rows as of position 0" in screen_text(app)
        screen.flush()
        await settle(app, pilot)
        assert screen.computations == started + 1
        expected = app.engine.projection_as_of("account_balances", target)
        assert 0 < len(expected) < len(latest)
        text = screen_text(app)
        assert f"{len(expected)} rows as of position {target:,}" in text
        first_key = sorted(expected)[0]
        assert first_key in text
        # Jump to a moment: the last position recorded at or before it.
        moment = app.source.event_at(250).recorded_at
        await pilot.press("t", "ctrl+a", "ctrl+k", *moment.isoformat(), "enter")
        await settle(app, pilot)
        assert screen.position == 250
        screen.flush()
        await settle(app, pilot)
        assert "rows as of position 250" in screen_text(app)


async def test_world_bad_time_is_one_sentence(demo: Path) -> None:
    app = make_app(str(demo))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        await pilot.press("t", "ctrl+a", "ctrl+k", *"soon", "enter")
        await pilot.pause()
        assert "'soon' is not a time" in screen_text(app)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "WorldScreen"


async def test_help_lists_the_live_bindings(small_store: Path) -> None:
    app = make_app(str(small_store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        text = screen_text(app)
        for key, does in [
            ("/", "Filter"),
            ("v", "Verify"),
            ("q", "Quit"),
            ("c", "Correlation"),
            ("⏎", "Open"),
        ]:
            assert any(key in line and does in line for line in text.splitlines()), (key, does)
        guide = app.screen.plain_text()
        assert "Consistency" in guide and "World as of T" in guide
        await pilot.press("escape")
        assert type(app.screen).__name__ == "BrowserScreen"


async def test_palette_offers_actions_and_opens_a_stream_by_id(small_store: Path) -> None:
    app = make_app(str(small_store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        listed = screen_text(app)  # without typing: the screen's actions are offered
        for name in ("Filter", "key: /", "Consistency", "Follow/pause"):
            assert name in listed, name
        await pilot.press(*"integrity")
        await settle(app, pilot)
        assert "Verify integrity" in screen_text(app)
        await pilot.press(*["backspace"] * 9, *"account-0007")
        await settle(app, pilot)
        assert "Open stream account-0007" in screen_text(app)
        await pilot.press("enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
        assert app.screen.stream_id == "account-0007"
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"verify", "enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "IntegrityScreen"


async def test_deep_link_opens_the_timeline_at_a_version(small_store: Path) -> None:
    app = make_app(str(small_store), stream="account-0004", version=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
        assert app.screen.stream_id == "account-0004" and app.screen.version == 3
        await pilot.press("escape")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "BrowserScreen"


async def test_world_on_the_business_time_axis(tmp_path: Path, monkeypatch) -> None:
    """`a` switches the world to business time: as of O, as known at the position's
    recorded time R. As of the backdated correction's business time, with everything
    recorded, the account's row includes the correction; as known before it was recorded,
    it does not."""
    from eventscope.store.records import format_timestamp

    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    manifest = build_fixture_store(path)
    correction = next(a for a in manifest["anomalies"] if a["kind"] == "backdated_correction")
    account = correction["stream_id"]
    app = make_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        screen = app.screen
        screen.settle_delay = 3600  # compute only when the test flushes
        await pilot.press("a")
        as_of = app.source.event_at(correction["position"]).occurred_at
        head_time = app.source.event_at(app.source.head_position()).recorded_at
        typed = f"{format_timestamp(as_of)} @ {format_timestamp(head_time)}"
        await pilot.press("t", "ctrl+a", "ctrl+k", *typed, "enter")
        await settle(app, pilot)
        screen.flush()
        await settle(app, pilot)
        text = screen_text(app)
        assert "as of business time" in text and "as known at" in text
        expected = app.engine.projection_as_of_business("account_balances", as_of, head_time)
        assert screen._documents[account] == expected[account]
        # As known just before the correction was recorded: it is not in the row.
        recorded = app.source.event_at(correction["position"]).recorded_at
        before = app.engine.projection_as_of_business("account_balances", as_of, recorded)
        earlier = app.engine.projection_as_of_business(
            "account_balances", as_of, app.source.event_at(correction["position"] - 1).recorded_at
        )
        assert before[account] != earlier[account]
        screen.position = correction["position"] - 1
        screen.flush()
        await settle(app, pilot)
        assert screen._documents[account] == earlier[account]
