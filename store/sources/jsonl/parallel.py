"""Index a large JSON Lines file with two processes: each reads and parses half.

Why: parsing and checking every line is the open time of a large file, it is pure
Python, and this machine class has two cores. A second Python process (not a thread:
one GIL) indexes the second half while this one indexes the first; then the halves are
merged.

Why the result is the same as one process's: the second half is indexed in *relative*
mode (`store.sources.jsonl.index.IndexBuilder`), which records, instead of applying, the few
rules that depend on earlier lines (a stream's version count, its type, the previous
position and recording time). The merge checks every such record against the first
half. If any could have come out differently -- say the second half's first explicit
version of a stream does not follow the first half's count -- the merge refuses and
the first half's builder simply goes on to scan the second half itself. So a file with
such a line costs one and a half scans, never a different answer; a test holds the two
paths equal on generated files, malformed lines included.

The second process is a bare `python -I` running `index.worker_main`
(`store.helper_process`). Anything that goes wrong with it (it cannot start, dies, or
sends something unreadable) also falls back to the single scan.
"""

from __future__ import annotations

import operator
import os
import pickle
import subprocess
from array import array
from pathlib import Path
from typing import Any

from eventscope.store import helper_process
from eventscope.store.progress import ProgressCallback
from eventscope.store.sources.jsonl import index as jsonl_index
from eventscope.store.sources.jsonl.index import (
    MAX_REPORTED_PROBLEMS,
    UNKNOWN_RECORDED,
    IndexBuilder,
    JsonlIndex,
)

SPLIT_FROM_BYTES = 32 << 20  # below this a second process costs more than it saves
# This process takes a little more than half: the worker also starts Python, counts the
# lines before its half, and sends its part back (measured on a 1M-line file).
FIRST_SHARE = 0.53
_NEWLINE_SEARCH = 1 << 16


