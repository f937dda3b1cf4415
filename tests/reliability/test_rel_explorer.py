"""The explorer under hostile data, and the read-only guarantee (reliability.md tests 16,
18 and 21), driven through Textual's Pilot with real key presses on real SQLite files.

* Every screen (browser, filter results, timeline at every version, detail, state tree,
  blame, diff, correlation trace, integrity, world, help, palette) shows the hostile
  strings as visible escapes and literal markup: no raw ESC/C0/C1/bidi character reaches
  the composited screen, no span carries a link or an action, clicking on the injected
  ``[@click=app.quit]`` text does nothing, and the app is still running at the end.
* A 50 MB event opens lazily: the list and the detail cut it, and the timeline is usable.
* A scripted session (browse, filter, slider, blame, diff, consistency, verify, world,
  correlation) leaves the SQLite file and its directory byte-identical.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
from eventscope.explorer.app import make_app
from eventscope.store import EventStore, NewEvent
from reliability_support import figure
from support.hostile import (
    HOSTILE,
    HOSTILE_CORRELATION,
    PLAIN_STREAM,
    build_hostile_store,
    forbidden_in,
)
from support.textual import screen_lines, screen_text, settle

SIZE = (160, 48)


def active_spans(app: Any) -> list[str]:
    """Text of every rendered segment that carries a link or a click action *and* shows
    part of a hostile string (the footer's own key actions are the app's, not data's)."""
    found = []
    markers = ("quit[/]", "evil.example", "here[/link]", "click me", "ALERT")
    for line in screen_lines(app):
        for segment in line:
            style = segment.style
            if style is None:
                continue
            meta = style.meta or {}
            if (style.link or "@click" in meta) and any(m in segment.text for m in markers):
                found.append(segment.text)
    return found


class QuitSpy:
    """Counts app.quit / app.exit requests that did not come from the test itself."""

    def __init__(self, app: Any) -> None:
        self.calls = 0
        original_exit = app.exit

        async def action_quit() -> None:
            self.calls += 1

        def exit_spy(*args: Any, **kwargs: Any) -> None:
            self.calls += 1
            original_exit(*args, **kwargs)

        app.action_quit = action_quit
        app.exit = exit_spy


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    return build_hostile_store(tmp_path / "hostile.db")


async def test_hostile_strings_are_inert_on_every_screen(hostile_db: Path) -> None:
    app = make_app(str(hostile_db))
    seen: dict[str, str] = {}
    async with app.run_test(size=SIZE) as pilot:
        spy = QuitSpy(app)

        async def look(label: str) -> str:
            await settle(app, pilot)
            text = screen_text(app)
            assert not forbidden_in(text), (label, forbidden_in(text))
            assert not active_spans(app), (label, active_spans(app))
            assert app.is_running, label
            seen[label] = text
            return text

        text = await look("browser")
        assert "acct-click-action-[@click=app.quit]quit[/]" in text
        assert "\\x1b[2J" in text or "\\x1b[2" in text  # visible, cut or not
        # Click right on the injected action text: nothing may fire.
        for y, line in enumerate(text.splitlines()):
            x = line.find("[@click=app.quit]quit")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
                await pilot.click(offset=(x + 18, y))
                break
        else:
            pytest.fail("the hostile stream id is not on the browser screen")
        await look("browser after clicks")

        await pilot.press("slash", *"actor:", "enter")  # a filter with an empty value
        await look("filter error")
        await pilot.press("ctrl+r")
        await look("filter cleared")

        app.open_stream(PLAIN_STREAM, 1)
        text = await look("timeline v1")
        for version in range(2, len(HOSTILE) + 2):
            await pilot.press("right")
            text = await look(f"timeline v{version}")
        assert "[@click=app.quit]quit[/]" in "\n".join(seen.values())
        assert "[link=https://evil.example]here[/link]" in "\n".join(seen.values())
        for y, line in enumerate(text.splitlines()):
            x = line.find("quit[/]")
            if x >= 0:
                await pilot.click(offset=(x + 1, y))
        await look("timeline after clicks")
        await pilot.press("b")
        await look("blame")
        await pilot.press("d")
        await look("diff")
        await pilot.press("escape")
        await look("back on timeline")
        app.open_correlation(HOSTILE_CORRELATION)
        text = await look("correlation")
        assert "events across" in text
        await pilot.press("escape")
        await pilot.press("v")
        text = await look("integrity")
        assert "chain intact" in text
        await pilot.press("escape")
        await pilot.press("w")
        await look("world")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await look("help")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"acct-")
        await look("palette")
        await pilot.press("escape")
        await look("end")
        assert spy.calls == 0, "an action fired from data"
        assert app.is_running
    figure(
        "hostile/explorer",
        f"{len(HOSTILE)}/{len(HOSTILE)} hostile strings inert on {len(seen)} screen states "
        "(browser, filter, timeline at every version, blame, diff, correlation, integrity, "
        "world, help, palette): 0 raw control characters, 0 live links/actions, "
        "0 actions fired by clicks on injected markup",
    )


