"""Waiting for the explorer's thread workers in Pilot tests, without sleeps.

`App.workers.wait_for_complete()` raises `WorkerCancelled` when an exclusive worker it
was waiting on is replaced by a newer one (the explorer coalesces slider moves and
recomputations exactly that way), so a bare call makes tests flaky on a busy machine.
"""

from __future__ import annotations

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