def worth_splitting(path: Path) -> bool:
    """A file large enough, and a second core to run on."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return False
    return size >= SPLIT_FROM_BYTES and helper_process.cores() >= 2


def split_point(raw: Any, size: int) -> int | None:
    """The offset just after the first newline at or after `FIRST_SHARE` of the file,
    or None."""
    at = int(size * FIRST_SHARE)
    raw.seek(at)
    while at < size:
        window = raw.read(_NEWLINE_SEARCH)
        if not window:
            return None
        newline = window.find(b"\n")
        if newline >= 0:
            split = at + newline + 1
            return split if split < size else None
        at += len(window)
    return None


def build_index_in_two(
    path: Path,
    progress: ProgressCallback | None = None,
    *,
    worker: bool = True,
    split_at: int | None = None,
) -> JsonlIndex | None:
    """`build_index` with the second half in another process (or, with
    ``worker=False``, indexed in relative mode here: the same merge, for tests, which
    also choose the split with `split_at`, the offset of a line's start).
    None when the file has no second half to split off."""
    with open(path, "rb", buffering=0) as raw:
        size = os.fstat(raw.fileno()).st_size
        split = split_point(raw, size) if split_at is None else split_at
        if split is None or not 0 < split < size:
            return None
        process = (
            helper_process.start(jsonl_index.__file__, [str(path), str(split), str(size)])
            if worker
            else None
        )
        try:
            first = IndexBuilder(path)
            first.scan(raw, 0, split, progress, progress_scale=(0, size))
            part = _finish_worker(process) if worker else _part_here(path, raw, split, size)
            if part is None or not merge(first, part):
                # Scan the second half here, as if there had been no split.
                first.scan(raw, split, size, progress, progress_scale=(split, size))
        finally:
            helper_process.stop(process)
    return first.finish(size, progress)


def _finish_worker(process: subprocess.Popen[bytes] | None) -> dict[str, Any] | None:
    output = helper_process.answer(process)
    if output is None:
        return None
    try:
        part = pickle.loads(output)  # our own child's output, over a private pipe
    except Exception:  # any unreadable answer means: scan it here
        return None
    return part if isinstance(part, dict) else None


def _part_here(path: Path, raw: Any, split: int, size: int) -> dict[str, Any]:
    """What the worker would send, computed in this process."""
    raw.seek(0)
    lines_before = raw.read(split).count(b"\n")
    builder = IndexBuilder(path, relative=True, line_number=lines_before)
    builder.scan(raw, split, size)
    return builder.part()


def merge(first: IndexBuilder, part: dict[str, Any]) -> bool:
    """Append the second half (`part`, from a relative-mode scan) to `first`.

    Returns False, leaving `first` untouched, when one scan of the whole file could
    have decided any line differently; see the module docstring."""
    index = first.index
    numbers = index.stream_numbers
    counts = first.stream_versions
    type_names = index.stream_type_names
    part_ids: list[str] = part["stream_ids"]
    part_type_of: list[int] = part["stream_type_of"]
    part_type_names: list[str] = part["stream_type_names"]

    # 1. Could any line have been decided differently?
    leading = part["leading_position"]
    if leading is not None and leading <= first.last_position:
        return False
    for stream_id, base in part["bases"].items():
        known = numbers.get(stream_id)
        if base != (0 if known is None else counts[known]):
            return False
    if any(stream_id in numbers for stream_id in part["unsure"]):
        return False
    for local in part["type_conflicts"]:
        if part_ids[local] in numbers:
            return False
    for stream_id, given in part["seen_types"]:
        known = numbers.get(stream_id)
        if known is not None and given != type_names[index.stream_type_of[known]]:
            return False
    found = [numbers.get(stream_id) for stream_id in part_ids]
    stream_type_of = index.stream_type_of
    for local in part["typed"]:
        known = found[local]
        if (
            known is not None
            and part_type_names[part_type_of[local]] != type_names[stream_type_of[known]]
        ):
            return False

    # 2. Streams: the first half's numbers, then new ones in order of appearance.
    n1 = first.ordinal
    part_counts: list[int] = part["stream_versions"]
    part_first: list[int] = part["stream_first"]
    part_last: list[int] = part["stream_last"]
    mapping: list[int] = []
    base_of: list[int] = []
    for local, stream_id in enumerate(part_ids):
        known = found[local]
        if known is None:
            known = len(counts)
            numbers[stream_id] = known
            index.stream_ids.append(stream_id)
            kind = part_type_names[part_type_of[local]]
            kind_number = first.stream_type_numbers.get(kind)
            if kind_number is None:
                kind_number = first.stream_type_numbers[kind] = len(type_names)
                type_names.append(kind)
            index.stream_type_of.append(kind_number)
            counts.append(part_counts[local])
            first.stream_first.append(part_first[local] + n1)
            first.stream_last.append(part_last[local] + n1)
            base_of.append(0)
        else:
            base_of.append(counts[known])
            counts[known] += part_counts[local]
            first.stream_last[known] = part_last[local] + n1
        mapping.append(known)

    # 3. Event types, then the per-event arrays.
    type_mapping: list[int] = []
    for name in part["event_type_names"]:
        number = first.type_numbers.get(name)
        if number is None:
            number = first.type_numbers[name] = len(index.event_type_names)
            index.event_type_names.append(name)
        type_mapping.append(number)
    stream_of: array = part["stream_of"]
    recorded: array = part["recorded"]
    at = 0
    while at < len(recorded) and recorded[at] == UNKNOWN_RECORDED:
        recorded[at] = first.last_recorded  # "the previous event's" time, now known
        at += 1
    index.offsets.extend(part["offsets"])
    index.lengths.extend(part["lengths"])
    index.positions.extend(part["positions"])
    index.stream_of.extend(array("i", map(mapping.__getitem__, stream_of)))
    index.versions.extend(
        array("i", map(operator.add, part["versions"], map(base_of.__getitem__, stream_of)))
    )
    index.recorded.extend(recorded)
    index.type_of.extend(array("i", map(type_mapping.__getitem__, part["type_of"])))

    # 4. Counters and the state a further scan would continue from.
    index.malformed_count += part["malformed_count"]
    room = MAX_REPORTED_PROBLEMS - len(index.problems)
    if room > 0:
        index.problems.extend(part["problems"][:room])
    first.ordinal += part["ordinal"]
    first.hashes += part["hashes"]
    first.line_number = part["line_number"]
    if part["ordinal"]:
        first.last_position = part["last_position"]
        first.last_recorded = recorded[-1]
    return True
