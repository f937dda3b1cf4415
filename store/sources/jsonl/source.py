"""A JSON Lines history as a read-only `EventSource`.

The file is indexed once (`store.sources.jsonl.index`: byte offsets, positions, versions and
recording times in compact arrays) and then read lazily: a view decodes only the lines
it shows, with `os.pread` on a read-only descriptor, so the file is never written, locked
or mapped (a file truncated by someone else cannot crash the reader, it only yields an
event marked as unreadable).

Malformed lines are skipped by every view, counted, and listed by `problems()` with their
line numbers; `verify()` reports them, and when the lines carry the `hash` chain written
by `eventscope export` it checks that chain exactly as the native store does.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path

import orjson
from eventscope.store.errors import NotAStoreError, SourceNotFound, StoreError
from eventscope.store.foreign import NoReadModels, derived_event_id, matches, needs_payload
from eventscope.store.histogram import check_buckets, histogram_of_micros
from eventscope.store.native.canonical import GENESIS_HASH, canonical_json
from eventscope.store.native.chain import walk
from eventscope.store.paging import ids_from
from eventscope.store.records import (
    Digest,
    RecordedEvent,
    Snapshot,
    SourceInfo,
    StreamInfo,
    VerifyReport,
    format_timestamp,
    from_micros,
    to_micros,
)
from eventscope.store.source import ClosingContext, EventFilter, ProgressCallback, ReplayFromRecords
from eventscope.store.sources.jsonl import cache as jsonl_cache
from eventscope.store.sources.jsonl.index import (
    JsonlIndex,
    MalformedLine,
    build_index,
    parse_time,
)

# Lines closer together than this are fetched with one read; one read is at most _SPAN.
_GAP = 4096
_SPAN = 1 << 20
_BATCH = 2048
_VERIFY_CHUNK = 5000
_TIME_FIELDS: tuple[str, ...] = ("recorded_at", "occurred_at")
CHANGED = "the file changed after it was indexed; open it again to see this event"


class JsonlSource(NoReadModels, ReplayFromRecords, ClosingContext):
    """Read-only access to one JSON Lines file (see `store.sources.jsonl.index` for the format)."""

    def __init__(self, index: JsonlIndex, fd: int) -> None:
        self._index = index
        self._fd = fd
        self._path = index.path

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        location: str | Path,
        progress: ProgressCallback | None = None,
        *,
        use_cache: bool = True,
    ) -> JsonlSource:
        """Index `location` (or reuse its cached index, see `store.sources.jsonl.cache`) and
        return a source; one clear sentence when it cannot."""
        path = Path(location).expanduser()
        if not path.exists():
            raise SourceNotFound(f"there is no file at {path}")
        if path.is_dir():
            raise NotAStoreError(f"{path} is a directory, not a JSON Lines file")
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise SourceNotFound(f"cannot read {path}: {exc.strerror}") from None
        try:
            index = jsonl_cache.load(path) if use_cache else None
            if index is None:
                index = build_index(path, progress)
                if use_cache:
                    jsonl_cache.save(index)
        except OSError as exc:
            os.close(fd)
            raise SourceNotFound(f"cannot read {path}: {exc.strerror}") from None
        except BaseException:
            os.close(fd)
            raise
        if index.event_count == 0 and index.malformed_count:
            os.close(fd)
            line, reason = index.problems[0]
            raise NotAStoreError(
                f"{path} holds no event eventscope can read as JSON Lines (line {line}: {reason})"
            )
        return cls(index, fd)

    def close(self) -> None:
        """Release the file descriptor (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # --- what this is -------------------------------------------------------------------
    def describe(self) -> SourceInfo:
        return SourceInfo(
            kind="jsonl",
            location=str(self._path),
            read_only=True,
            has_hash_chain=self._index.has_hash_chain,
        )

    @property
    def malformed_count(self) -> int:
        """How many lines break the format (all are skipped by views)."""
        return self._index.malformed_count

    def problems(self) -> list[tuple[int, str]]:
        """(line number, reason) of malformed lines; the first 1,000 are kept verbatim."""
        return list(self._index.problems)

    # --- events -------------------------------------------------------------------------
    def head_position(self) -> int:
        positions = self._index.positions
        return positions[-1] if positions else 0

    def event_count(self) -> int:
        return self._index.event_count

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        stream = self._index.stream_numbers.get(stream_id)
        if stream is None:
            return iter(())
        ordinals = self._index.stream_ordinals(stream)
        low = max(from_version, 1) - 1
        high = len(ordinals) if to_version is None else max(min(to_version, len(ordinals)), 0)
        if low >= high:
            return iter(())
        selected: Sequence[int] = ordinals[low:high]
        if backwards:
            selected = selected[::-1]
        return self._events(selected)

    def read_all(
        self,
        from_position: int = 0,
        to_position: int | None = None,
        *,
        filter: EventFilter | None = None,  # noqa: A002 - the protocol's name
        limit: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        ordinals = self._candidates(from_position, to_position, filter, backwards)
        return self._matching(ordinals, filter, limit)

    def event_at(self, position: int) -> RecordedEvent | None:
        positions = self._index.positions
        ordinal = bisect_left(positions, position)
        if ordinal < len(positions) and positions[ordinal] == position:
            return next(self._events((ordinal,)))
        return None

    def count_events(self, filter: EventFilter | None = None) -> int:  # noqa: A002
        if filter is None or filter.is_empty():
            return self._index.event_count
        ordinals = self._candidates(0, None, filter, False)
        if not needs_payload(filter):
            return sum(1 for _ in ordinals)
        return sum(1 for _ in self._matching(ordinals, filter, None))

    def event_histogram(
        self,
        buckets: int,
        filter: EventFilter | None = None,  # noqa: A002
    ) -> list[tuple[datetime, int]]:
        check_buckets(buckets)
        recorded = self._index.recorded
        ordinals = self._candidates(0, None, filter, False)
        if needs_payload(filter):
            values = [
                to_micros(event.recorded_at) for event in self._matching(ordinals, filter, None)
            ]
        else:
            values = [recorded[o] for o in ordinals]
        return histogram_of_micros(values, buckets)

    # --- streams ------------------------------------------------------------------------
    def streams(
        self,
        stream_type: str | None = None,
        prefix: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[StreamInfo]:
        if limit <= 0:
            return []
        return [
            self._info(s) for s in islice(self._stream_range(stream_type, prefix, after), limit)
        ]

    def stream_info(self, stream_id: str) -> StreamInfo | None:
        stream = self._index.stream_numbers.get(stream_id)
        return None if stream is None else self._info(stream)

    def stream_types(self) -> list[tuple[str, int]]:
        index = self._index
        counts = [0] * len(index.stream_type_names)
        for number in index.stream_type_of:
            counts[number] += 1
        return sorted(
            (name, counts[i]) for i, name in enumerate(index.stream_type_names) if counts[i]
        )

    def count_streams(self, stream_type: str | None = None, prefix: str | None = None) -> int:
        index = self._index
        if not prefix and stream_type is None:
            return len(index.stream_ids)
        return sum(1 for _ in self._stream_range(stream_type, prefix, None))

    # --- derived claims: a JSON Lines history has none ---------------------------------
    def snapshots(self, stream_id: str) -> list[Snapshot]:
        return []

    def snapshot_at(self, stream_id: str, version: int) -> Snapshot | None:
        return None

    # --- integrity ----------------------------------------------------------------------
    def verify(
        self, against: Digest | None = None, progress: ProgressCallback | None = None
    ) -> VerifyReport:
        """Count malformed lines; when the lines carry `hash` fields, walk the chain."""
        index = self._index
        malformed = index.malformed_count
        first_problem = (
            f"line {index.problems[0][0]} is malformed: {index.problems[0][1]}"
            if index.problems
            else None
        )
        if index.lines_with_hash == 0:
            if against is not None:
                return VerifyReport(
                    ok=False,
                    checked=0,
                    reason="this JSON Lines file carries no hash chain, so it cannot be "
                    "checked against a digest",
                    malformed=malformed,
                )
            if progress is not None:
                progress(index.event_count, index.event_count)
            return VerifyReport(
                ok=malformed == 0,
                checked=index.event_count,
                reason=(
                    f"{malformed} malformed line(s) were skipped; the first: {first_problem}"
                    if malformed
                    else "this JSON Lines file carries no hash chain; every line was read"
                ),
                malformed=malformed,
            )
        report = walk(
            self._chain_rows(),
            total=index.event_count,
            recorded_head=self.head_position(),
            against=against,
            progress=progress,
        )
        if report.ok and malformed:
            return VerifyReport(
                ok=False,
                checked=report.checked,
                first_bad_position=None,
                reason=f"{malformed} malformed line(s) were skipped; the first: {first_problem}",
                head=report.head,
                malformed=malformed,
            )
        reason = report.reason
        if not report.ok and first_problem:
            reason = f"{reason} ({first_problem})"
        return VerifyReport(
            ok=report.ok,
            checked=report.checked,
            first_bad_position=report.first_bad_position,
            reason=reason,
            head=report.head,
            malformed=malformed,
        )

    def head_digest(self) -> Digest:
        index = self._index
        if index.event_count == 0:
            return Digest(0, GENESIS_HASH.hex())
        if not index.has_hash_chain:
            raise StoreError(
                f"{self._path} carries no hash chain, so it has no digest to keep; "
                "export it from a native store to get one"
            )
        last = next(self._events((index.event_count - 1,)))
        return Digest(last.position, last.hash)

    # --- internals ----------------------------------------------------------------------
    def _info(self, stream: int) -> StreamInfo:
        index = self._index
        count = index.stream_length(stream)
        first, last = index.stream_first[stream], index.stream_last[stream]
        return StreamInfo(
            stream_id=index.stream_ids[stream],
            stream_type=index.stream_type_names[index.stream_type_of[stream]],
            version=count,
            event_count=count,
            first_recorded_at=from_micros(index.recorded[first]),
            last_recorded_at=from_micros(index.recorded[last]),
            first_position=index.positions[first],
            last_position=index.positions[last],
        )

    def _stream_range(
        self, stream_type: str | None, prefix: str | None, after: str | None
    ) -> Iterator[int]:
        """Stream numbers in stream_id order matching type/prefix, with id > after."""
        index = self._index
        type_number: int | None = None
        if stream_type is not None:
            if stream_type not in index.stream_type_names:
                return
            type_number = index.stream_type_names.index(stream_type)
        numbers = index.stream_numbers
        type_of = index.stream_type_of
        for stream_id in ids_from(index.sorted_stream_ids, prefix, after):
            stream = numbers[stream_id]
            if type_number is None or type_of[stream] == type_number:
                yield stream

    def _candidates(
        self,
        from_position: int,
        to_position: int | None,
        flt: EventFilter | None,
        backwards: bool,
    ) -> Iterator[int]:
        """Ordinals in the position window passing every filter the index can answer."""
        index = self._index
        positions = index.positions
        if backwards:
            high = len(positions) if from_position <= 0 else bisect_left(positions, from_position)
            low = 0 if to_position is None else bisect_left(positions, to_position)
        else:
            low = bisect_right(positions, from_position)
            high = len(positions) if to_position is None else bisect_right(positions, to_position)
        if low >= high:
            return iter(())
        accept = self._index_predicate(flt)
        if flt is not None and flt.stream_id is not None:
            stream = index.stream_numbers.get(flt.stream_id)
            if stream is None:
                return iter(())
            # Only this stream's ordinals, clipped to the window.
            ordinals = index.stream_ordinals(stream)
            selected = [o for o in ordinals if low <= o < high]
            if backwards:
                selected.reverse()
            return (o for o in selected if accept is None or accept(o))
        window = range(high - 1, low - 1, -1) if backwards else range(low, high)
        if accept is None:
            return iter(window)
        return (o for o in window if accept(o))

    def _index_predicate(self, flt: EventFilter | None) -> Callable[[int], bool] | None:
        """A test on index arrays for the filter's event type, stream and time parts."""
        if flt is None:
            return None
        index = self._index
        tests: list[Callable[[int], bool]] = []
        if flt.event_types is not None:
            names_wanted = set(flt.event_types)
            wanted = {
                number for number, name in enumerate(index.event_type_names) if name in names_wanted
            }
            type_of = index.type_of
            tests.append(lambda o: type_of[o] in wanted)
        stream_of = index.stream_of
        if flt.stream_type is not None:
            names = index.stream_type_names
            number = names.index(flt.stream_type) if flt.stream_type in names else -1
            stream_type_of = index.stream_type_of
            tests.append(lambda o: stream_type_of[stream_of[o]] == number)
        if flt.stream_prefix:
            prefix = flt.stream_prefix
            ids = index.stream_ids
            tests.append(lambda o: ids[stream_of[o]].startswith(prefix))
        recorded = index.recorded
        if flt.since is not None:
            since = to_micros(flt.since)
            tests.append(lambda o: recorded[o] >= since)
        if flt.until is not None:
            until = to_micros(flt.until)
            tests.append(lambda o: recorded[o] < until)
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]
        return lambda o: all(test(o) for test in tests)

    def _matching(
        self, ordinals: Iterator[int], flt: EventFilter | None, limit: int | None
    ) -> Iterator[RecordedEvent]:
        """Decode candidates in batches; apply the metadata part of the filter."""
        if limit is not None and limit <= 0:
            return
        check = needs_payload(flt)
        produced = 0
        while True:
            # A batch is never larger than what the limit still needs.
            wanted = _BATCH if limit is None else min(_BATCH, limit - produced)
            batch = list(islice(ordinals, wanted))
            if not batch:
                return
            for event in self._events(batch):
                if check and not matches(event, flt):
                    continue
                yield event
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def _events(self, ordinals: Sequence[int]) -> Iterator[RecordedEvent]:
        for ordinal, raw in self._lines(ordinals):
            yield self._event(ordinal, raw)

    def _lines(self, ordinals: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(ordinal, line bytes) in the given order, coalescing nearby lines into one read."""
        offsets = self._index.offsets
        lengths = self._index.lengths
        count = len(ordinals)
        i = 0
        while i < count:
            first = ordinals[i]
            start = offsets[first]
            end = start + lengths[first]
            j = i + 1
            # Extend the read while the next line is close by and in the same direction.
            while j < count:
                nxt = ordinals[j]
                nstart = offsets[nxt]
                nend = nstart + lengths[nxt]
                if nstart >= end and nstart - end <= _GAP and nend - start <= _SPAN:
                    end = nend
                elif nend <= start and start - nend <= _GAP and end - nstart <= _SPAN:
                    start = nstart
                else:
                    break
                j += 1
            block = self._pread(end - start, start)
            for k in range(i, j):
                ordinal = ordinals[k]
                begin = offsets[ordinal] - start
                yield ordinal, block[begin : begin + lengths[ordinal]]
            i = j

    def _pread(self, size: int, offset: int) -> bytes:
        if self._fd < 0:
            raise StoreError("this JSON Lines source is closed")
        try:
            return os.pread(self._fd, size, offset)
        except OSError as exc:
            raise StoreError(f"cannot read {self._path}: {exc.strerror}") from None

    def _event(self, ordinal: int, raw: bytes) -> RecordedEvent:
        """One line as an event; a time the line does not carry is marked unknown
        (`RecordedEvent.times_unknown`), its stand-in kept for ordering only."""
        index = self._index
        stream = index.stream_of[ordinal]
        stream_id = index.stream_ids[stream]
        version = index.versions[ordinal]
        recorded_at = from_micros(index.recorded[ordinal])
        common = (
            index.positions[ordinal],
            stream_id,
            index.stream_type_names[index.stream_type_of[stream]],
            version,
        )
        try:
            obj = orjson.loads(raw)
            if type(obj) is not dict or obj.get("stream_id") != stream_id:
                raise MalformedLine(CHANGED)
            occurred_text = obj.get("occurred_at")
            occurred_at = (
                parse_time(occurred_text, "occurred_at")
                if occurred_text is not None
                else recorded_at
            )
            return RecordedEvent(
                *common,
                event_id=obj.get("event_id") or derived_event_id(stream_id, version),
                event_type=obj["event_type"],
                schema_version=obj.get("schema_version") or 1,
                data=obj["data"],
                metadata=obj.get("metadata") or {},
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                hash=obj.get("hash") or "",
                decode_error=obj.get("decode_error"),
                # Neither time on the line: both are unknown (one stands in for the other,
                # as documented, when only one is there).
                times_unknown=_TIME_FIELDS
                if occurred_text is None and "recorded_at" not in obj
                else (),
            )
        except (orjson.JSONDecodeError, MalformedLine, KeyError):
            return RecordedEvent(
                *common,
                event_id=derived_event_id(stream_id, version),
                event_type=index.event_type_names[index.type_of[ordinal]],
                schema_version=1,
                data={},
                metadata={},
                occurred_at=recorded_at,
                recorded_at=recorded_at,
                hash="",
                decode_error=CHANGED,
            )

    def _chain_rows(self) -> Iterator[list[tuple]]:
        """Events as rows in `schema.EVENT_COLUMNS` order, for `store.native.chain.walk`, with
        data, metadata and the two times as UTF-8 bytes (the form `walk` hashes)."""
        count = self._index.event_count
        for start in range(0, count, _VERIFY_CHUNK):
            ordinals = array("i", range(start, min(start + _VERIFY_CHUNK, count)))
            rows = []
            for event in self._events(ordinals):
                rows.append(
                    (
                        event.position,
                        event.stream_id,
                        event.stream_type,
                        event.version,
                        event.event_id,
                        event.event_type,
                        event.schema_version,
                        _canonical_bytes(event.data),
                        _canonical_bytes(event.metadata),
                        format_timestamp(event.occurred_at).encode(),
                        format_timestamp(event.recorded_at).encode(),
                        event.hash,
                    )
                )
            yield rows


def _canonical_bytes(value: object) -> bytes:
    try:
        return canonical_json(value)
    except StoreError:
        # Not canonicalisable (e.g. an integer beyond 2^53): the link cannot match, which
        # is what verify should report.
        return b"null"
