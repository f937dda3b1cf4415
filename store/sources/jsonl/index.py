"""Index a JSON Lines history once, so every later read touches only the lines it needs.

Why an index of compact arrays: a 1M-line file must open in a few seconds and stay small
in memory. Each line is parsed once (orjson) to validate it and to learn its stream,
version, position and recording time; then only those numbers are kept -- about 40 bytes
per event in `array.array`s -- never the payloads. Views read the lines they show again,
lazily, by byte offset.

The line format: one JSON object per line with required `stream_id`,
`event_type` and `data` (an object), and optional `stream_type`, `version` (contiguous
from 1 per stream), `event_id`, `metadata` (an object), `schema_version`, `occurred_at`,
`recorded_at` (ISO 8601; naive means UTC). Lines written by `eventscope export` also carry
`position` and `hash` (the native store's chain), which are checked when present.

Defaults, chosen so the same file always gives the same history:
* no `version` -> the next version of that stream in file order;
* no `position` -> the line number (so position N is line N of the file);
* no `stream_type` -> the stream's category: the text before the first "-" of its id;
* no `recorded_at` -> `occurred_at`, else the previous event's `recorded_at`, else the
  Unix epoch; no `occurred_at` -> `recorded_at`. A line with neither time sorts and
  filters by that stand-in, but its times are *unknown* (`RecordedEvent.times_unknown`):
  every view shows "unknown" (JSON null), never the stand-in as a real date.

A line that breaks a rule is *malformed*: it is skipped by every view, counted, and
reported with its line number and the reason -- never silently dropped.
"""

from __future__ import annotations

import os
import threading
from array import array
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import to_micros
from eventscope.store.times import as_utc

# Keep the first few problems word for word; count the rest.
MAX_REPORTED_PROBLEMS = 1000
_READ_CHUNK = 1 << 22
_HEX = "0123456789abcdef"
_EMPTY: dict = {}


class MalformedLine(ValueError):
    """One line breaks the format; the message says how."""


@dataclass(slots=True)
class JsonlIndex:
    """Everything a view needs to find an event, in parallel arrays indexed by ordinal
    (the event's rank in file order among valid lines)."""

    path: Path
    size: int
    offsets: array = field(default_factory=lambda: array("q"))  # byte offset of the line
    lengths: array = field(default_factory=lambda: array("i"))  # line length, no newline
    positions: array = field(default_factory=lambda: array("q"))  # strictly increasing
    stream_of: array = field(default_factory=lambda: array("i"))  # stream number
    versions: array = field(default_factory=lambda: array("i"))
    recorded: array = field(default_factory=lambda: array("q"))  # microseconds since epoch
    type_of: array = field(default_factory=lambda: array("i"))  # event type number
    # Streams, numbered in order of first appearance.
    stream_ids: list[str] = field(default_factory=list)
    stream_numbers: dict[str, int] = field(default_factory=dict)
    stream_type_of: list[int] = field(default_factory=list)  # stream number -> type number
    stream_first: array = field(default_factory=lambda: array("i"))  # stream -> ordinal
    stream_last: array = field(default_factory=lambda: array("i"))
    # Ordinals grouped by stream, in version order, built on first use (a stream list
    # needs only first/last): stream s owns by_stream[stream_starts[s]:stream_starts[s+1]].
    by_stream: array | None = None
    stream_starts: array | None = None
    _group_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    sorted_stream_ids: list[str] = field(default_factory=list)
    # Interned names.
    stream_type_names: list[str] = field(default_factory=list)
    event_type_names: list[str] = field(default_factory=list)
    # Problems.
    malformed_count: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    lines_with_hash: int = 0

    @property
    def event_count(self) -> int:
        return len(self.positions)

    def stream_ordinals(self, stream: int) -> array:
        """The ordinals of one stream's events, version 1 first."""
        by_stream, starts = self._grouped()
        return by_stream[starts[stream] : starts[stream + 1]]

    def stream_length(self, stream: int) -> int:
        """Versions are contiguous, so the last event's version is the count."""
        return self.versions[self.stream_last[stream]]

    def _grouped(self) -> tuple[array, array]:
        with self._group_lock:
            if self.by_stream is None or self.stream_starts is None:
                self.by_stream, self.stream_starts = _group_by_stream(self)
            return self.by_stream, self.stream_starts

    @property
    def has_hash_chain(self) -> bool:
        """True when every event line carries the `hash` written by `export`."""
        return self.event_count > 0 and self.lines_with_hash == self.event_count