async def test_a_50_mb_event_opens_lazily(tmp_path: Path) -> None:
    path = tmp_path / "huge.db"
    store = EventStore.open(path, max_payload_bytes=64 * 1024 * 1024)
    store.append("blob-1", [NewEvent("Small", {"balance": 1})], stream_type="blob")
    store.append(
        "blob-1",
        [NewEvent("Huge", {"blob": "x" * (50 * 1024 * 1024), "balance": 2})],
        expected_version=1,
    )
    store.close()
    started = time.perf_counter()
    app = make_app(str(path), stream="blob-1", version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        opened = time.perf_counter() - started
        text = screen_text(app)
        assert app.is_running and "Huge" in text
        assert len(text) < 160 * 48 * 4  # one screenful, not 50 MB of text
        assert "more characters" in text or "…" in text
        step_start = time.perf_counter()
        await pilot.press("left")
        await settle(app, pilot)
        await pilot.press("right")
        await settle(app, pilot)
        steps = (time.perf_counter() - step_start) / 2
        assert app.is_running
    figure(
        "hostile/50MB-event",
        f"timeline on a 50 MB event painted in {opened:.2f} s, slider step {steps * 1000:.0f} ms "
        "(list and detail cut; nothing renders the whole payload)",
    )


def _tree_digest(folder: Path) -> dict[str, str]:
    """Every file in the store's folder (db, and any -wal/-shm) by content."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


async def test_a_scripted_session_leaves_the_store_byte_identical(tmp_path: Path) -> None:
    from eventscope.demo_data import build_fixture_store

    folder = tmp_path / "evidence"
    folder.mkdir()
    path = folder / "demo.db"
    build_fixture_store(path)
    before = _tree_digest(folder)
    mtime = path.stat().st_mtime_ns
    app = make_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.summary.read_only
        await pilot.press("down", "down", "pagedown", "up")  # browse
        await pilot.press("slash", *"type:account", "enter")  # filter
        await settle(app, pilot)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        first = app.source.streams(limit=1)[0].stream_id
        app.open_stream(first)
        await settle(app, pilot)
        await pilot.press("home", "right", "right", "shift+right", "end", "left")  # slider
        await pilot.press("a", "b", "f")
        await settle(app, pilot)
        await pilot.press("d")  # diff
        await settle(app, pilot)
        await pilot.press("escape", "escape")
        await pilot.press("k")  # consistency check (snapshots, projections)
        await settle(app, pilot)
        await pilot.press("escape", "v")  # verify
        await settle(app, pilot)
        await pilot.press("escape", "w", "right", "left")  # world as of T
        await settle(app, pilot)
        await pilot.press("escape", "c")
        await settle(app, pilot)
        assert app.is_running
    after = _tree_digest(folder)
    assert after["demo.db"] == before["demo.db"], "the session changed the store file"
    assert path.stat().st_mtime_ns == mtime
    # SQLite's read-only WAL reader may leave an empty -wal and a -shm index next to the
    # file (it cannot delete them without write access); neither may hold any content.
    extra = set(after) - set(before)
    assert extra <= {"demo.db-wal", "demo.db-shm"}, extra
    if "demo.db-wal" in extra:
        assert (folder / "demo.db-wal").stat().st_size == 0
    figure(
        "read-only/explorer-session",
        f"scripted Pilot session (browse, filter, slider, blame, diff, consistency, verify, "
        "world, correlation): the store file byte-identical (sha256 and mtime); "
        f"left beside it: {sorted(extra) or 'nothing'} (empty WAL / shared-memory index)",
    )
