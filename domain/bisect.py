"""Bisect: the first version where two derivations of the same history diverge.

A *derivation* is anything that yields a state for a version: a replay with code A, a
replay with code B, a snapshot, a projection row. Comparing them at every version costs
O(n) state evaluations; bisect needs O(log n), under one assumption stated plainly:

    once the two derivations disagree, they keep disagreeing.

That holds for the usual causes (an applier that computes a field differently, a
snapshot written by buggy code, a missed event) until a later event overwrites the
field with the same value in both. When the assumption fails, bisect still returns a
*real* boundary -- a version v where they agree at v - 1 and disagree at v -- just not
necessarily the first one; `first_divergence_linear` checks every version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BisectResult:
    """`version` is the first disagreeing version (None when they agree at `hi`)."""

    version: int | None
    evaluations: int


def first_divergence(lo: int, hi: int, differs: Callable[[int], bool]) -> BisectResult:
    """The smallest v in (lo, hi] with `differs(v)`, assuming they agree at `lo` and that
    disagreement persists. O(log(hi - lo)) calls of `differs`."""
    evaluations = 1
    if not differs(hi):
        return BisectResult(None, evaluations)
    good, bad = lo, hi  # invariant: agree at good (assumed for lo), differ at bad
    while bad - good > 1:
        middle = (good + bad) // 2
        evaluations += 1
        if differs(middle):
            bad = middle
        else:
            good = middle
    return BisectResult(bad, evaluations)


def first_divergence_linear(lo: int, hi: int, differs: Callable[[int], bool]) -> BisectResult:
    """The smallest v in (lo, hi] with `differs(v)`, by checking every version."""
    evaluations = 0
    for version in range(lo + 1, hi + 1):
        evaluations += 1
        if differs(version):
            return BisectResult(version, evaluations)
    return BisectResult(None, evaluations)
