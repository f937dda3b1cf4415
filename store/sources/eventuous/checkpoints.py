"""Eventuous's `checkpoints` table as projection checkpoints, with their lag.

`PostgresCheckpointStore` inserts a subscription's row with a NULL position when it first
starts and then stores the last position it processed; it reads on from position + 1,
which is eventscope's exclusive-start convention, so a position is used as it is and
NULL (nothing processed yet) is 0. An all-stream subscription stores a global position;
a *stream* subscription stores a stream position of its one stream, and nothing in the
table says which a row is -- so the lag is reported in events after the position read as
a global one, and the docs say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope.store.records import JSONObject
from eventscope.store.sql.reader import SqlReader


@dataclass(frozen=True, slots=True)
class CheckpointLag:
    """One subscription's checkpoint against the head."""

    name: str
    position: int  # 0 when the stored position is NULL
    started: bool  # False: registered, nothing processed (NULL)
    head: int
    behind: int  # messages with a global position above `position`

    def to_json(self) -> JSONObject:
        return {
            "name": self.name,
            "position": self.position,
            "started": self.started,
            "head": self.head,
            "lag_events": self.behind,
        }


def read_checkpoints(reader: SqlReader) -> dict[str, int]:
    rows = reader.fetchall("SELECT id, COALESCE(position, 0) FROM checkpoints ORDER BY id")
    return {name: int(position) for name, position in rows}


def lags(reader: SqlReader) -> list[CheckpointLag]:
    """Every checkpoint with its lag (one count per checkpoint, on the primary key)."""
    rows = reader.fetchall(
        "SELECT c.id, c.position, (SELECT COALESCE(max(global_position), 0) FROM messages), "
        "(SELECT count(*) FROM messages m WHERE m.global_position > COALESCE(c.position, 0)) "
        "FROM checkpoints c ORDER BY c.id"
    )
    return [
        CheckpointLag(name, int(position or 0), position is not None, int(head), int(behind))
        for name, position, head, behind in rows
    ]
