"""SVG snapshots (160×48 and 80×24, dark theme pinned) of the shell's screens, on stores these tests
build themselves (shell_store, shell_plugin), so another part's data changes cannot move them.

Create or update them only after looking at the report:
``python -m pytest tests/explorer/test_shell_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eventscope.explorer.app import make_app
from support.shell_store import build_store, tamper
from support.textual import settle as settle_app

SIZES = pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])


async def settle(pilot) -> None:
    await settle_app(pilot.app, pilot)


def keys(*presses: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for press in presses:
            await pilot.press(press)
            await settle(pilot)
            flush = getattr(pilot.app.screen, "flush", None)
            if callable(flush):  # the world screen's coalesced recompute, without a timer
                flush()
                await settle(pilot)

    return run_before


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVENTSCOPE_THEME", "dark")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def small() -> str:
    return str(build_store(Path("shell.db"), accounts=120))


@pytest.fixture
def tampered() -> str:
    path = build_store(Path("tampered.db"), accounts=120)
    tamper(path, 77)
    return str(path)


@SIZES
def test_browser(snap_compare, small: str, size) -> None:
    assert snap_compare(make_app(small), terminal_size=size, run_before=keys("down", "down"))


@SIZES
def test_browser_event_filter(snap_compare, small: str, size) -> None:
    presses = ("slash", *"corr:corr-transfer-1", "enter")
    assert snap_compare(make_app(small), terminal_size=size, run_before=keys(*presses))


@SIZES
def test_integrity_broken(snap_compare, tampered: str, size) -> None:
    assert snap_compare(make_app(tampered), terminal_size=size, run_before=keys("v"))


@SIZES
def test_world(snap_compare, small: str, size) -> None:
    presses = ("w", "home", "shift+right", "shift+right", "shift+right", "down")
    app = make_app(small, domain="shell_plugin")
    assert snap_compare(app, terminal_size=size, run_before=keys(*presses))


@SIZES
def test_correlation(snap_compare, small: str, size) -> None:
    presses = ("slash", *"corr:corr-transfer-1", "enter", "c")
    assert snap_compare(make_app(small), terminal_size=size, run_before=keys(*presses))


@SIZES
def test_help(snap_compare, small: str, size) -> None:
    assert snap_compare(make_app(small), terminal_size=size, run_before=keys("question_mark"))
