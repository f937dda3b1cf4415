"""Simulated business time: busy weekday office hours, quiet evenings, nights and weekends.

The generator thinks in *activity*: one unit of activity is one hour at full weekday
intensity. Spontaneous customer activity is spread evenly over activity, and
`wall_seconds` turns an activity amount back into wall-clock seconds since `START`, so
a weekday afternoon gets many events and a Sunday night almost none. Everything here is
a pure function of its arguments: no wall clock is ever read.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from itertools import accumulate

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SPAN_DAYS = 182  # until early July: two quarters of business
MARGIN_DAYS = 120  # room to run past the span if a build needs it (it never should)

DAY = 86_400.0
HOUR = 3_600.0

_WEEKDAY = (
    0.02,
    0.01,
    0.01,
    0.01,
    0.02,
    0.04,
    0.10,
    0.35,  # 00-07
    0.80,
    1.00,
    1.00,
    1.00,
    0.75,
    0.90,
    1.00,
    1.00,  # 08-15
    0.90,
    0.60,
    0.35,
    0.30,
    0.25,
    0.18,
    0.10,
    0.05,  # 16-23
)
_SATURDAY = (
    0.02,
    0.01,
    0.01,
    0.01,
    0.01,
    0.01,
    0.02,
    0.04,
    0.08,
    0.15,
    0.20,
    0.22,
    0.20,
    0.18,
    0.18,
    0.15,
    0.12,
    0.10,
    0.08,
    0.08,
    0.07,
    0.05,
    0.04,
    0.03,
)
_SUNDAY = tuple(value * 0.5 for value in _SATURDAY)


def _weights(days: int) -> list[float]:
    out: list[float] = []
    for day in range(days):
        weekday = (START + timedelta(days=day)).weekday()
        out.extend(_WEEKDAY if weekday < 5 else _SATURDAY if weekday == 5 else _SUNDAY)
    return out


class BusinessClock:
    """Maps activity to wall time over the span (and a margin after it)."""

    def __init__(self) -> None:
        self.weights = _weights(SPAN_DAYS + MARGIN_DAYS)
        self.cumulative = [0.0, *accumulate(self.weights)]
        self.span_activity = self.cumulative[SPAN_DAYS * 24]

    def wall_seconds(self, activity: float) -> float:
        """Seconds since START at which `activity` units of activity have elapsed."""
        hour = bisect_right(self.cumulative, activity) - 1
        hour = min(hour, len(self.weights) - 1)
        fraction = (activity - self.cumulative[hour]) / self.weights[hour]
        return (hour + min(fraction, 1.0)) * HOUR

    def activity_at(self, seconds: float) -> float:
        """The inverse of `wall_seconds` (used after a scheduled jump in time)."""
        hour = min(int(seconds // HOUR), len(self.weights) - 1)
        fraction = (seconds - hour * HOUR) / HOUR
        return self.cumulative[hour] + fraction * self.weights[hour]


def moment(seconds: float) -> datetime:
    """Wall seconds since START as an aware UTC datetime (microsecond precision)."""
    return START + timedelta(microseconds=round(seconds * 1_000_000))


def day_start(seconds: float) -> float:
    return (seconds // DAY) * DAY


def weekday(seconds: float) -> int:
    """0 = Monday (START is a Monday)."""
    return int(seconds // DAY) % 7


def next_business_time(seconds: float, hour: float) -> float:
    """The next weekday at `hour` o'clock strictly after `seconds`."""
    candidate = day_start(seconds) + hour * HOUR
    while candidate <= seconds or weekday(candidate) >= 5:
        candidate += DAY
    return candidate


def month_ends(days: int = SPAN_DAYS) -> list[float]:
    """Seconds of 01:30 on the first day of each month within the span (the night batch
    that books the previous month's fees and interest)."""
    out: list[float] = []
    for day in range(1, days):
        when = START + timedelta(days=day)
        if when.day == 1:
            out.append(day * DAY + 1.5 * HOUR)
    return out


def paydays(days: int = SPAN_DAYS) -> list[float]:
    """Seconds of 05:30 on each month's payday: the 25th, or the weekday before it when
    the 25th falls on a weekend (when employers' salary files arrive)."""
    out: list[float] = []
    for day in range(days):
        when = START + timedelta(days=day)
        if when.day == 25:
            while (START + timedelta(days=day)).weekday() >= 5:
                day -= 1
            out.append(day * DAY + 5.5 * HOUR)
    return out


def day_text(seconds: float) -> str:
    return moment(seconds).strftime("%Y-%m-%d")
