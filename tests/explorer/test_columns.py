"""Column fitting against a plain reference: the least important column gives way first."""

from __future__ import annotations

from eventscope.explorer.widgets.columns import ColumnFit, fit_columns
from hypothesis import given
from hypothesis import strategies as st

FITS = st.lists(
    st.builds(
        lambda natural, cut, priority, grow: ColumnFit(
            natural, max(1, natural - cut), priority, grow
        ),
        st.integers(1, 30),
        st.integers(0, 30),
        st.integers(0, 5),
        st.booleans(),
    ),
    min_size=1,
    max_size=7,
)


@given(columns=FITS, available=st.integers(1, 160))
def test_fit_columns_rules(columns: list[ColumnFit], available: int) -> None:
    widths = fit_columns(columns, available)
    shown = [i for i, w in enumerate(widths) if w > 0]
    used = sum(widths[i] + 1 for i in shown)
    assert shown, "at least one column stays"
    if len(shown) > 1 or sum(c.natural + 1 for c in columns) <= available:
        assert used <= available
    for i in shown:  # never narrower than its minimum, unless it is the only one left
        assert widths[i] >= min(columns[i].minimum, columns[i].natural) or len(shown) == 1
    total = sum(c.natural + 1 for c in columns)
    if total <= available:  # nothing is cut while space is free
        assert all(widths[i] >= columns[i].natural for i in range(len(columns)))
    for hidden in (i for i, w in enumerate(widths) if w == 0):
        # A hidden column is never more important than a column that was cut.
        for i in shown:
            if widths[i] < columns[i].natural:
                key = lambda j: (columns[j].priority, -j)  # noqa: E731
                assert key(hidden) <= key(i) or len(shown) == 1


def test_the_least_important_goes_first() -> None:
    columns = [ColumnFit(10, 10, 9), ColumnFit(19, 19, 1), ColumnFit(24, 10, 8)]
    assert fit_columns(columns, 56) == [10, 19, 24]
    assert fit_columns(columns, 50) == [10, 0, 24]  # the time is hidden, the actor stays whole
    assert fit_columns(columns, 30) == [10, 0, 18]
