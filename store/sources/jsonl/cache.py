"""Keep a large JSON Lines file's index between runs, so it is built once, not per open.

Why: indexing parses every line (a few seconds for a million lines); the explorer and
each CLI command open the file again. The index -- compact arrays plus the stream and
type names -- is written to eventscope's own cache folder (never beside the evidence),
and reused only while the file is provably the same one: same size, modification time,
inode and device, and the same SHA-256 of its first and last 64 KiB.

The cache is an optimisation and nothing more: any failure to read or write it is
ignored and the file is simply indexed again. The format is raw arrays and JSON (no
pickle, so a planted cache file can never run code). `EVENTSCOPE_CACHE_DIR` moves the
folder; setting it to `off` disables the cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from array import array
from pathlib import Path
from typing import Any

import orjson
from eventscope.store.cache_dir import cache_folder as shared_cache_folder
from eventscope.store.sources.jsonl.index import EVENT_ARRAYS, JsonlIndex

MAGIC = b"eventscope-jsonl-index-1\n"
MIN_SIZE = 8 * 1024 * 1024  # smaller files index in well under a second
_EDGE = 64 * 1024
_ARRAYS = (*EVENT_ARRAYS, "stream_first", "stream_last")


def cache_folder() -> Path | None:
    """Where indexes are kept, or None when caching is off (`store.cache_dir`'s rule)."""
    return shared_cache_folder("jsonl-index")


def load(path: Path) -> JsonlIndex | None:
    """The cached index of `path` if it is still valid, else None."""
    entry = _entry(path)
    if entry is None:
        return None
    try:
        with open(entry, "rb") as handle:
            if handle.readline() != MAGIC:
                return None
            header = orjson.loads(handle.readline())
            if header.get("identity") != _identity(path):
                return None
            index = JsonlIndex(path=path, size=header["size"])
            for name in _ARRAYS:
                typecode, count = header["arrays"][name]
                values = array(typecode)
                values.frombytes(handle.read(count * values.itemsize))
                if len(values) != count:
                    return None
                setattr(index, name, values)
            names = orjson.loads(handle.read())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    index.stream_ids = names["stream_ids"]
    index.stream_numbers = {stream_id: n for n, stream_id in enumerate(index.stream_ids)}
    index.stream_type_of = names["stream_type_of"]
    index.stream_type_names = names["stream_type_names"]
    index.event_type_names = names["event_type_names"]
    index.sorted_stream_ids = sorted(index.stream_ids)
    index.problems = [(line, reason) for line, reason in names["problems"]]
    index.malformed_count = header["malformed_count"]
    index.lines_with_hash = header["lines_with_hash"]
    return index


def save(index: JsonlIndex) -> None:
    """Write the index for next time (atomically); silently skip on any failure."""
    if index.size < MIN_SIZE:
        return
    entry = _entry(index.path)
    if entry is None:
        return
    try:
        identity = _identity(index.path)
        if identity is None or identity["size"] != index.size:
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "identity": identity,
            "size": index.size,
            "malformed_count": index.malformed_count,
            "lines_with_hash": index.lines_with_hash,
            "arrays": {
                name: [getattr(index, name).typecode, len(getattr(index, name))] for name in _ARRAYS
            },
        }
        names = {
            "stream_ids": index.stream_ids,
            "stream_type_of": index.stream_type_of,
            "stream_type_names": index.stream_type_names,
            "event_type_names": index.event_type_names,
            "problems": index.problems,
        }
        handle, temp = tempfile.mkstemp(prefix=".idx.", dir=entry.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(MAGIC)
                out.write(orjson.dumps(header) + b"\n")
                for name in _ARRAYS:
                    getattr(index, name).tofile(out)
                out.write(orjson.dumps(names))
            os.replace(temp, entry)
        except BaseException:
            os.unlink(temp)
            raise
    except (OSError, ValueError, TypeError):
        return


def _entry(path: Path) -> Path | None:
    folder = cache_folder()
    if folder is None:
        return None
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:40]
    return folder / f"{key}.idx"


def _identity(path: Path) -> dict[str, Any] | None:
    """What must be unchanged for a cached index to be trusted."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            head = handle.read(_EDGE)
            handle.seek(max(stat.st_size - _EDGE, 0))
            tail = handle.read(_EDGE)
    except OSError:
        return None
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "inode": stat.st_ino,
        "device": stat.st_dev,
        "edges": hashlib.sha256(head + b"|" + tail).hexdigest(),
    }
