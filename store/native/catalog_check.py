"""The stream catalog against the events: part of `verify`.

Why: the `streams` table is what listing, counting and paging read, and it is not
covered by the hash chain, so a row edited there (a version, a count, a first or last
time) would mislead every list without `verify` noticing. One grouped query over the
events (an index scan on (stream_id, version)) recomputes each stream's row.

That query costs as much as a third of the chain walk, so after a walk that found the
history intact a cheaper proof runs first (`_quick_agrees`): each catalog row is pinned
to its first and last events by position, and the counts add up to the number of
events. An intact chain means the history is as appended (versions 1..N per stream),
so each stream has at least `version` events, and counts that sum to the total leave
no room for more. Only when that proof fails does the grouped query name the streams.
"""

from __future__ import annotations

from eventscope.store.native.database import NativeDatabase

# Named per stream up to this many; the count covers them all.
PROBLEMS_KEPT = 1000

_SQL = """
SELECT c.stream_id, c.stream_type, c.version, c.event_count, c.first_recorded_at,
       c.last_recorded_at, c.first_position, c.last_position,
       e.stream_type, e.version, e.event_count, e.first_recorded_at, e.last_recorded_at,
       e.first_position, e.last_position
FROM streams c
LEFT JOIN ({events}) e ON e.stream_id = c.stream_id
UNION ALL
SELECT e.stream_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       e.stream_type, e.version, e.event_count, e.first_recorded_at, e.last_recorded_at,
       e.first_position, e.last_position
FROM ({events}) e
WHERE NOT EXISTS (SELECT 1 FROM streams c WHERE c.stream_id = e.stream_id)
"""
# Counts and positions come from the (stream_id, version) index alone (position is the
# rowid), then two lookups per stream give the first and last event's type and times.
_EVENTS = (
    "SELECT g.stream_id AS stream_id, f.stream_type AS stream_type, g.version AS version, "
    "g.event_count AS event_count, f.recorded_at AS first_recorded_at, "
    "l.recorded_at AS last_recorded_at, g.first_position AS first_position, "
    "g.last_position AS last_position FROM (SELECT stream_id, MAX(version) AS version, "
    "COUNT(*) AS event_count, MIN(position) AS first_position, MAX(position) AS "
    "last_position FROM events GROUP BY stream_id) g "
    "JOIN events f ON f.position = g.first_position "
    "JOIN events l ON l.position = g.last_position"
)
_FIELDS = (
    "stream type",
    "version",
    "event count",
    "first recorded time",
    "last recorded time",
    "first position",
    "last position",
)


_QUICK = """
SELECT COUNT(*) FROM streams c
LEFT JOIN events f ON f.position = c.first_position
LEFT JOIN events l ON l.position = c.last_position
WHERE f.position IS NULL OR l.position IS NULL
   OR f.stream_id <> c.stream_id OR f.version <> 1 OR f.stream_type <> c.stream_type
   OR COALESCE(f.recorded_at, '') <> COALESCE(c.first_recorded_at, '')
   OR l.stream_id <> c.stream_id OR l.version <> c.version
   OR COALESCE(l.recorded_at, '') <> COALESCE(c.last_recorded_at, '') OR c.event_count <> c.version
"""


def _quick_agrees(db: NativeDatabase) -> bool:
    """The cheap proof (see the module docstring); valid only for an intact chain."""
    if db.fetchone(_QUICK)[0]:
        return False
    total = db.fetchone("SELECT COUNT(*) FROM events")[0]
    counted = db.fetchone("SELECT COALESCE(SUM(event_count), 0) FROM streams")[0]
    return int(counted) == int(total)


def catalog_problems(db: NativeDatabase, chain_intact: bool = False) -> tuple[list[str], int]:
    """One sentence per stream whose catalog row disagrees with its events (the first
    `PROBLEMS_KEPT`), and how many streams disagree in all. `chain_intact`: the walk
    found no bad position, so the cheap proof may answer."""
    if chain_intact and _quick_agrees(db):
        return [], 0
    problems: list[str] = []
    count = 0
    for row in db.fetchall(_SQL.format(events=_EVENTS)):
        sentence = _problem(row)
        if sentence is None:
            continue
        count += 1
        if len(problems) < PROBLEMS_KEPT:
            problems.append(sentence)
    problems.sort()
    return problems, count


def _problem(row: tuple[object, ...]) -> str | None:
    stream_id = row[0]
    catalog, events = row[1:8], row[8:15]
    if catalog[1] is None:
        return f"stream {stream_id!r} has events but no catalog row"
    if events[1] is None:
        return f"stream {stream_id!r} is in the catalog but has no events"
    wrong = [
        f"{name} {said!r} (the events say {found!r})"
        for name, said, found in zip(_FIELDS, catalog, events, strict=True)
        if said != found
    ]
    if not wrong:
        return None
    return f"stream {stream_id!r}: the catalog records " + ", ".join(wrong)
