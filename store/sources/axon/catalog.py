"""The stream catalog of an Axon store: Axon keeps no streams table, so the per-aggregate
numbers come from one GROUP BY over the events table on first use, kept in memory.

Events not applied by an aggregate (published on the event bus) are stored one per
"aggregate" keyed by their own id; listed naively they would be thousands of one-event
streams. They are gathered into one stream, `NO_AGGREGATE_STREAM`, whose versions are
their order by global index (`group_positions` holds those indexes, sorted).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from eventscope.store.sources.axon.layout import Layout
from eventscope.store.sql.reader import SqlReader

NO_AGGREGATE_STREAM = "(no aggregate)"
NO_AGGREGATE_TYPE = "(no aggregate)"


@dataclass(frozen=True, slots=True)
class Stream:
    """One aggregate (or the group of events without one), as the catalog saw it."""

    stream_type: str
    version: int
    count: int
    first_position: int
    last_position: int
    first_time: str | None  # the stored timestamp text of version 1 and of the last one
    last_time: str | None


@dataclass(slots=True)
class Catalog:
    """Every stream by id, the ids sorted (keyset paging), and the group's positions."""

    streams: dict[str, Stream] = field(default_factory=dict)
    sorted_ids: list[str] = field(default_factory=list)
    group_positions: list[int] = field(default_factory=list)

    def group_version(self, position: int) -> int:
        """The version of a non-aggregate event within `NO_AGGREGATE_STREAM`."""
        return bisect_left(self.group_positions, position) + 1

    @property
    def event_count(self) -> int:
        return sum(stream.count for stream in self.streams.values())


def load_catalog(reader: SqlReader, layout: Layout) -> Catalog:
    """The catalog by one GROUP BY over the aggregates' events (the unique index on
    (aggregate, sequence) serves it) and one scan of the events without an aggregate."""
    t, agg, seq, kind = layout.table, layout.aggregate, layout.sequence, layout.aggregate_type
    pos, ts = layout.position, layout.column(7)
    sql = (
        f"SELECT g.agg, g.kind, g.n, g.hi, g.first_pos, g.last_pos, f.{ts}, l.{ts} "  # noqa: S608
        f"FROM (SELECT {agg} AS agg, MIN({kind}) AS kind, COUNT(*) AS n, MIN({seq}) AS lo, "
        f"MAX({seq}) AS hi, MIN({pos}) AS first_pos, MAX({pos}) AS last_pos FROM {t} "
        f"WHERE {layout.with_aggregate} GROUP BY {agg}) g "
        f"JOIN {t} f ON f.{agg} = g.agg AND f.{seq} = g.lo "
        f"JOIN {t} l ON l.{agg} = g.agg AND l.{seq} = g.hi"
    )
    catalog = Catalog()
    streams = catalog.streams
    for stream_id, kind_name, count, high, first, last, first_ts, last_ts in reader.fetchall(sql):
        streams[str(stream_id)] = Stream(
            stream_type=kind_name or "",
            version=int(high) + 1,
            count=int(count),
            first_position=int(first),
            last_position=int(last),
            first_time=first_ts,
            last_time=last_ts,
        )
    rows: list[Any] = reader.fetchall(
        f"SELECT {pos}, {ts} FROM {t} WHERE {layout.without_aggregate} ORDER BY {pos}"  # noqa: S608
    )
    if rows:
        catalog.group_positions = [int(row[0]) for row in rows]
        streams[NO_AGGREGATE_STREAM] = Stream(
            stream_type=NO_AGGREGATE_TYPE,
            version=len(rows),
            count=len(rows),
            first_position=int(rows[0][0]),
            last_position=int(rows[-1][0]),
            first_time=rows[0][1],
            last_time=rows[-1][1],
        )
    catalog.sorted_ids = sorted(streams)
    return catalog
