"""The SQL and the value conversions that differ between Emmett's two stores.

Why a module of its own: everything else in the source is one text for both backends.
* Which rows are events: `message_kind = 'E'` (commands share the table), in Emmett's
  default partition, not archived. On PostgreSQL also only *settled* rows: those whose
  `transaction_id` lies below `pg_snapshot_xmin(pg_current_snapshot())`, the rule
  Emmett's own batch puller uses, so a row of a transaction still in flight (which may
  hold a lower `global_position` than rows already committed) is never shown and then
  overtaken. `transaction_id` is `xid8`, a type SQLAlchemy does not know: it is only
  ever compared in SQL, never selected.
* Payloads: PostgreSQL's jsonb is selected as text (`::text`) and parsed with orjson,
  faster than the driver's json.loads; SQLite stores the text already.
* `created`: timestamptz on PostgreSQL, `YYYY-MM-DD HH:MM:SS` UTC text on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from eventscope.store.records import EPOCH
from eventscope.store.times import as_utc, stored_time

DEFAULT_PARTITION = "emt:default"
SETTLED = "transaction_id < pg_snapshot_xmin(pg_current_snapshot())"


def message_rows(postgres: bool) -> str:
    """The WHERE condition of every message row eventscope may show (any kind)."""
    base = f"partition = '{DEFAULT_PARTITION}' AND NOT is_archived AND global_position IS NOT NULL"
    return f"{base} AND {SETTLED}" if postgres else base


def event_rows(postgres: bool) -> str:
    """The WHERE condition of the rows that are events."""
    return f"message_kind = 'E' AND {message_rows(postgres)}"


def event_columns(postgres: bool) -> str:
    """The columns `source._event` reads, in its order."""
    json = "::text" if postgres else ""
    return (
        "global_position, stream_id, stream_position, message_type, "
        f"message_data{json}, message_metadata{json}, created, message_id, "
        "message_schema_version"
    )


@lru_cache(maxsize=8192)
def recorded_time(value: Any) -> datetime:
    """`created` as an aware UTC datetime (EPOCH when it cannot be read); cached, since
    one append's messages share it (and SQLite's has one-second resolution)."""
    if isinstance(value, datetime):
        return as_utc(value)
    return stored_time(value) or EPOCH


@lru_cache(maxsize=4096)
def stream_type_of(stream_id: str) -> str:
    """Emmett's rule for `emt_streams.stream_type`: the text before the first `-`, else
    `emt:unknown`. Computed from the id, so no join on SQLite's untrustworthy catalog."""
    head, dash, _rest = stream_id.partition("-")
    return head if dash else "emt:unknown"
