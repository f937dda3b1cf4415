"""Index a JSON Lines history once, so every later read touches only the lines it needs.

Why an index of compact arrays: a 1M-line file must open in a few seconds and stay small
in memory. Each line is parsed once (orjson) to validate it and to learn its stream,
version, position and recording time; then only those numbers are kept -- about 40 bytes
per event in `array.array`s -- never the payloads. Views read the lines they show again,
lazily, by byte offset.

The line format (issue 6): one JSON object per line with required `stream_id`,
`event_type` and `data` (an object), and optional `stream_type`, `version` (contiguous
from 1 per stream), `event_id`, `metadata` (an object), `schema_version`, `occurred_at`,
`recorded_at` (ISO 8601; naive means UTC). Lines written by `eventscope export` also carry
`position` and `hash` (the native store's chain), which are checked when present.

Defaults, chosen so the same file always gives the same history:
* no `version` -> the next version of that stream in file order;
* no `position` -> the line number (so position N is line N of the file);
* no `stream_type` -> the stream's category: the text before the first "-" of its id;
* no `recorded_at` -> `occurred_at`, else the previous event's `recorded_at`, else the
  Unix epoch; no `occurred_at` -> `recorded_at`.

A line that breaks a rule is *malformed*: it is skipped by every view, counted, and
reported with its line number and the reason -- never silently dropped.
"""

from __future__ import annotations

import os
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path

import orjson

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
# Keep the first few problems word for word; count the rest.
MAX_REPORTED_PROBLEMS = 1000
_READ_CHUNK = 1 << 22
_HEX = "0123456789abcdef"
_EMPTY: dict = {}

IndexProgress = Callable[[int, int], None]  # (bytes_read, total_bytes)


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


def micros_to_datetime(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def datetime_to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MICROSECOND


def parse_time(value: object, name: str) -> datetime:
    """ISO 8601 text -> aware UTC datetime; naive means UTC."""
    if type(value) is not str:
        raise MalformedLine(f"{name!r} must be an ISO 8601 text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedLine(f"{name!r} is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def default_stream_type(stream_id: str) -> str:
    """The category convention: 'order-17' -> 'order'; an id without '-' is its own type."""
    head, sep, _ = stream_id.partition("-")
    return head if sep and head else stream_id


def build_index(path: Path, progress: IndexProgress | None = None) -> JsonlIndex:
    """Read `path` once and index it; raises OSError if it cannot be read.

    One flat loop with every lookup bound to a local name: this loop *is* the open time
    of a large file (the budget is >= 200k lines/s), so it trades a little elegance for
    speed. The rules it applies are listed in the module docstring.
    """
    index = JsonlIndex(path=path, size=0)
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
    type_numbers: dict[str, int] = {}
    stream_type_numbers: dict[str, int] = {}
    stream_versions: list[int] = []
    stream_versions_append = stream_versions.append
    stream_first: list[int] = []
    stream_first_append = stream_first.append
    stream_last: list[int] = []
    stream_last_append = stream_last.append
    ordinal = 0
    # Canonical times ("2026-01-01T10:00:00.123456Z") share their second with their
    # neighbours: the second is parsed once, the microseconds are just digits.
    seconds_cache: dict[str, int] = {}
    last_position = 0
    last_recorded = 0
    hashes = 0

    def micros_of(text: object, name: str) -> int:
        """Microseconds since the epoch (validating), filling the seconds cache."""
        micros = datetime_to_micros(parse_time(text, name))
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

    with open(path, "rb", buffering=0) as raw:
        size = os.fstat(raw.fileno()).st_size
        index.size = size
        offset = 0
        line_number = 0
        pending = raw.read(3)
        if pending == b"\xef\xbb\xbf":
            pending, offset = b"", 3  # a UTF-8 byte order mark
        while True:
            chunk = raw.read(_READ_CHUNK)
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
                    stream_type = get("stream_type")
                    if stream_type is not None and (
                        stream_type.__class__ is not str or not stream_type
                    ):
                        raise MalformedLine("'stream_type' must be a non-empty text")
                    if stream is None:
                        current = 0
                        if stream_type is None:
                            stream_type = default_stream_type(stream_id)
                        stream_type_number = stream_type_numbers.get(stream_type)
                        if stream_type_number is None:
                            stream_type_number = len(stream_type_names)
                            stream_type_numbers[stream_type] = stream_type_number
                            stream_type_names.append(stream_type)
                    else:
                        current = stream_versions[stream]
                        if stream_type is not None:
                            known = stream_type_names[stream_type_of[stream]]
                            if stream_type != known:
                                raise MalformedLine(
                                    f"stream {stream_id!r} was given type {known!r} "
                                    f"before, now {stream_type!r}"
                                )

                    version = get("version")
                    if version is None:
                        version = current + 1
                    elif version != current + 1 or version.__class__ is not int:
                        raise MalformedLine(
                            f"version {version!r} of stream {stream_id!r} does not follow "
                            f"version {current}"
                        )
                    position = get("position")
                    if position is None:
                        position = line_number
                    elif position.__class__ is not int:
                        raise MalformedLine("'position' must be a positive integer")
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
                    stream_type_of.append(stream_type_number)
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
                progress(min(offset, size), size)
    index.lines_with_hash = hashes
    index.stream_first = array("i", stream_first)
    index.stream_last = array("i", stream_last)
    index.sorted_stream_ids = sorted(index.stream_ids)
    if progress is not None:
        progress(size, size)
    return index


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
