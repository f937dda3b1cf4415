"""Stream browser: what a person sees after real key presses, on a real SQLite store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from eventscope.explorer.app import make_app
from eventscope.explorer.widgets.virtual_table import VirtualTable
from support.shell_store import HOSTILE, HOSTILE_STREAM, build_store
from support.textual import screen_text, settle

SIZE = (160, 48)


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return build_store(Path("shell.db"), accounts=450)


def fingerprint(path: Path) -> dict[str, str]:
    files = [path, path.with_name(path.name + "-wal")]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()}


async def test_home_shows_types_streams_and_status(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "account-0000" in text and "account-0001" in text
        assert "account" in text and "451" in text  # type list with count
        assert "464 streams" in text
        assert "shell.db" in text and "READ-ONLY" in text
        assert f"{app.source.event_count():,} events" in text
        assert "integrity: unknown" in text


async def test_paging_reaches_the_last_stream_and_back(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#streams", VirtualTable)
        assert table.has_focus
        await pilot.press("end")
        await settle(app, pilot)
        text = screen_text(app)
        assert "transfer-0001" in text and "account-0000" not in text
        assert table.cursor_value is not None and table.cursor_value.key == "transfer-0001"
        await pilot.press("pageup")
        await settle(app, pilot)
        first_visible = table.visible_rows()[0].key
        assert first_visible < "order-0000"
        await pilot.press("home")
        await settle(app, pilot)
        assert table.cursor_value.key == "account-0000"
        # The table keeps at most a few pages, not the whole catalog.
        assert sum(len(page) for page in table._pages.values()) <= 3 * table.page_size


async def test_filter_by_type_and_prefix_then_events_then_bad_input(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"type:order")
        await pilot.press("enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "12 streams" in text and "order-0011" in text and "account-0000" not in text

        await pilot.press("slash", "ctrl+a", "ctrl+k", *"account-01", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "100 streams" in text and "account-0100" in text and "account-0099" not in text

        # An event-level filter lists matching events (position, stream, version, actor).
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"event:MoneyWithdrawn", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "1 event " in text and "account-0001" in text and "saga" in text
        assert "MoneyWithdrawn" in text and "MoneyDeposited" not in text

        # A bad time is one sentence; the previous list stays.
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"since:yesterday", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "'yesterday' is not a time" in text
        assert "MoneyWithdrawn" in text


async def test_choosing_a_type_in_the_list_filters(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#types").focus()
        await pilot.press("end", "enter")  # the last type: transfer
        await settle(app, pilot)
        text = screen_text(app)
        assert "1 stream " in text and "transfer-0001" in text and "order-0000" not in text
        assert app.screen.query_one("#filter").value == "type:transfer"


async def test_hostile_strings_render_inert(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"account-evil", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "1 stream " in text
        assert "account-evil-[@click=app.quit]\\x1b[2J\\u202e" in text  # literal and visible
        assert "\x1b" not in text and "\u202e" not in text
        # Clicking the highlighted row opens it; the markup in its id fires nothing.
        await pilot.click(VirtualTable, offset=(20, 1))
        await settle(app, pilot)
        assert app.is_running
        assert type(app.screen).__name__ == "TimelineScreen"
        assert app.screen.stream_id == HOSTILE_STREAM
        assert "\x1b" not in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"corr:corr-hostile", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        # The whole actor is shown (the column is sized from it), literal and visible.
        assert "[@click=app.quit]boom[/] \\x1b[2J\\x1b]0;pwned\\x07 \\u202etxt.exe" in text
        assert HOSTILE not in text and HOSTILE_STREAM not in text


async def test_the_store_is_byte_identical_after_a_session(store_path: Path) -> None:
    before = fingerprint(store_path)
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("end", "home", "slash", *"actor:saga", "enter")
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        assert "verified" in screen_text(app)
    after = fingerprint(store_path)
    assert after["shell.db"] == before["shell.db"]
    # SQLite may leave an empty -wal beside a read-only reader; it must never hold data.
    assert after.get("shell.db-wal") in (
        before.get("shell.db-wal"),
        hashlib.sha256(b"").hexdigest(),
    )


async def test_consistency_action_pushes_the_consistency_list(store_path: Path) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "ConsistencyScreen"
        await pilot.press("escape")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "BrowserScreen"
