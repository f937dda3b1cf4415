"""Two invariants of the native store that the hash walk alone does not prove.

* `recorded_at` never decreases along positions: positions are assigned under the write
  lock with the clock read inside it (docs/ARCHITECTURE.md, the hash chain), so an
  earlier recorded time at a later position means a row was written by something other
  than eventscope -- e.g. an event forged with a correct hash but a backdated time, which
  would make "as known at R" answers lie.
* the `chain_head` record names the last event's hash and time: appends chain onto it,
  so a head that disagrees with the last event would let the next append continue from
  a hash nobody can check -- and a tail cut with only the head's position and hash
  rewritten still shows in the head's time.

Both are reported as bad positions, like a broken link, so every view that marks altered
events marks these too.
"""

from __future__ import annotations

from collections.abc import Collection

from eventscope.store.native.database import NativeDatabase
from eventscope.store.records import BadPosition

NAMED_AT_MOST = 1000
"""As verify's other findings: the first 1,000 are named, all are counted."""

# Timestamps are stored as fixed-width UTC text (`...T09:00:00.000000Z`), so text order
# is time order, in SQLite and PostgreSQL alike.
_OUT_OF_ORDER = (
    "SELECT position, recorded_at, previous FROM ("
    "SELECT position, recorded_at, "
    "LAG(recorded_at) OVER (ORDER BY position) AS previous FROM events) AS ordered "
    "WHERE recorded_at < previous{also} ORDER BY position"
)


def recorded_order_problems(
    db: NativeDatabase, already_bad: Collection[int]
) -> tuple[list[BadPosition], int]:
    """Positions recorded earlier than their predecessor (the first 1,000) and their count.

    A position already named bad by the walk is not named again (its time was altered
    with the rest of it), nor is the position after it (its predecessor's time is the
    altered one): counting them would overstate the damage."""
    also = ""
    if already_bad:  # integers from the walk, never text from the store
        listed = ",".join(str(int(position)) for position in already_bad)
        # Judged on its own: neither an altered row nor the row after it is named again.
        also = f" AND position NOT IN ({listed}) AND position - 1 NOT IN ({listed})"
    sql = _OUT_OF_ORDER.format(also=also)
    rows = db.fetchall(f"{sql} LIMIT {NAMED_AT_MOST}")
    named = [
        BadPosition(
            position,
            "time",
            f"recorded at {recorded}, earlier than position {position - 1} ({previous}): "
            "recorded times never go back, so this row was not written by eventscope",
        )
        for position, recorded, previous in rows
    ]
    if len(named) < NAMED_AT_MOST:
        return named, len(named)
    total = db.fetchone(f"SELECT count(*) FROM ({sql}) AS counted")  # noqa: S608 -- constant SQL and integers
    return named, int(total[0]) if total else len(named)


def head_record_problem(db: NativeDatabase) -> BadPosition | None:
    """A `chain_head` record whose hash or time is not the last event's, named at the
    position after the last event: the usual cause is a cut tail whose head record was
    rewritten to match (time and hash must both be forged to hide it)."""
    head = db.fetchone("SELECT position, hash, recorded_at FROM chain_head WHERE id = 1")
    last = db.fetchone(
        "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
    )
    if head is None or last is None or head[0] != last[0]:
        return None  # a missing record or a cut tail is the walk's finding
    if head[1] is not None and head[1] != last[1]:
        return BadPosition(
            last[0] + 1,
            "head",
            f"the store's head record names hash {str(head[1])[:16]}... for position "
            f"{last[0]}, but that event's hash is {str(last[1])[:16]}...",
        )
    if head[2] is not None and head[2] != last[2]:
        return BadPosition(
            last[0] + 1,
            "head",
            f"the store's head record says position {last[0]} was recorded at {head[2]}, "
            f"but that event says {last[2]}",
        )
    return None
