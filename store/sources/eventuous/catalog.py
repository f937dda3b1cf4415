"""Eventuous's stream names, kept in memory in code-point order for keyset paging.

Why in memory: `streams.stream_name` is ordered by the database's collation (often
en_US), not by code points as every eventscope source orders stream ids, and a read-only
auditor cannot add a `COLLATE "C"` index. One scan of `streams` (a few hundred ms at a
million streams) gives the sorted names; a page is then a bisect (`paging.ids_from`).

Why it stays current cheaply: `stream_id` is an identity column, so streams created
since are exactly those with a higher id, one primary-key range query away. (A stream
whose creating transaction commits after a later one's is picked up on the next full
load; Eventuous never deletes a stream row.)
"""

from __future__ import annotations

import threading
from bisect import insort
from collections.abc import Iterator

from eventscope.store.paging import ids_from
from eventscope.store.sql.reader import SqlReader

_LOAD_SQL = "SELECT stream_id, stream_name FROM streams WHERE stream_id > ? ORDER BY stream_id"


def category(stream_name: str) -> str:
    """The stream type: the text before the first '-' (Eventuous's `{Aggregate}-{id}`
    names), or the whole name; the same as SQL's ``split_part(name, '-', 1)``."""
    return stream_name.split("-", 1)[0]


class StreamCatalog:
    """Stream names <-> Eventuous stream ids, and the names in sorted order."""

    def __init__(self, reader: SqlReader) -> None:
        self._reader = reader
        self._lock = threading.Lock()
        self._sorted: list[str] = []
        self.by_name: dict[str, int] = {}
        self.by_id: dict[int, str] = {}
        self._types: dict[str, str] = {}
        self._highest = 0

    def refresh(self) -> None:
        """Add the streams created since the last look (all of them the first time)."""
        with self._lock:
            rows = self._reader.fetchall(_LOAD_SQL, (self._highest,))
            if not rows:
                return
            first_load = not self._sorted
            for stream_id, name in rows:
                self.by_name[name] = stream_id
                self.by_id[stream_id] = name
                self._types[name] = category(name)
                if not first_load:
                    insort(self._sorted, name)
            if first_load:
                self._sorted = sorted(self.by_name)
            self._highest = max(self._highest, rows[-1][0])

    def name_of(self, stream_id: int) -> str:
        """The name of a stream id (refreshing once for a stream created meanwhile)."""
        name = self.by_id.get(stream_id)
        if name is None:
            self.refresh()
            name = self.by_id.get(stream_id, f"#{stream_id}")
        return name

    def stream_type(self, name: str) -> str:
        return self._types.get(name) or category(name)

    def names(
        self, stream_type: str | None, prefix: str | None, after: str | None
    ) -> Iterator[str]:
        """Names in code-point order, literally prefixed, after `after`, of one type."""
        types = self._types
        for name in ids_from(self._sorted, prefix, after):
            if stream_type is None or types[name] == stream_type:
                yield name

    def types(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for stream_type in self._types.values():
            counts[stream_type] = counts.get(stream_type, 0) + 1
        return sorted(counts.items())

    def __len__(self) -> int:
        return len(self._sorted)
