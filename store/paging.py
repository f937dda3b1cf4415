"""Keyset paging, written once: chunked fetch loops, position windows, and pages of a
sorted stream-id list.

Why keyset (never OFFSET): a page costs the same at the start and at the end of a
history of millions, and an iterator that is abandoned holds no cursor or transaction
open -- each chunk is its own query, decoded after the connection is returned.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key")
Row = TypeVar("Row")
Item = TypeVar("Item")

# Larger than any position or version a store holds: "no upper bound" as a bound value.
END = 1 << 62


def keyset_chunks(
    fetch: Callable[[Key], Sequence[Row]],
    start: Key,
    size: int,
    advance: Callable[[Row, Key], Key],
) -> Iterator[Sequence[Row]]:
    """Chunks of rows from `fetch(key)` (at most `size` rows after the key), until a
    chunk comes back short; `advance(last_row, key)` gives the next chunk's key."""
    key = start
    while True:
        rows = fetch(key)
        if rows:
            yield rows
        if len(rows) < size:
            return
        key = advance(rows[-1], key)


def in_chunks(values: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """`values` in slices of at most `size` (for ``IN (...)`` lists a driver accepts)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN`` list of `count` bound values."""
    return ", ".join("?" * count)


@dataclass(frozen=True, slots=True)
class PositionWindow:
    """`read_all`'s bounds as keyset values: rows with position after `cursor` (before
    it, backwards) and up to `bound` inclusive (down to it, backwards)."""

    cursor: int
    bound: int
    backwards: bool

    def where(self, column: str) -> str:
        """The bounds as SQL on `column`, parameters (cursor, bound)."""
        if self.backwards:
            return f"{column} < ? AND {column} >= ?"
        return f"{column} > ? AND {column} <= ?"

    @property
    def order(self) -> str:
        return "DESC" if self.backwards else "ASC"


def position_window(from_position: int, to_position: int | None, backwards: bool) -> PositionWindow:
    """The protocol's `read_all` window: exclusive start, inclusive end; backwards, a
    `from_position` of 0 means "from the head"."""
    if backwards:
        cursor = from_position if from_position > 0 else END
        return PositionWindow(cursor, to_position if to_position is not None else 0, True)
    return PositionWindow(from_position, to_position if to_position is not None else END, False)


def ids_from(sorted_ids: Sequence[str], prefix: str | None, after: str | None) -> Iterator[str]:
    """Stream ids of a sorted list that start with `prefix` (literally) and sort after
    `after`, in order: keyset paging of a stream catalog kept in memory."""
    start = bisect_left(sorted_ids, prefix) if prefix else 0
    if after is not None:
        start = max(start, bisect_right(sorted_ids, after))
    for index in range(start, len(sorted_ids)):
        stream_id = sorted_ids[index]
        if prefix and not stream_id.startswith(prefix):
            return
        yield stream_id
