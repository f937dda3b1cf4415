"""The event-rate histogram rule, written once for every source.

`EventSource.event_histogram(buckets)` splits the recorded times of the filtered events,
from the earliest `lo` to the latest `hi` (integer microseconds since `records.EPOCH`),
into `buckets` equal slices by exact integer arithmetic:

    span     = max(hi - lo, 1)
    index(t) = min((t - lo) * buckets // span, buckets - 1)   # the last slice holds hi
    start(i) = lo + ceil(i * span / buckets)                  # the first t with index i

Why integers: with a float slice width an event exactly on a boundary lands in one slice
or the next depending on rounding, so two sources holding the same history drew
different charts (about 0.24 % of random spans at 60 buckets). SQL sources compute the
same index in the database (`Slices.sql_index`); integer division of non-negative
integers is floor division in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from eventscope.store.records import from_micros

Histogram = list[tuple[datetime, int]]


def check_buckets(buckets: int) -> None:
    """Refuse a bucket count below one (every source says the same sentence)."""
    if buckets < 1:
        raise ValueError("a histogram needs at least one bucket")


@dataclass(frozen=True, slots=True)
class Slices:
    """`buckets` equal slices of the span from `low` (microseconds since the epoch)."""

    low: int
    span: int
    buckets: int

    def index(self, micros: int) -> int:
        """The slice of a time in [low, low + span]; out-of-range times are clamped."""
        slot = (micros - self.low) * self.buckets // self.span
        return min(max(slot, 0), self.buckets - 1)

    def clamp(self, slot: int) -> int:
        """A slice number computed elsewhere (in SQL) folded into range: the last slice
        holds the latest time."""
        return min(max(slot, 0), self.buckets - 1)

    def starts(self) -> list[datetime]:
        """Where each slice begins: the first microsecond whose index is i."""
        return [
            from_micros(self.low - (-i * self.span // self.buckets)) for i in range(self.buckets)
        ]

    def sql_index(self, micros_sql: str) -> tuple[str, tuple[int, int, int]]:
        """The same index as SQL over an expression of microseconds since the epoch, with
        its bound parameters (``?`` placeholders); clamp the result with `clamp`."""
        return f"((({micros_sql}) - ?) * ?) / ?", (self.low, self.buckets, self.span)

    def histogram(self, counts: list[int]) -> Histogram:
        """Pair per-slice counts with the slice starts."""
        return list(zip(self.starts(), counts, strict=True))


def slices(low: int, high: int, buckets: int) -> Slices:
    """The slices for times from `low` to `high` (microseconds since the epoch)."""
    check_buckets(buckets)
    return Slices(low, max(high - low, 1), buckets)


def histogram_of_micros(values: Iterable[int], buckets: int) -> Histogram:
    """The histogram of recorded times given as microseconds since the epoch, in any
    order (an empty input gives [])."""
    check_buckets(buckets)
    times = values if isinstance(values, list) else list(values)
    if not times:
        return []
    cut = slices(min(times), max(times), buckets)
    counts = [0] * buckets
    index = cut.index
    for micros in times:
        counts[index(micros)] += 1
    return cut.histogram(counts)
