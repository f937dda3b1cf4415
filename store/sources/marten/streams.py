"""Marten's stream catalog (`mt_streams`) as eventscope's, a page at a time.

`mt_streams` has one row per stream (per tenant), so listing never scans events: a page
is one keyset query on the streams key per tenant block (`identity`), and each listed
stream's first and last *settled* event (at or below the high-water mark) are two probes
of the `(tenant_id, stream_id, version)` index. A stream whose events all lie above the
mark is not listed yet, and one whose newest events do is shown at its last settled
version, so the catalog always agrees with what `read_stream` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventscope.store.records import StreamInfo
from eventscope.store.sources.marten.claims import HORIZON
from eventscope.store.sources.marten.events import utc
from eventscope.store.sources.marten.identity import Block, Identity, Slice, id_bounds
from eventscope.store.sources.marten.layout import MartenLayout
from eventscope.store.sql.reader import SqlReader


@dataclass(frozen=True, slots=True)
class MartenStream:
    """One stream as listed: where it is stored and what of it is settled."""

    block: Block
    stored: str  # the id as text
    shown: str
    stream_type: str  # "" for a stream started without an aggregate type
    first_version: int
    last_version: int
    first_position: int
    last_position: int
    first_at: datetime
    last_at: datetime

    def info(self) -> StreamInfo:
        return StreamInfo(
            stream_id=self.shown,
            stream_type=self.stream_type,
            version=self.last_version,
            event_count=self.last_version - self.first_version + 1,
            first_recorded_at=self.first_at,
            last_recorded_at=self.last_at,
            first_position=self.first_position,
            last_position=self.last_position,
        )


class StreamCatalog:
    """Pages, counts and lookups of `mt_streams`, capped at the high-water mark."""

    def __init__(self, reader: SqlReader, layout: MartenLayout, identity: Identity) -> None:
        self._reader = reader
        self._layout = layout
        self._identity = identity
        self.id_cast = "?::uuid" if layout.uuid_ids else "?"
        self.collate = "" if layout.code_point_ids else ' COLLATE "C"'
        tenant_join = " AND e.tenant_id = s.tenant_id" if layout.conjoined else ""
        self._settled = f"e.stream_id = s.id{tenant_join} AND e.seq_id <= {HORIZON}"
        probe = f"SELECT e.version, e.seq_id, e.timestamp FROM mt_events e WHERE {self._settled}"  # noqa: S608
        self._select = (
            "SELECT s.id::text, s.type, f.version, f.seq_id, f.timestamp, "  # noqa: S608
            "l.version, l.seq_id, l.timestamp FROM mt_streams s "
            f"CROSS JOIN LATERAL ({probe} ORDER BY e.version LIMIT 1) f "
            f"CROSS JOIN LATERAL ({probe} ORDER BY e.version DESC LIMIT 1) l"
        )

    def page(
        self, stream_type: str | None, prefix: str | None, after: str | None, limit: int
    ) -> list[MartenStream]:
        """Streams in shown-id order, shown id > `after`, starting with `prefix`."""
        out: list[MartenStream] = []
        for piece in self._identity.slices(prefix, after):
            if len(out) >= limit:
                break
            found = self._conditions(piece, stream_type)
            if found is None:
                continue
            conditions, params = found
            sql = (
                f"{self._select} WHERE {' AND '.join(conditions)} "
                f"ORDER BY s.id{self.collate} LIMIT ?"
            )
            rows = self._reader.fetchall(sql, [*params, limit - len(out)])
            out.extend(self._stream(piece.block, row) for row in rows)
        return out

    def count(self, stream_type: str | None, prefix: str | None) -> int:
        """Streams matching, without probing each one: all matching rows of
        `mt_streams`, less those whose events all lie above the high-water mark (found
        from the few events above it, through the seq_id key)."""
        key = "(s.tenant_id, s.id)" if self._layout.conjoined else "s.id"
        unsettled_key = "u.tenant_id, u.stream_id" if self._layout.conjoined else "u.stream_id"
        total = 0
        for piece in self._identity.slices(prefix, None):
            found = self._conditions(piece, stream_type)
            if found is None:
                continue
            conditions, params = found
            where = " AND ".join(conditions)
            sql = (
                f"SELECT (SELECT count(*) FROM mt_streams s WHERE {where}) - "  # noqa: S608
                f"(SELECT count(*) FROM mt_streams s WHERE {where} AND {key} IN "
                f"(SELECT {unsettled_key} FROM mt_events u WHERE u.seq_id > {HORIZON}) "
                f"AND NOT EXISTS (SELECT 1 FROM mt_events e WHERE {self._settled}))"
            )
            total += int(self._reader.fetchone(sql, [*params, *params])[0])
        return total

    def types(self) -> list[tuple[str, int]]:
        sql = (
            "SELECT COALESCE(s.type, ''), count(*) FROM mt_streams s "  # noqa: S608
            f"WHERE EXISTS (SELECT 1 FROM mt_events e WHERE {self._settled}) GROUP BY 1"
        )
        return sorted((name, int(count)) for name, count in self._reader.fetchall(sql))

    def find(self, shown: str) -> MartenStream | None:
        """The stream a shown id names, or None."""
        for block, stored in self._identity.parse(shown):
            conditions = [f"s.id = {self.id_cast}"]
            params: list[Any] = [stored]
            if block.tenant is not None:
                conditions.append("s.tenant_id = ?")
                params.append(block.tenant)
            row = self._reader.fetchone(f"{self._select} WHERE {' AND '.join(conditions)}", params)
            if row is not None:
                return self._stream(block, row)
        return None

    def _conditions(
        self, piece: Slice, stream_type: str | None
    ) -> tuple[list[str], list[Any]] | None:
        bounds = id_bounds("s.id", self._layout.uuid_ids, piece.after, piece.prefix, self.collate)
        if bounds is None:
            return None
        conditions, params = bounds
        conditions = ["TRUE", *conditions]
        if piece.block.tenant is not None:
            conditions.append("s.tenant_id = ?")
            params = [*params, piece.block.tenant]
        if stream_type is not None:
            if stream_type == "":
                conditions.append("s.type IS NULL")
            else:
                conditions.append("s.type = ?")
                params = [*params, stream_type]
        return conditions, params

    def _stream(self, block: Block, row: Sequence[Any]) -> MartenStream:
        stored, stream_type, first_v, first_pos, first_at, last_v, last_pos, last_at = row
        return MartenStream(
            block=block,
            stored=stored,
            shown=self._identity.present(block.tenant, stored),
            stream_type=stream_type or "",
            first_version=int(first_v),
            last_version=int(last_v),
            first_position=int(first_pos),
            last_position=int(last_pos),
            first_at=utc(first_at),
            last_at=utc(last_at),
        )
