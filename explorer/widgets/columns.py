"""How wide each column of a table is: from its content and the space there is.

A reviewer reads a row for *who* and *which* (actor, stream id, version, hash). So a
column is never wider than what it holds, and when the row does not fit, the least
important column gives way first: it shrinks to its minimum (cut with an ellipsis), then
it is hidden, then the next least important one does the same. Space left over goes to
the column that grows (a payload preview), so nothing is cut while space is free.

`fit_columns` is pure so it can be checked against a plain reference (see the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ColumnFit:
    """What the fitting needs of one column."""

    natural: int
    """The width its content (and header) asks for."""
    minimum: int
    """The narrowest it may be shown, cut with an ellipsis; narrower means hidden."""
    priority: int
    """Lower is cut first; ties are cut from the right."""
    grow: bool = False
    """Takes the space left over (the first such column does)."""


def fit_columns(columns: Sequence[ColumnFit], available: int) -> list[int]:
    """Widths for `columns` within `available` cells (each shown column also takes one
    separator cell); 0 means the column is hidden. At least one column stays shown."""
    widths = [max(1, column.natural) for column in columns]
    if not columns:
        return widths

    def used() -> int:
        return sum(width + 1 for width in widths if width > 0)

    order = sorted(range(len(columns)), key=lambda i: (columns[i].priority, -i))
    for index in order:
        over = used() - available
        if over <= 0:
            break
        if sum(1 for width in widths if width > 0) == 1:
            break  # the last column shown is cut, never hidden
        floor = min(widths[index], max(1, columns[index].minimum))
        widths[index] -= min(over, widths[index] - floor)
        if used() > available:
            widths[index] = 0
    over = used() - available
    if over > 0:  # one column left, still too wide: cut it to what there is
        last = next(i for i, width in enumerate(widths) if width > 0)
        widths[last] = max(1, widths[last] - over)
    spare = available - used()
    if spare > 0:
        grower = next((i for i, c in enumerate(columns) if c.grow and widths[i] > 0), None)
        if grower is not None:
            widths[grower] += spare
    return widths