def parse_time(value: object, name: str) -> datetime:
    """ISO 8601 text -> aware UTC datetime; naive means UTC."""
    if type(value) is not str:
        raise MalformedLine(f"{name!r} must be an ISO 8601 text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedLine(f"{name!r} is not an ISO 8601 time: {value[:40]!r}") from None
    return as_utc(moment)


def default_stream_type(stream_id: str) -> str:
    """The category convention: 'order-17' -> 'order'; an id without '-' is its own type."""
    head, sep, _ = stream_id.partition("-")
    return head if sep and head else stream_id


# A recording time no real line can give (datetime's range is years 1-9999): marks the
# leading events of a part indexed on its own whose time defaults to "the previous
# event's", which only the part before it knows (see `store.sources.jsonl.parallel`).
UNKNOWN_RECORDED = -(1 << 62)


def build_index(
    path: Path, progress: ProgressCallback | None = None, *, parallel: bool | None = None
) -> JsonlIndex:
    """Read `path` once and index it; raises OSError if it cannot be read.

    Large files are indexed by two processes, each reading half (`store.sources.jsonl.parallel`;
    the result is identical, and any doubt falls back to one process); `parallel`
    forces either way. The rules applied are listed in the module docstring; `progress`
    is called with (bytes read, total bytes)."""
    if parallel is not False:
        from eventscope.store.sources.jsonl import parallel as in_two  # only large files

        if parallel or in_two.worth_splitting(path):
            index = in_two.build_index_in_two(path, progress)
            if index is not None:
                return index
    builder = IndexBuilder(path)
    with open(path, "rb", buffering=0) as raw:
        size = os.fstat(raw.fileno()).st_size
        builder.scan(raw, 0, size, progress)
    return builder.finish(size, progress)


# The per-event arrays of a `JsonlIndex`, one entry per valid line.
EVENT_ARRAYS = ("offsets", "lengths", "positions", "stream_of", "versions", "recorded", "type_of")
_PART_INDEX_FIELDS = (
    *EVENT_ARRAYS,
    "stream_ids",
    "stream_type_of",
    "stream_type_names",
    "event_type_names",
    "malformed_count",
    "problems",
)
_PART_BUILDER_FIELDS = (
    "stream_versions",
    "stream_first",
    "stream_last",
    "ordinal",
    "last_position",
    "last_recorded",
    "hashes",
    "line_number",
    "bases",
    "seen_types",
    "type_conflicts",
    "unsure",
    "leading_position",
)


class IndexBuilder:
    """The index being built, as state that one `scan` leaves for the next.

    Why a class: the same scan indexes a whole file, or the first half of one, or -- in
    *relative* mode, in a second process -- the second half without knowing the first
    (`store.sources.jsonl.parallel`). In relative mode the few rules that depend on earlier
    lines are recorded instead of applied, for the merge to check: `bases` (stream id
    -> the version before this part's first explicit version of it), `seen_types`
    (explicit stream types), `type_conflicts` (streams with a line refused for its
    type), `unsure` (streams with a refused version whose reason names an earlier
    version), `leading_position` (the least position checked before the part's first
    event), and recording times that default to the unknown previous one
    (`UNKNOWN_RECORDED`). Versions are then counted from 1 within the part."""

    def __init__(self, path: Path, *, relative: bool = False, line_number: int = 0) -> None:
        self.index = JsonlIndex(path=path, size=0)
        self.relative = relative
        self.line_number = line_number  # lines before the next one scanned
        self.type_numbers: dict[str, int] = {}
        self.stream_type_numbers: dict[str, int] = {}
        self.stream_versions: list[int] = []
        self.stream_first: list[int] = []
        self.stream_last: list[int] = []
        self.ordinal = 0
        self.last_position = 0
        self.last_recorded = UNKNOWN_RECORDED if relative else 0
        self.hashes = 0
        self.bases: dict[str, int] = {}
        self.seen_types: set[tuple[str, str]] = set()  # (stream id, explicit type)
        self.type_conflicts: set[int] = set()
        self.defaulted: set[int] = set()  # streams whose type here was a default
        self.unsure: set[str] = set()  # streams with a refused version the merge can't redo
        self.leading_position: int | None = None  # least position before the first event

    def finish(self, size: int, progress: ProgressCallback | None = None) -> JsonlIndex:
        index = self.index
        index.size = size
        index.lines_with_hash = self.hashes
        index.stream_first = array("i", self.stream_first)
        index.stream_last = array("i", self.stream_last)
        index.sorted_stream_ids = sorted(index.stream_ids)
        if progress is not None:
            progress(size, size)
        return index

    def part(self) -> dict[str, Any]:
        """This builder's state as plain values (what a relative-mode worker sends).

        Explicit stream types equal to the type the stream has here are sent as the
        set `typed` of its number (the merge compares that type once per stream);
        only the others travel as (stream id, type) pairs."""
        part = {name: getattr(self.index, name) for name in _PART_INDEX_FIELDS}
        part.update({name: getattr(self, name) for name in _PART_BUILDER_FIELDS})
        numbers = self.index.stream_numbers
        names = self.index.stream_type_names
        kinds = self.index.stream_type_of
        typed: set[int] = set()
        others: set[tuple[str, str]] = set()
        for stream_id, given in self.seen_types:
            stream = numbers.get(stream_id)
            if stream is not None and names[kinds[stream]] == given:
                typed.add(stream)
            else:
                others.add((stream_id, given))
        part["typed"] = typed
        part["seen_types"] = others
        return part

    def scan(  # one flat loop, see below
        self,
        raw: BinaryIO,
        start: int,
        end: int,
        progress: ProgressCallback | None = None,
        progress_scale: tuple[int, int] | None = None,
    ) -> None:
        """Index the lines of bytes `start`..`end` of the open file `raw` (`start` at the
        beginning of a line; `end` after a newline or at the end of the file).

        One flat loop with every lookup bound to a local name: this loop *is* the open
        time of a large file (the budget is >= 200k lines/s), so it trades a little
        elegance for speed. `progress_scale` (done, total) maps this scan's bytes onto
        a larger whole."""
        index = self.index
        relative = self.relative
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        required = itemgetter("stream_id", "event_type", "data")
        offsets_append = index.offsets.append
        lengths_append = index.lengths.append
        positions_append = index.positions.append
        stream_of_append = index.stream_of.append
        versions_append = index.versions.append
        recorded_append = index.recorded.append
        type_of_append = index.type_of.append
        stream_ids_append = index.stream_ids.append
        stream_numbers = index.stream_numbers
        stream_type_of = index.stream_type_of
        stream_type_names = index.stream_type_names
        event_type_names = index.event_type_names
        type_numbers = self.type_numbers
        stream_type_numbers = self.stream_type_numbers
        stream_versions = self.stream_versions
        stream_versions_append = stream_versions.append
        stream_first_append = self.stream_first.append
        stream_last = self.stream_last
        stream_last_append = stream_last.append
        bases = self.bases
        seen_types = self.seen_types
        defaulted = self.defaulted
        leading = self.leading_position
        ordinal = self.ordinal
        last_position = self.last_position
        last_recorded = self.last_recorded
        hashes = self.hashes
        line_number = self.line_number
        # Canonical times ("2026-01-01T10:00:00.123456Z") share their second with their
        # neighbours: the second is parsed once, the microseconds are just digits.
        seconds_cache: dict[str, int] = {}

        def micros_of(text: object, name: str) -> int:
            """Microseconds since the epoch (validating), filling the seconds cache."""
            micros = to_micros(parse_time(text, name))
            if (
                text.__class__ is str
                and len(text) == 27  # type: ignore[arg-type]
                and text[26] == "Z"  # type: ignore[index]
                and text[19] == "."  # type: ignore[index]
            ):
                if len(seconds_cache) > 4096:
                    seconds_cache.clear()
                seconds_cache[text[:19]] = micros - micros % 1_000_000  # type: ignore[index]
            return micros

        def problem(line_number: int, reason: str) -> None:
            index.malformed_count += 1
            if len(index.problems) < MAX_REPORTED_PROBLEMS:
                index.problems.append((line_number, reason))

        raw.seek(start)
        offset = start
        remaining = end - start
        pending = b""
        if start == 0:
            pending = raw.read(min(3, remaining))
            remaining -= len(pending)
            if pending == b"\xef\xbb\xbf":
                pending, offset = b"", 3  # a UTF-8 byte order mark
        while True:
            chunk = raw.read(min(_READ_CHUNK, remaining)) if remaining > 0 else b""
            remaining -= len(chunk)
            if not chunk:
                if not pending:
                    break
                lines = [pending]
                pending = b""
            else:
                if pending:
                    chunk = pending + chunk
                lines = chunk.split(b"\n")
                pending = lines.pop()
            for line in lines:
                line_number += 1
                line_offset = offset
                offset += len(line) + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                try:
                    obj = loads(line)
                except decode_error as exc:
                    if not line.strip():
                        continue  # blank lines are allowed
                    problem(line_number, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                try:
                    if obj.__class__ is not dict:
                        raise MalformedLine("not a JSON object")
                    get = obj.get
                    try:
                        stream_id, event_type, data = required(obj)
                    except KeyError:
                        stream_id, event_type, data = get("stream_id"), get("event_type"), None
                    if stream_id.__class__ is not str or not stream_id:
                        raise MalformedLine("'stream_id' must be a non-empty text")
                    if event_type.__class__ is not str or not event_type:
                        raise MalformedLine("'event_type' must be a non-empty text")
                    if data.__class__ is not dict:
                        raise MalformedLine("'data' must be a JSON object")
                    if len(obj) > 3:
                        # Optional fields: each checked only when present.
                        if get("metadata", _EMPTY).__class__ is not dict:
                            raise MalformedLine("'metadata' must be a JSON object")
                        if get("event_id", "").__class__ is not str:
                            raise MalformedLine("'event_id' must be a text")
                        value = get("schema_version")
                        if value is not None and (value.__class__ is not int or value < 1):
                            raise MalformedLine("'schema_version' must be a positive integer")
                        value = get("hash")
                        if value is not None and (
                            value.__class__ is not str or len(value) != 64 or value.strip(_HEX)
                        ):
                            raise MalformedLine(
                                "'hash' must be 64 lowercase hexadecimal characters"
                            )
                        if get("decode_error", "").__class__ is not str:
                            raise MalformedLine("'decode_error' must be a text")

                    stream = stream_numbers.get(stream_id)
                    stream_type = given_type = get("stream_type")
                    if stream_type is not None and (
                        stream_type.__class__ is not str or not stream_type
                    ):
                        raise MalformedLine("'stream_type' must be a non-empty text")
                    if stream is None:
                        current = 0
                        if stream_type is None:
                            stream_type = default_stream_type(stream_id)
                        elif relative:
                            seen_types.add((stream_id, stream_type))
                    else:
                        current = stream_versions[stream]
                        if stream_type is not None:
                            known = stream_type_names[stream_type_of[stream]]
                            if stream_type != known:
                                self.type_conflicts.add(stream)
                                raise MalformedLine(
                                    f"stream {stream_id!r} was given type {known!r} "
                                    f"before, now {stream_type!r}"
                                )
                            if relative and stream in defaulted:
                                # Its type here was a default; the first half may
                                # have given it another.
                                seen_types.add((stream_id, stream_type))

                    version = get("version")
                    if version is None:
                        version = current + 1
                    elif relative and version.__class__ is int:
                        # The stream's versions before this part are unknown: the first
                        # explicit version fixes them, for the merge to check.
                        base = bases.get(stream_id)
                        if base is None:
                            bases[stream_id] = version - current - 1
                        elif version != base + current + 1:
                            raise MalformedLine(
                                f"version {version!r} of stream {stream_id!r} does not "
                                f"follow version {base + current}"
                            )
                        version = current + 1
                    elif version != current + 1 or version.__class__ is not int:
                        if relative:
                            self.unsure.add(stream_id)  # the message names `current`
                        raise MalformedLine(
                            f"version {version!r} of stream {stream_id!r} does not follow "
                            f"version {current}"
                        )
                    position = get("position")
                    if position is None:
                        position = line_number
                    elif position.__class__ is not int:
                        raise MalformedLine("'position' must be a positive integer")
                    if relative and not ordinal and (leading is None or position < leading):
                        leading = position  # checked against a previous position unknown here
                    if position <= last_position:
                        raise MalformedLine(
                            f"position {position} is not after the previous position "
                            f"{last_position}"
                        )

                    recorded_text = get("recorded_at")
                    occurred_text = get("occurred_at")
                    recorded_name = "recorded_at"
                    if recorded_text is None:
                        recorded_text, recorded_name = occurred_text, "occurred_at"
                    elif occurred_text is not None and occurred_text != recorded_text:
                        # Validate only, with the same fast path as below.
                        if not (
                            occurred_text.__class__ is str
                            and len(occurred_text) == 27
                            and occurred_text[26] == "Z"
                            and occurred_text[19] == "."
                            and occurred_text[:19] in seconds_cache
                            and (fraction := occurred_text[20:26]).isdigit()
                            and fraction.isascii()
                        ):
                            micros_of(occurred_text, "occurred_at")
                    if recorded_text is None:
                        recorded = last_recorded
                    elif (
                        recorded_text.__class__ is str
                        and len(recorded_text) == 27
                        and recorded_text[26] == "Z"
                        and recorded_text[19] == "."
                        and (second := seconds_cache.get(recorded_text[:19])) is not None
                        and (fraction := recorded_text[20:26]).isdigit()
                        and fraction.isascii()
                    ):
                        recorded = second + int(fraction)
                    else:
                        recorded = micros_of(recorded_text, recorded_name)
                except MalformedLine as exc:
                    problem(line_number, str(exc))
                    continue

                # Valid: record it.
                if stream is None:
                    stream = len(stream_versions)
                    stream_ids_append(stream_id)
                    stream_numbers[stream_id] = stream
                    stream_type_number = stream_type_numbers.get(stream_type)
                    if stream_type_number is None:
                        stream_type_number = len(stream_type_names)
                        stream_type_numbers[stream_type] = stream_type_number
                        stream_type_names.append(stream_type)
                    stream_type_of.append(stream_type_number)
                    if relative and given_type is None:
                        defaulted.add(stream)
                    stream_versions_append(version)
                    stream_first_append(ordinal)
                    stream_last_append(ordinal)
                else:
                    stream_versions[stream] = version
                    stream_last[stream] = ordinal
                ordinal += 1
                type_number = type_numbers.get(event_type)
                if type_number is None:
                    type_number = len(event_type_names)
                    type_numbers[event_type] = type_number
                    event_type_names.append(event_type)

                offsets_append(line_offset)
                lengths_append(len(line))
                positions_append(position)
                stream_of_append(stream)
                versions_append(version)
                recorded_append(recorded)
                type_of_append(type_number)
                last_position = position
                last_recorded = recorded
                if "hash" in obj:
                    hashes += 1
            if progress is not None:
                if progress_scale is None:
                    progress(min(offset, end), end)
                else:
                    done, total = progress_scale
                    progress(done + offset - start, total)
        self.ordinal = ordinal
        self.last_position = last_position
        self.last_recorded = last_recorded
        self.hashes = hashes
        self.leading_position = leading
        self.line_number = line_number


def _group_by_stream(index: JsonlIndex) -> tuple[array, array]:
    """Counting sort of ordinals by stream (stable, so each stream stays in version
    order): one flat array instead of a growing array per stream, smaller and faster."""
    starts = array("q", [0])
    total = 0
    for stream in range(len(index.stream_last)):
        total += index.stream_length(stream)
        starts.append(total)
    by_stream = array("i", bytes(4 * total))
    versions = index.versions
    for ordinal, stream in enumerate(index.stream_of):
        by_stream[starts[stream] + versions[ordinal] - 1] = ordinal
    return by_stream, starts


def worker_main(argv: list[str]) -> None:
    """Index bytes `start`..`end` of a file in relative mode and write the part to
    stdout as a pickle of plain values (`store.sources.jsonl.parallel` runs this in a second
    process, loading this file by path: of eventscope it imports only `store.records`
    and `store.progress`, which import nothing but the standard library)."""
    import pickle  # only the worker needs these imports
    import sys

    path, start, end = Path(argv[0]), int(argv[1]), int(argv[2])
    with open(path, "rb", buffering=0) as raw:
        lines_before = 0
        left = start
        while left > 0:
            chunk = raw.read(min(_READ_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            lines_before += chunk.count(b"\n")
        builder = IndexBuilder(path, relative=True, line_number=lines_before)
        builder.scan(raw, start, end)
    part = builder.part()
    sys.stdout.buffer.write(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
