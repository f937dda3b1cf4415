"""eventscope versions for Eventuous stream positions.

eventscope (and its temporal engine) numbers a stream's events 1..n without gaps.
Eventuous's `stream_position` is 0-based, so for every stream Eventuous wrote the usual
way version = stream_position + 1. Two things break that, and both are real:

* `truncate_stream` deletes the messages below a position: the stream then starts at
  position N (`first_position`), and versions count from the first message still there
  (version 1 = position N; the timeline says "history before position N was truncated");
* an append with ExpectedVersion.Any whose first message the stream already has skips it
  (`on conflict do nothing`) but still counts it, leaving a position with no message.

So a stream's numbering is either an offset (`positions` None: contiguous) or the sorted
list of its positions. Each event also carries its stored position in metadata
(`stream_position`), so nothing is hidden by the renumbering.

Why a remembered numbering is valid while the stream's two ends are unchanged: messages
are only ever added above the last position or deleted below a position, so the same
two ends mean the same set of positions, and the count (one index scan) is not repeated.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventscope.store.sql.reader import SqlReader

_ENDS_SQL = (
    "SELECT s.id, "
    "(SELECT min(m.stream_position) FROM messages m WHERE m.stream_id = s.id), "
    "(SELECT max(m.stream_position) FROM messages m WHERE m.stream_id = s.id) "
    "FROM unnest(?::int[]) AS s(id)"
)
_COUNT_SQL = (
    "SELECT stream_id, count(*) FROM messages WHERE stream_id = ANY(?::int[]) GROUP BY stream_id"
)
_POSITIONS_SQL = "SELECT stream_position FROM messages WHERE stream_id = ? ORDER BY stream_position"
_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Numbering:
    """How one stream's positions map to versions 1..count."""

    first_position: int  # the lowest stored position (0 unless truncated)
    last_position: int
    count: int
    positions: tuple[int, ...] | None = None  # only when some position has no message

    @property
    def missing(self) -> int:
        """Positions between the first and the last with no message."""
        return self.last_position - self.first_position + 1 - self.count

    def version_of(self, position: int) -> int:
        if self.positions is None:
            return position - self.first_position + 1
        return bisect_left(self.positions, position) + 1

    def position_of(self, version: int) -> int:
        if self.positions is None:
            return self.first_position + version - 1
        return self.positions[version - 1]


EMPTY = Numbering(0, -1, 0)


class Numberings:
    """Numberings of streams, looked up a batch at a time (see the module docstring)."""

    def __init__(self, reader: SqlReader) -> None:
        self._reader = reader
        self._known: dict[int, Numbering] = {}

    def cached(self, stream: int, low: int | None, high: int | None) -> Numbering | None:
        """The numbering of a stream whose ends are still (low, high), if known."""
        if low is None or high is None:
            return EMPTY
        known = self._known.get(stream)
        if known is not None and (known.first_position, known.last_position) == (low, high):
            return known
        return None

    def known_streams(self) -> set[int]:
        """Streams with a remembered numbering (a page query counts only the others)."""
        return set(self._known)

    def counted(self, stream: int, low: int, high: int, count: int) -> Numbering:
        """The numbering of a stream from its ends and its number of messages."""
        positions = None
        if count != high - low + 1:
            rows = self._reader.fetchall(_POSITIONS_SQL, (stream,))
            positions = tuple(row[0] for row in rows)
            if not positions:
                return EMPTY
            low, high, count = positions[0], positions[-1], len(positions)
        numbering = Numbering(low, high, count, positions)
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known[stream] = numbering
        return numbering

    def for_ends(self, ends: dict[int, tuple[int | None, int | None]]) -> dict[int, Numbering]:
        """Numberings for streams whose (lowest, highest) positions are known."""
        out: dict[int, Numbering] = {}
        missing: list[int] = []
        for stream, (low, high) in ends.items():
            known = self.cached(stream, low, high)
            if known is None:
                missing.append(stream)
            else:
                out[stream] = known
        if missing:
            counts = dict(self._reader.fetchall(_COUNT_SQL, (missing,)))
            for stream in missing:
                low, high = ends[stream]
                assert low is not None and high is not None
                out[stream] = self.counted(stream, low, high, int(counts.get(stream, 0)))
        return out

    def for_streams(self, streams: Iterable[int]) -> dict[int, Numbering]:
        """Numberings for stream ids (their ends looked up first: two index probes each)."""
        wanted = sorted(set(streams))
        if not wanted:
            return {}
        rows: list[Any] = self._reader.fetchall(_ENDS_SQL, (wanted,))
        return self.for_ends({row[0]: (row[1], row[2]) for row in rows})
