"""Reading bytes of a SQLite file, its WAL or its ``-shm`` index without breaking SQLite's locks.

SQLite locks its files with POSIX ``fcntl`` locks. Those belong to the *process*, and the
kernel releases all of them the moment the process closes *any* descriptor of that file.
A plain ``with open(db): read()`` in a process that also holds SQLite connections to it
(another store object on the same file, a writer thread) therefore silently drops their
locks. A connection in another process (the split verifier's helper, a live writer) may
then take the lock that says "I am the only one": it truncates the ``-shm`` index that this
process has mapped (SIGBUS, seen in CI) or checkpoints and deletes the WAL under a writer
that is still appending to it.

So every read of such a file goes through one descriptor per file (device and inode) that
is opened once and kept: nothing here ever closes a descriptor of a file that still exists.
A descriptor is closed only after its file was deleted, when no SQLite connection can hold
a lock on that name any more.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_descriptors: dict[tuple[int, int], int] = {}
_spare: list[int] = []
_guard = threading.Lock()
_SWEEP_EVERY = 256


def peek(path: Path | str, size: int, offset: int = 0) -> bytes:
    """Up to `size` bytes of `path` from `offset`; raises OSError like `open` would."""
    return os.pread(_descriptor(os.fspath(path)), size, offset)


def _descriptor(path: str) -> int:
    status = os.stat(path)
    key = (status.st_dev, status.st_ino)
    with _guard:
        found = _descriptors.get(key)
        if found is not None:
            return found
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)  # the file may have been replaced meanwhile
        if key in _descriptors:
            # Replaced meanwhile by a file we already hold: keep this descriptor too
            # (closing it would drop the locks) and read through the one we had.
            _spare.append(fd)
            return _descriptors[key]
        _descriptors[key] = fd
        if len(_descriptors) % _SWEEP_EVERY == 0:
            _close_deleted()
        return fd


def _close_deleted() -> None:
    """Close descriptors whose file no longer has a name (SQLite deleted its -shm, or the
    file was removed): no connection can lock a deleted name, so closing is safe."""
    for key, fd in list(_descriptors.items()):
        try:
            gone = os.fstat(fd).st_nlink == 0
        except OSError:
            gone = True
        if gone:
            del _descriptors[key]
            try:
                os.close(fd)
            except OSError:
                pass
