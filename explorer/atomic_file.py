"""Write output files (exports, reports, bundles) so that nothing is ever half-written,
silently overwritten, or written over the evidence being read.

Every command that writes a file -- `export`, `report`, `bundle`, the explorer's report
dialog -- goes through `check_output_path`, which holds the one rule:

* the target is never a source being read or one of its side files (the SQLite `-wal`,
  `-shm` and `-journal`, the demo manifest) nor the access log, with or without
  `--force`, whether those files exist yet or not, and however the path is spelled
  (a symlink, `..`, a hard link);
* an existing target, or a symlink, is refused unless the user says `--force`; a target
  outside the permitted folder likewise;
* `--force` never renames over anything but a regular file: a symlink to a regular file
  has its *target* replaced (the link stays), a character device or a FIFO
  (`/dev/null`, `/dev/stdout` on a terminal or pipe) is written through, and a block
  device, socket, directory or dangling link is refused.

A regular file is written to a temporary name in the target's directory, flushed and
fsynced, renamed over the target, and the directory is fsynced: a crash leaves either
the old file or the new one. An OS error on the way (disk full, permission denied, a name
too long, a folder under /proc) becomes `OutputRefused` with one sentence, and the
temporary file is removed.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Files SQLite keeps beside a database, and the demo's manifest (`<db>.manifest.json`).
SIDE_SUFFIXES = ("-wal", "-shm", "-journal", ".manifest.json")


# The `--force` help of every command that writes a file.
FORCE_HELP = (
    "Replace an existing output file. A symlink's target is replaced only when it is a "
    "regular file; a pipe or terminal (/dev/stdout) is written through; the source, its "
    "side files (-wal, -shm, manifest) and the access log are never replaced."
)


class OutputRefused(Exception):
    """The output path is not safe to write (one sentence saying why)."""


def evidence_paths(location: str | Path) -> list[Path]:
    """The files that hold a source at `location`: the file and its side files.

    `location` is what the user typed (a path, ``kind:path`` or a ``sqlite:///`` URL);
    a server URL has no files here, so nothing to protect.
    """
    text = str(location)
    head, sep, rest = text.partition(":")
    if sep and head in ("native", "jsonl", "eventsourcing") and not rest.startswith("//"):
        text = rest
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if not scheme.startswith("sqlite"):
            return []
        # sqlite:///relative/path, sqlite:////absolute/path
        text = (rest[1:] if rest.startswith("/") else rest).split("?", 1)[0]
    if not text:
        return []
    path = Path(text).expanduser()
    return [path, *(path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES)]


def _same_place(target: Path, protected: Path) -> bool:
    """Whether writing `target` would write `protected` (by spelling, link or inode)."""
    if os.path.realpath(target) == os.path.realpath(protected):
        return True
    try:
        return os.path.samefile(target, protected)
    except OSError:
        return False


def check_not_evidence(target: str | Path, protect: Iterable[str | Path]) -> None:
    """Raise OutputRefused when writing `target` would write one of the sources in
    `protect`, one of their side files, or the access log."""
    absolute = Path(os.path.abspath(Path(target).expanduser()))
    guarded = [p for location in protect for p in evidence_paths(location)]
    guarded.append(_access_log_path())
    for protected in guarded:
        if _same_place(absolute, protected):
            raise OutputRefused(
                f"refusing to write {target}: it is {protected}, part of the evidence being "
                "read (the source, its side files or the access log), --force or not"
            )


def check_output_path(
    target: Path,
    *,
    force: bool = False,
    within: Path | None = None,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Return the absolute target path, or raise OutputRefused with one clear sentence.

    Args:
        target: where the user asked to write.
        force: the user's explicit permission to replace an existing file.
        within: when given, the target must resolve inside this folder (unless forced).
        protect: sources being read (paths or locations); the target may be none of them
            nor any of their side files, whatever `force` says.
    """
    target = Path(target).expanduser()
    absolute = Path(os.path.abspath(target))
    check_not_evidence(target, protect)
    try:
        info = os.lstat(absolute)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from None
    if info is not None and stat.S_ISLNK(info.st_mode) and not force:
        raise OutputRefused(
            f"{target} is a symbolic link; refusing to write through it without --force"
        )
    if info is not None and not force:
        raise OutputRefused(f"{target} already exists; use --force to replace it")
    if info is not None:
        _kind_allowed(target, absolute)
    if within is not None and not force:
        root = Path(os.path.realpath(within))
        resolved = Path(os.path.realpath(absolute))
        if root != resolved and root not in resolved.parents:
            raise OutputRefused(f"{target} is outside {within}; use --force to write there")
    if not absolute.parent.is_dir():
        raise OutputRefused(f"the folder {absolute.parent} does not exist")
    return absolute


def _kind_allowed(target: Path, absolute: Path) -> None:
    """`--force` on an existing path: only what can be replaced or written through."""
    try:
        info = os.stat(absolute)  # follows links
    except FileNotFoundError:
        raise OutputRefused(
            f"{target} is a symbolic link to nothing; refusing to create its target"
        ) from None
    except OSError as exc:
        raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputRefused(f"{target} is a directory, not a file")
    if stat.S_ISREG(info.st_mode) or stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return
    what = "a block device" if stat.S_ISBLK(info.st_mode) else "not a regular file"
    raise OutputRefused(f"{target} is {what}; --force writes only files, pipes and terminals")


@contextmanager
def atomic_output(
    target: Path,
    *,
    force: bool = False,
    within: Path | None = None,
    protect: Iterable[str | Path] = (),
) -> Iterator[BinaryIO]:
    """Open a binary stream that replaces `target` atomically when the block succeeds.

    On an exception inside the block the temporary file is removed and the target is left
    as it was. A character device or FIFO (with `force`) is written through instead.
    """
    absolute = check_output_path(target, force=force, within=within, protect=protect)
    real = Path(os.path.realpath(absolute))  # a forced symlink: replace what it points to
    if real.exists() and not real.is_file():
        with _os_errors(target):
            stream = open(real, "wb")  # closed below, errors worded
        with _os_errors(target), stream:
            yield stream
        return
    with _os_errors(target):
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{real.name}.", suffix=".tmp", dir=real.parent
        )
    try:
        with _os_errors(target):
            with os.fdopen(handle, "wb") as stream:
                # mkstemp creates 0600; give the file the mode a plain open() would have.
                os.fchmod(stream.fileno(), 0o666 & ~_current_umask())
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp_name, real)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(real.parent)


def write_bytes_atomically(
    target: Path,
    payload: bytes,
    *,
    force: bool = False,
    within: Path | None = None,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Write `payload` to `target` atomically; returns the absolute path written."""
    with atomic_output(target, force=force, within=within, protect=protect) as stream:
        stream.write(payload)
    return Path(os.path.abspath(target))


@contextmanager
def _os_errors(target: Path) -> Iterator[None]:
    """An OS error while writing becomes one sentence naming the target."""
    try:
        yield
    except OSError as exc:
        raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    words = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EACCES: "permission denied",
        errno.EPERM: "the operation is not permitted",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.EROFS: "the file system is read-only",
        errno.ENOENT: "it cannot be created there",
    }
    return words.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).lower()


def _access_log_path() -> Path:
    from eventscope.domain.evidence.access_log import default_log_path

    return default_log_path()


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
