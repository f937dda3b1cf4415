"""A second Python process for half of a pure, CPU-bound walk over a file.

Why: indexing a large JSON Lines file and verifying a large SQLite store's hash chain
are pure Python and hold the GIL, and this machine class has two cores. Both split the
work in two and hand the later half to a helper started here
(`store.sources.jsonl.parallel`, `store.native.chain`).

Why `python -I` loading one module by its file path: the helper imports neither the
rest of eventscope (SQLAlchemy, Textual: a quarter of a second) nor anything from the
current directory, so it starts in tens of milliseconds. The module must define
`worker_main(argv)`, which writes its answer to stdout, and import of eventscope only
modules that need nothing beyond the standard library and orjson (`store.records`,
`store.paging`: the package's `__init__` imports nothing eagerly).

A helper that cannot start, fails, or answers nonsense is never an error: the caller
does the work itself.
"""

from __future__ import annotations

import os
import subprocess
import sys

BOOTSTRAP = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('eventscope_helper', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules[spec.name] = module\n"
    "spec.loader.exec_module(module)\n"
    "module.worker_main(sys.argv[2:])\n"
)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start(module_file: str, args: list[str]) -> subprocess.Popen[bytes] | None:
    """Start `module_file`'s `worker_main(args)` in a bare interpreter, or None."""
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-c", BOOTSTRAP, module_file, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError:
        return None


def answer(process: subprocess.Popen[bytes] | None) -> bytes | None:
    """The helper's stdout once it has finished well, else None."""
    if process is None:
        return None
    output, _errors = process.communicate()
    return output if process.returncode == 0 else None


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """End a helper whose answer is no longer wanted (or that never gave one)."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
