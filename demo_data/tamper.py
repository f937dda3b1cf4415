"""`--tamper`: edit one stored event behind the store's back, the way an insider with
database access would, so trainees can watch `eventscope verify` name the position.

It deliberately bypasses `EventStore` (which can only append) and uses the stdlib
`sqlite3` module on the closed file: one UPDATE of one row's `data`, keeping it valid
JSON so that only the hash chain -- not a parser -- can tell.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from eventscope.domain.demo.money import cents_to_text, text_to_cents


def tamper(path: Path) -> dict[str, Any]:
    """Multiply the amount of the first deposit in the second half of the history by ten.
    Returns the manifest entry describing the edit."""
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        (head,) = connection.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
        row = connection.execute(
            "SELECT position, stream_id, version, data FROM events "
            "WHERE event_type = 'MoneyDeposited' AND position >= ? ORDER BY position LIMIT 1",
            (head // 2,),
        ).fetchone()
        if row is None:
            raise RuntimeError("the demo store has no deposit to tamper with")
        position, stream_id, version, data_text = row
        data = orjson.loads(data_text)
        before = data["amount"]
        if isinstance(before, int):  # schema 1: integer cents
            data["amount"] = before * 10
        else:
            data["amount"] = cents_to_text(text_to_cents(before) * 10)
        after = data["amount"]
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "UPDATE events SET data = ? WHERE position = ?",
            (orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode(), position),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
    return {
        "kind": "tampered_event",
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "field": "data.amount",
        "stored_value": before,
        "tampered_value": after,
        "explanation": (
            "after the demo was built, the amount of this deposit was multiplied by ten with "
            "raw SQL; the hash chain breaks exactly here"
        ),
        "find_with": "eventscope verify DB",
    }
