"""Write output files (exports, reports, bundles) so that nothing is ever half-written or
silently overwritten.

A file is written to a temporary name in the target's directory, flushed and fsynced,
renamed over the target, and the directory is fsynced: a crash leaves either the old file
or the new one, never a torn one. An existing target, a symlink, or a target outside the
permitted folder is refused unless the user says `--force`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


class OutputRefused(Exception):
    """The output path is not safe to write without an explicit `--force`."""


def check_output_path(target: Path, *, force: bool = False, within: Path | None = None) -> Path:
    """Return the absolute target path, or raise OutputRefused with one clear sentence.

    Args:
        target: where the user asked to write.
        force: the user's explicit permission to overwrite or to follow a symlink.
        within: when given, the target must resolve inside this folder (unless forced).
    """
    target = Path(target).expanduser()
    absolute = Path(os.path.abspath(target))
    if absolute.is_symlink() and not force:
        raise OutputRefused(
            f"{target} is a symbolic link; refusing to write through it without --force"
        )
    if absolute.exists() and not force:
        raise OutputRefused(f"{target} already exists; use --force to replace it")
    if absolute.exists() and absolute.is_dir():
        raise OutputRefused(f"{target} is a directory, not a file")
    if within is not None and not force:
        root = Path(os.path.realpath(within))
        resolved = Path(os.path.realpath(absolute))
        if root != resolved and root not in resolved.parents:
            raise OutputRefused(f"{target} is outside {within}; use --force to write there")
    if not absolute.parent.is_dir():
        raise OutputRefused(f"the folder {absolute.parent} does not exist")
    return absolute


@contextmanager
def atomic_output(
    target: Path, *, force: bool = False, within: Path | None = None
) -> Iterator[BinaryIO]:
    """Open a binary stream that replaces `target` atomically when the block succeeds.

    On an exception inside the block the temporary file is removed and the target is left
    as it was.
    """
    absolute = check_output_path(target, force=force, within=within)
    if force and absolute.is_symlink():
        absolute.unlink()  # replace the link itself, never the file it points to
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{absolute.name}.", suffix=".tmp", dir=absolute.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            # mkstemp creates 0600; give the file the mode a plain open() would have.
            os.fchmod(stream.fileno(), 0o666 & ~_current_umask())
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, absolute)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(absolute.parent)


def write_bytes_atomically(
    target: Path, payload: bytes, *, force: bool = False, within: Path | None = None
) -> Path:
    """Write `payload` to `target` atomically; returns the absolute path written."""
    with atomic_output(target, force=force, within=within) as stream:
        stream.write(payload)
    return Path(os.path.abspath(target))


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
