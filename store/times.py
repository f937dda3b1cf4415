"""Times, written once: the epoch, exact integer microseconds, UTC, and the text form.

Every source hands the layers above aware UTC datetimes; a time without a zone means UTC
everywhere in eventscope (a stored column, a filter bound, a typed `--at`), never the
machine's local zone. Times as integers are microseconds since `EPOCH`, computed
exactly (no float): the histogram rule, the compact JSON Lines index and the business
time order rely on equal times giving equal integers.

Standard library only: the bare helper processes (`store.helper_process`) import it
through `store.records`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Timestamps are stored and hashed in exactly this form: UTC, microseconds, 'Z' suffix.
# Fixed width, so the text sorts in time order.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# The one epoch of every source.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; a naive one means UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def naive_utc(moment: datetime) -> datetime:
    """`moment` as the zone-less UTC wall time a ``timestamp without time zone`` column
    holds (a bound to compare with it); a naive one already is."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_micros(moment: datetime) -> int:
    """Microseconds since `EPOCH`, exactly; a naive datetime means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime `micros` microseconds after `EPOCH`."""
    return EPOCH + timedelta(microseconds=micros)


def format_timestamp(moment: datetime) -> str:
    """Render an aware (or naive-means-UTC) datetime in the store's canonical text form."""
    return as_utc(moment).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse ISO 8601 text; a naive value means UTC. Raises ValueError on bad input,
    including a time whose UTC form falls outside years 1-9999 (9999-12-31T23:59:59-01:00),
    which Python reports as OverflowError."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return as_utc(value)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 1 to 9999 once converted to UTC") from None


def stored_time(value: object) -> datetime | None:
    """A time a foreign store wrote as ISO 8601 text, as aware UTC; None when it is not
    text or not a time Python reads (the source then shows its own fallback)."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return None
