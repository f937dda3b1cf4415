"""Shared Pilot helpers: waiting for the explorer's workers and for states (never for a
time), and reading what is on screen.

`App.workers.wait_for_complete()` raises `WorkerCancelled` when an exclusive worker it
was waiting on is replaced by a newer one (the explorer coalesces slider moves and
recomputations exactly that way), so a bare call makes tests flaky on a busy machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.worker import WorkerCancelled


async def wait_for_workers(app: Any, attempts: int = 100) -> None:
    """Return once no worker is running; cancelled workers are expected, not errors."""
    for _ in range(attempts):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        if not any(worker.is_running for worker in app.workers):
            return
    raise AssertionError("workers kept running")


async def settle(app: Any, pilot: Any, rounds: int = 6) -> None:
    """Wait until thread workers (which may start further workers) have finished and
    their results are drawn."""
    for _ in range(rounds):
        await wait_for_workers(app)
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            await pilot.pause()
            return


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


def screen_text(app: Any) -> str:
    """The whole screen as composited, like tmux capture-pane (Textual has no public way
    to read the screen as text, so this one private call lives here only)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notifications(app: Any, severity: str | None = None) -> list[str]:
    """Messages of the notifications shown so far (optionally of one severity)."""
    return [n.message for n in app._notifications if severity is None or n.severity == severity]
