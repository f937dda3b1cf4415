"""Re-make the README's screenshots from the real app on the default demo (seed 42, built
with --tamper so the integrity screen has something to show).

    .venv/bin/python docs/screenshots/make_screenshots.py

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

from tui_support import wait_for_workers  # noqa: E402

from demo_data import build_demo  # noqa: E402
from explorer.app import make_app  # noqa: E402

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


async def shoot(db: Path, name: str, steps: Steps, **options: Any) -> None:
    app = make_app(str(db), **options)
    async with app.run_test(size=SIZE) as pilot:
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
        await shoot(db, "diff", press("d"), stream="account-000169", version=20)
        await shoot(db, "shell-world", press("w", "home", *["shift+right"] * 4, "down", "down"))
        await shoot(db, "shell-integrity", press("v"))
        await shoot(db, "shell-correlation", press("c"), stream="transfer-0000002", version=1)
        await shoot(db, "shell-help", press("question_mark"))


if __name__ == "__main__":
    asyncio.run(main())
