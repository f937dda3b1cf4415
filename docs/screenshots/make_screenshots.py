"""Re-make the README's screenshots from the real app on the default demo (seed 42, built
with --tamper so the integrity screen has something to show).

    .venv/bin/python docs/screenshots/make_screenshots.py [NAME ...]   # default: all

Each screen is driven with Pilot at 160x48, exported by Textual as SVG and turned into a
PNG with `rsvg-convert` (Debian: librsvg2-bin). rsvg collapses the non-breaking spaces
Textual pads cells with, which shifts columns and braille charts; they are replaced by
plain spaces under `xml:space="preserve"` first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from eventscope.demo_data import build_demo  # noqa: E402
from eventscope.explorer.app import make_app  # noqa: E402
from tui_support import wait_for_workers  # noqa: E402

SIZE = (160, 48)
Steps = Callable[[Any, Any], Awaitable[None]]


async def settle(app: Any, pilot: Any) -> None:
    for _ in range(4):
        await wait_for_workers(app)
        await pilot.pause()
        flush = getattr(app.screen, "flush", None)
        if callable(flush):
            flush()


def press(*keys: str) -> Steps:
    async def run(app: Any, pilot: Any) -> None:
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run


def field_history(name: str) -> Steps:
    """Put the state pane's cursor on a field and open its history (`h`)."""

    async def run(app: Any, pilot: Any) -> None:
        from eventscope.explorer.widgets.state_tree import StateTree

        tree = app.screen.query_one(StateTree)
        tree.move_cursor_to(lambda line: line.data == (name,))
        await pilot.press("h")
        await settle(app, pilot)

    return run


async def shoot(
    db: Path, name: str, steps: Steps, size: tuple[int, int] = SIZE, **options: Any
) -> None:
    if not wanted(name):
        return
    await shoot_app(make_app(str(db), **options), name, steps, size)


def wanted(name: str) -> bool:
    """True when NAME was asked for on the command line (or nothing was)."""
    names = sys.argv[1:]
    return not names or name in names


async def shoot_app(app: Any, name: str, steps: Steps, size: tuple[int, int] = SIZE) -> None:
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await steps(app, pilot)
        await settle(app, pilot)
        svg = app.export_screenshot(title="eventscope")
    svg = svg.replace("&#160;", " ").replace("\u00a0", " ")
    svg = svg.replace("<svg ", '<svg xml:space="preserve" ', 1)
    target = HERE / f"{name}.svg"
    target.write_text(svg)
    subprocess.run(
        ["rsvg-convert", "-f", "png", "-o", str(HERE / f"{name}.png"), str(target)], check=True
    )
    target.unlink()
    print("wrote", HERE / f"{name}.png")


def first_version(db: Path, stream: str, event_type: str, amount: str) -> int:
    """The version of the first `event_type` of `amount` in `stream` (for a what-if)."""
    from eventscope.store import open_source

    with open_source(str(db), read_only=True) as source:
        for record in source.read_stream(stream):
            if record.event_type == event_type and record.data.get("amount") == amount:
                return record.version
    raise SystemExit(f"no {event_type} of {amount} in {stream}")


async def teach_lesson(app: Any, pilot: Any) -> None:
    """Lesson 1: open an account, deposit; the read models lag behind."""
    from eventscope.explorer.screens.teach import TeachScreen

    while not isinstance(app.screen, TeachScreen):
        await pilot.pause(0.05)
    screen = app.screen
    screen.delay = 10.0  # long enough to see the lag in the picture
    await pilot.press("ctrl+l", "ctrl+s")
    await settle(app, pilot)
    stream = app.session.last.stream_id
    screen.choose("account", "deposit")
    screen.query_one("#teach-stream").value = stream
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    await pilot.pause(1.0)
    screen._tick()
    screen.query_one("#teach-submit").focus()
    app.clear_notifications()


async def what_if_burst(app: Any, pilot: Any) -> None:
    await settle(app, pilot)
    await pilot.press("x")
    await settle(app, pilot)
    await pilot.press("end")
    await settle(app, pilot)


async def main() -> None:
    if not shutil.which("rsvg-convert"):
        raise SystemExit("rsvg-convert is missing (apt-get install librsvg2-bin)")
    os.environ.setdefault("EVENTSCOPE_THEME", "dark")
    os.environ["EVENTSCOPE_ACCESS_LOG"] = os.devnull
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # the status bar shows the path as given: keep it short
        db = Path("demo.db")
        build_demo(db, events=20_000, seed=42, tamper=True)
        await shoot(db, "shell-browser", press("down", "down"))
        await shoot(db, "shell-events-filter", press("slash", *"event:AccountFrozen", "enter"))
        await shoot(db, "timeline", press(), stream="account-000320", version=7)
        await shoot(  # as of business time 30 March 13:07: v5, v6 not happened yet (dimmed)
            db, "timeline-occurred", press("a", "a"), stream="account-000320", version=4
        )
        await shoot(db, "diff", press("d"), stream="account-000169", version=20)
        await shoot(db, "shell-world", press("w", "home", *["shift+right"] * 4, "down", "down"))
        await shoot(db, "shell-integrity", press("v"))
        await shoot(db, "shell-correlation", press("c"), stream="transfer-0000002", version=1)
        await shoot(db, "shell-help", press("question_mark"))
        await shoot(db, "field-history", field_history("balance_cents"), stream="account-000320")
        await shoot(db, "timeline-80x24", press(), (80, 24), stream="account-000320", version=7)
        if wanted("integrity-multi-break"):
            broken = Path("broken.db")
            shutil.copyfile(db, broken)
            break_more(broken)
            await shoot(broken, "integrity-multi-break", press("v"))
        await teaching_shots(db)


def break_more(db: Path) -> None:
    """Three more raw-SQL changes besides --tamper's, one of each kind verify reports:
    an edited payload (500), a forged actor column (700) and a deleted row (900)."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE events SET data = json_set(data, '$.x', 1) WHERE position = 500")
        connection.execute("UPDATE events SET actor = 'auditor:mallory' WHERE position = 700")
        connection.execute("DELETE FROM events WHERE position = 900")
    connection.close()


async def teaching_shots(db: Path) -> None:
    """The what-if and teaching screenshots (the README's "What-if, and teaching")."""
    if wanted("whatif"):
        # account-000029: what if the 9,800.00 EUR cash deposit before the freeze had
        # not happened? The burst of withdrawals after it is then refused.
        version = first_version(db, "account-000029", "MoneyDeposited", "9800.00")
        app = make_app(str(db), stream="account-000029", version=version)
        await shoot_app(app, "whatif", what_if_burst)
    if wanted("whatif-80x24"):  # no chart at 80x24: the what-if-vs-actual line says it
        version = first_version(db, "account-000029", "MoneyDeposited", "9800.00")
        app = make_app(str(db), stream="account-000029", version=version)
        await shoot_app(app, "whatif-80x24", what_if_burst, (80, 24))
    if wanted("teach"):
        from eventscope.demo_data.sandbox import open_sandbox
        from eventscope.explorer.screens.teach import TeachApp

        sandbox = open_sandbox(Path("teach"))  # the default demo's size and seed
        await shoot_app(TeachApp(sandbox), "teach", teach_lesson)


if __name__ == "__main__":
    asyncio.run(main())
