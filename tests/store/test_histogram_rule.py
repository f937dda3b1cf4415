"""The one event-rate histogram rule (`store.histogram`) against a plain reference written
with exact fractions, on times drawn to sit on slice boundaries and a microsecond either
side of them -- where a float slice width used to put events one slice off."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from math import ceil, floor

import pytest
from eventscope.store.histogram import histogram_of_micros, slices
from eventscope.store.records import EPOCH
from hypothesis import given, settings
from hypothesis import strategies as st


def reference(values: list[int], buckets: int) -> list[tuple[object, int]]:
    low, high = min(values), max(values)
    span = max(high - low, 1)
    counts = [0] * buckets
    for value in values:
        counts[min(floor(Fraction((value - low) * buckets, span)), buckets - 1)] += 1
    starts = [low + ceil(Fraction(i * span, buckets)) for i in range(buckets)]
    return [(EPOCH + timedelta(microseconds=s), n) for s, n in zip(starts, counts, strict=True)]


@st.composite
def times_on_boundaries(draw: st.DrawFn) -> tuple[list[int], int]:
    low = draw(st.integers(-(10**15), 10**15))
    span = draw(st.integers(0, 10**12))
    buckets = draw(st.integers(1, 400))
    values = [low, low + span]
    for _ in range(draw(st.integers(0, 30))):
        i = draw(st.integers(0, buckets))
        boundary = low + ceil(Fraction(i * max(span, 1), buckets))
        values.append(min(max(boundary + draw(st.integers(-1, 1)), low), low + span))
    values += draw(st.lists(st.integers(low, low + span), max_size=10))
    return values, buckets


@settings(max_examples=300, deadline=None)
@given(times_on_boundaries())
def test_the_rule_equals_the_exact_reference(case: tuple[list[int], int]) -> None:
    values, buckets = case
    assert histogram_of_micros(values, buckets) == reference(values, buckets)
    assert histogram_of_micros(list(reversed(values)), buckets) == reference(values, buckets)


def test_boundary_events_at_sixty_buckets_land_in_their_own_slice() -> None:
    """A span where (t - lo) / (span / 60) rounds below the slice number for events
    exactly on the boundaries of slices 15, 30 and 55."""
    span = 86_400_000_024
    for i in (15, 30, 55):
        on_boundary = i * span // 60
        assert on_boundary * 60 == i * span  # exactly on the boundary
        assert int(on_boundary / (span / 60)) == i - 1  # the float rule's answer
        assert slices(0, span, 60).index(on_boundary) == i


def test_sql_index_is_the_same_expression() -> None:
    cut = slices(1_000, 1_000 + 997, 60)
    sql, params = cut.sql_index("t")
    assert sql == "(((t) - ?) * ?) / ?" and params == (1_000, 60, 997)
    for t in range(1_000, 1_998):
        assert cut.index(t) == cut.clamp((t - params[0]) * params[1] // params[2])


def test_no_events_and_bad_bucket_counts() -> None:
    assert histogram_of_micros([], 5) == []
    with pytest.raises(ValueError, match="at least one bucket"):
        histogram_of_micros([1], 0)
