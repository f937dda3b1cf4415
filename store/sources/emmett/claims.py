"""What an Emmett store claims beside its events: processor checkpoints, Pongo read
models, and its stream catalog. All derived claims, checked against the events.

* Checkpoints: `emt_processors.last_processed_checkpoint` (PostgreSQL, zero-padded text
  such as '0000000000000001522') and `emt_subscriptions.last_processed_position`
  (SQLite) are global positions; they are parsed as integers, never compared as text.
  The lag is `head_position() - checkpoint`, as for eventscope's own projections.
* Pongo read models (PostgreSQL tables with `_id`, `data` and `_version`, written
  inline in the append's transaction or by a projector) are projections: their rows
  are stored claims keyed by `_id` (the stream name). A row's position is the global
  position of its stream's message at `_version`, the last one it applied.
* The catalog `emt_streams`: emmett-sqlite 0.38.5 advances `stream_position` on a
  refused append, so it can run ahead of the events. eventscope takes versions from
  `emt_messages` and lists each stream where the catalog disagrees (`CatalogClaim`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventscope.store.records import ProjectionRow
from eventscope.store.sources.emmett.dialect import DEFAULT_PARTITION, message_rows
from eventscope.store.sources.emmett.mapping import parse_object
from eventscope.store.sql.fragments import quote_identifier
from eventscope.store.sql.reader import SqlReader

PONGO_COLUMNS = ("_id", "data", "_version")


@dataclass(frozen=True, slots=True)
class CatalogClaim:
    """A stream whose `emt_streams.stream_position` is not its last event's position."""

    stream_id: str
    catalog_position: int
    last_position: int
    messages: int

    def sentence(self) -> str:
        return (
            f"emt_streams says {self.stream_id!r} is at {self.catalog_position}, "
            f"its messages end at {self.last_position}"
        )


class Claims:
    """The derived claims of one Emmett store, read on demand."""

    def __init__(self, reader: SqlReader) -> None:
        self._reader = reader
        self._postgres = reader.postgres
        self._pongo: list[str] | None = None

    def checkpoints(self) -> dict[str, int]:
        """Processor (PostgreSQL) or subscription (SQLite) id -> last global position."""
        if self._postgres:
            sql = (
                "SELECT processor_id, last_processed_checkpoint FROM emt_processors "
                "WHERE partition = ?"
            )
            params: tuple[Any, ...] = (DEFAULT_PARTITION,)
        else:
            if not self._has_table("emt_subscriptions"):
                return {}
            sql = "SELECT subscription_id, last_processed_position FROM emt_subscriptions"
            params = ()
        out: dict[str, int] = {}
        for name, checkpoint in self._reader.fetchall(sql, params):
            try:
                value = int(checkpoint)
            except (TypeError, ValueError):
                continue
            out[name] = max(value, out.get(name, value))
        return out

    def pongo_tables(self) -> list[str]:
        """Tables shaped like Pongo collections, in name order."""
        if self._pongo is None:
            marks = ", ".join("?" * len(PONGO_COLUMNS))
            if self._postgres:
                sql = (
                    "SELECT table_name FROM information_schema.columns "  # noqa: S608
                    f"WHERE table_schema = current_schema() AND column_name IN ({marks}) "
                    "GROUP BY table_name HAVING count(*) = ? ORDER BY table_name"
                )
            else:
                sql = (
                    "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p "  # noqa: S608
                    f"WHERE m.type = 'table' AND p.name IN ({marks}) "
                    "GROUP BY m.name HAVING count(*) = ? ORDER BY m.name"
                )
            rows = self._reader.fetchall(sql, (*PONGO_COLUMNS, len(PONGO_COLUMNS)))
            self._pongo = [row[0] for row in rows]
        return self._pongo

    def projection_rows(
        self, table: str, after: str | None, limit: int, key: str | None = None
    ) -> list[ProjectionRow]:
        if table not in self.pongo_tables() or limit <= 0:
            return []
        data = "r.data::text" if self._postgres else "r.data"
        if key is not None:
            where, start = "r._id = ?", key
        elif after is not None:
            where, start = "r._id > ?", after
        else:
            where, start = "r._id >= ?", ""
        sql = (
            f"SELECT r._id, {data}, m.global_position FROM {quote_identifier(table)} r "  # noqa: S608
            "LEFT JOIN emt_messages m ON m.stream_id = r._id "
            f"AND m.stream_position = r._version AND {message_rows(self._postgres)} "
            f"WHERE {where} ORDER BY r._id LIMIT ?"
        )
        out = []
        for row_key, document, position in self._reader.fetchall(sql, (start, limit)):
            parsed, _error = parse_object(document)
            out.append(ProjectionRow(table, str(row_key), parsed, int(position or 0)))
        return out

    def catalog_disagreements(self) -> list[CatalogClaim]:
        """Streams whose catalog position is not their last message's (any kind)."""
        sql = (
            "SELECT s.stream_id, s.stream_position, m.last, m.n FROM emt_streams s "  # noqa: S608
            "JOIN (SELECT stream_id, MAX(stream_position) AS last, COUNT(*) AS n "
            f"FROM emt_messages WHERE {message_rows(self._postgres)} GROUP BY stream_id) m "
            "ON m.stream_id = s.stream_id "
            "WHERE NOT s.is_archived AND s.stream_position <> m.last ORDER BY s.stream_id"
        )
        return [
            CatalogClaim(stream_id, int(catalog), int(last), int(n))
            for stream_id, catalog, last, n in self._reader.fetchall(sql)
        ]

    def commands(self) -> int:
        """Messages that are not events (commands), left out of every read."""
        sql = (
            "SELECT COUNT(*) FROM emt_messages "  # noqa: S608
            f"WHERE message_kind <> 'E' AND {message_rows(self._postgres)}"
        )
        return int(self._reader.fetchone(sql)[0])

    def unsettled(self) -> int:
        """PostgreSQL: messages committed but not yet settled (a transaction older than
        theirs is still open somewhere on the server), so not shown yet."""
        if not self._postgres:
            return 0
        sql = (
            "SELECT COUNT(*) FROM emt_messages WHERE partition = ? AND NOT is_archived "
            "AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())"
        )
        return int(self._reader.fetchone(sql, (DEFAULT_PARTITION,))[0])

    def order_inversions(self) -> int:
        """PostgreSQL: settled rows whose global_position order disagrees with Emmett's
        (transaction_id, global_position) order (overlapping appends). eventscope shows
        global_position order; this says whether that differs anywhere."""
        if not self._postgres:
            return 0
        sql = (
            "SELECT COUNT(*) FROM (SELECT transaction_id, lag(transaction_id) OVER "  # noqa: S608
            f"(ORDER BY global_position) AS before FROM emt_messages "
            f"WHERE {message_rows(True)}) t WHERE t.before > t.transaction_id"
        )
        return int(self._reader.fetchone(sql)[0])

    def _has_table(self, name: str) -> bool:
        row = self._reader.fetchone(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return row is not None
