"""The native store's event-rate histogram, by the one rule of `store.histogram`.

Two ways to the same counts (a test holds them equal): with a filter, one GROUP BY over
the slice index computed in SQL from the stored timestamp text; without one, one index
seek per slice boundary (`_counts_by_position`), because recorded_at never decreases
along positions and positions are contiguous -- milliseconds on 1M events where the
GROUP BY parses every timestamp.
"""

from __future__ import annotations

from datetime import datetime

from eventscope.store.histogram import Histogram, check_buckets, slices
from eventscope.store.native.database import NativeDatabase
from eventscope.store.native.filters import filter_sql
from eventscope.store.native.reading import head_position
from eventscope.store.native.rows import ts
from eventscope.store.records import format_timestamp, to_micros
from eventscope.store.source import EventFilter

# Microseconds since 1970 of a stored timestamp text, exactly (no floating point), from
# its fixed-width parts: YYYY-MM-DDTHH:MM:SS (seconds) and the six fractional digits.
EPOCH_MICROS_SQLITE = (
    "CAST(strftime('%s', substr(recorded_at, 1, 19)) AS INTEGER) * 1000000 "
    "+ CAST(substr(recorded_at, 21, 6) AS INTEGER)"
)
EPOCH_MICROS_POSTGRES = (
    "CAST(EXTRACT(EPOCH FROM CAST(substr(recorded_at, 1, 19) AS TIMESTAMP)) AS BIGINT) "
    "* 1000000 + CAST(substr(recorded_at, 21, 6) AS BIGINT)"
)


def event_histogram(db: NativeDatabase, buckets: int, flt: EventFilter | None = None) -> Histogram:
    """Counts in `buckets` equal slices of recorded_at over the filtered events."""
    check_buckets(buckets)
    where, params = filter_sql(flt)
    lo_text, hi_text = db.fetchone(
        f"SELECT MIN(recorded_at), MAX(recorded_at) FROM events WHERE 1 = 1{where}",  # noqa: S608
        params,
    )
    if lo_text is None:
        return []
    cut = slices(to_micros(ts(lo_text)), to_micros(ts(hi_text)), buckets)
    if flt is None or flt.is_empty():
        return cut.histogram(_counts_by_position(db, cut.starts()))
    index_sql, index_params = cut.sql_index(
        EPOCH_MICROS_POSTGRES if db.postgres else EPOCH_MICROS_SQLITE
    )
    sql = (
        f"SELECT {index_sql} AS bucket, COUNT(*) "  # noqa: S608
        f"FROM events WHERE 1 = 1{where} GROUP BY bucket"
    )
    counts = [0] * buckets
    for bucket, count in db.fetchall(sql, (*index_params, *params)):
        counts[cut.clamp(int(bucket))] += count
    return cut.histogram(counts)


def _counts_by_position(db: NativeDatabase, starts: list[datetime]) -> list[int]:
    """A slice's count is the distance between the first positions at its two boundaries:
    an index seek for the time, then the smallest position among events sharing it (a
    batch shares one recorded_at)."""
    head = head_position(db)
    seek = (
        "SELECT MIN(position) FROM events WHERE recorded_at = "
        "(SELECT MIN(recorded_at) FROM events WHERE recorded_at >= ?)"
    )
    firsts = [1]
    for start in starts[1:]:
        first = db.fetchone(seek, (format_timestamp(start),))[0]
        firsts.append(first if first is not None else head + 1)
    firsts.append(head + 1)
    return [max(firsts[i + 1] - firsts[i], 0) for i in range(len(starts))]
