"""Pilot helpers: wait for the explorer's workers and for states (never for a time), and
read what is on screen.

`App.workers.wait_for_complete()` raises `WorkerCancelled` when an exclusive worker it
was waiting on is replaced by a newer one (the explorer coalesces slider moves and
recomputations exactly that way), so a bare call makes tests flaky on a busy machine.
Every loop here is bounded by a count of rounds, not by a clock, so a slow machine makes
a test slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from rich.segment import Segment
from textual.worker import WorkerCancelled


def _running(app: Any) -> bool:
    return any(worker.is_running for worker in app.workers)


async def wait_for_workers(app: Any, attempts: int = 100) -> None:
    """Return once no worker is running; cancelled workers are expected, not errors."""
    for _ in range(attempts):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        if not _running(app):
            return
    raise AssertionError("workers kept running")


async def settle(app: Any, pilot: Any, rounds: int = 20) -> None:
    """Wait until thread workers (which may start further workers from the messages
    they post) have finished and their results are drawn: two quiet rounds in a row,
    because a worker's result message can start the next worker one pause later."""
    quiet = 0
    for _ in range(rounds):
        await wait_for_workers(app)
        await pilot.pause()
        quiet = quiet + 1 if not _running(app) else 0
        if quiet == 2:
            return
    raise AssertionError("the app never became quiet")


async def wait_until(pilot: Any, condition: Callable[[], bool], attempts: int = 600) -> None:
    """Wait for a state, not for a time: let the app run (workers finish, timers fire,
    messages are handled) until `condition()` holds. Raises if it never does."""
    for _ in range(attempts):
        if condition():
            return
        await wait_for_workers(pilot.app)
        await pilot.pause()
    if not condition():
        raise AssertionError("the condition never held")


def screen_lines(app: Any) -> Iterator[list[Segment]]:
    """The screen's composited lines as Rich segments (text plus style and meta).

    Textual 8.2 has no public text capture: `App.export_screenshot()` renders the same
    compositor output as SVG markup, whose text is split into per-style `<tspan>`s with
    escaped entities. The one private call (`Screen._compositor`) therefore lives only
    here; if Textual renames it, this is the single line to change.
    """
    yield from (list(strip) for strip in app.screen._compositor.render_strips())


def screen_text(app: Any) -> str:
    """The whole screen as composited, like tmux capture-pane."""
    return "\n".join("".join(seg.text for seg in line) for line in screen_lines(app))


def notifications(app: Any, severity: str | None = None) -> list[str]:
    """Messages of the notifications shown so far (optionally of one severity); Textual
    keeps them only on the app's private `_notifications`."""
    return [n.message for n in app._notifications if severity is None or n.severity == severity]
