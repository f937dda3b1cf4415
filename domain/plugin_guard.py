"""Keep a `--domain` module's side effects off eventscope's output.

A domain module is the user's code, run with the user's rights (the README says so). It
may `print` -- which would corrupt ``--json`` on stdout and send its escape sequences to
the terminal -- or call `sys.exit()`, which would end eventscope silently with status 0.
So while plugin code runs (its import, and every call eventscope makes into it: aggregate
appliers, projection `key`/`initial`/`apply`, upcasters), whatever it writes to
`sys.stdout`/`sys.stderr` is captured instead, and `SystemExit` becomes a `PluginError`
sentence. The CLI prints what was captured afterwards on stderr, escaped
(`captured_output`).

Capture is per thread (explorer workers run plugin code while the UI draws) and costs one
thread-local assignment per call. eventscope's own modules (``eventscope.…``, such as the
demo domain) are trusted and run unwrapped. Output written below Python's streams
(`os.write(1, …)`, a C extension) cannot be captured this way.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

from eventscope.domain.errors import PluginError

F = TypeVar("F", bound=Callable[..., Any])

# Enough to say what a plugin printed; the rest is counted, not kept.
KEEP_CHARACTERS = 4_000

_state = threading.local()
_lock = threading.Lock()
_captured: dict[str, list[str]] = {}
_dropped: dict[str, int] = {}


class _CapturingStream:
    """Stands in for sys.stdout/sys.stderr: writes made while plugin code runs on this
    thread are kept for later; every other write goes to the stream it replaced."""

    def __init__(self, original: TextIO) -> None:
        self._original = original

    def write(self, text: str) -> int:
        module = getattr(_state, "module", None)
        if module is None:
            return self._original.write(text)
        _keep(module, str(text))
        return len(text)

    def flush(self) -> None:
        if getattr(_state, "module", None) is None:
            self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def _keep(module: str, text: str) -> None:
    with _lock:
        parts = _captured.setdefault(module, [])
        room = KEEP_CHARACTERS - sum(map(len, parts))
        if room > 0:
            parts.append(text[:room])
        if len(text) > room:
            _dropped[module] = _dropped.get(module, 0) + len(text) - max(room, 0)


def _install() -> None:
    if not isinstance(sys.stdout, _CapturingStream):
        sys.stdout = _CapturingStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _CapturingStream):
        sys.stderr = _CapturingStream(sys.stderr)  # type: ignore[assignment]


@contextmanager
def plugin_code(module: str) -> Iterator[None]:
    """Run a block of `module`'s code with its output captured and `SystemExit` refused."""
    _install()
    previous = getattr(_state, "module", None)
    _state.module = module
    try:
        yield
    except SystemExit as exc:
        raise PluginError(
            f"domain module {module!r} called sys.exit({exc.code!r}); eventscope does not "
            "let a domain module end it"
        ) from None
    finally:
        _state.module = previous


def guarded(func: F, module: str) -> F:
    """`func` wrapped so that each call runs as `plugin_code(module)`."""
    if getattr(func, "__eventscope_guarded__", False):
        return func

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        previous = getattr(_state, "module", None)
        _state.module = module
        try:
            return func(*args, **kwargs)
        except SystemExit as exc:
            raise PluginError(
                f"domain module {module!r} called sys.exit({exc.code!r}) while eventscope "
                "was running its code"
            ) from None
        finally:
            _state.module = previous

    call.__eventscope_guarded__ = True  # type: ignore[attr-defined]
    _install()
    return call  # type: ignore[return-value]


def trusted(module: str) -> bool:
    """eventscope's own modules run unwrapped (the demo domain is ours)."""
    return module == "eventscope" or module.startswith("eventscope.")


def captured_output() -> list[tuple[str, str, int]]:
    """(module, text, characters not kept) for every module that wrote something since
    the last call; the buffer is emptied."""
    with _lock:
        out = [(m, "".join(parts), _dropped.get(m, 0)) for m, parts in _captured.items()]
        _captured.clear()
        _dropped.clear()
    return [item for item in out if item[1] or item[2]]
