"""SIGTERM/SIGHUP during a demo build: turned into an exception so the temporary store is
removed, but held back while a helper process is being started.

Why hold it back: a spawned child reads its start-up data from a pipe the parent is still
writing; an exception raised in the middle of `Process.start()` closes that pipe early and
the child prints a traceback (``EOFError: Ran out of input``) on the user's terminal. The
signal is remembered and raised the moment the start has finished.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BuildInterrupted(BaseException):
    """SIGTERM or SIGHUP arrived during a build: unwind so the temporary store is
    removed, then end with the conventional status 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.code = 128 + signum


_held = 0  # how many `signals_held` blocks are open (main thread only)
_pending: int | None = None


def _interrupted(signum: int, _frame: object) -> None:
    global _pending
    if _held:
        _pending = signum
        return
    raise BuildInterrupted(signum)


@contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into `BuildInterrupted` while building (SIGINT already is
    an exception), so `finally` blocks run; SIGKILL cannot be caught -- the next build
    removes its leftovers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Delay a SIGTERM/SIGHUP that arrives inside the block until the block has ended."""
    global _held, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            signum, _pending = _pending, None
            raise BuildInterrupted(signum)
