"""One `mt_events` row as a `RecordedEvent`.

Mapping: `seq_id` is the position, `version` the stream version (Marten counts from 1),
`type` the event type (Marten's alias, snake_case of the class name by default),
`timestamp` both recorded and occurred time (Marten keeps one), `data` the payload.
Everything else Marten knows about an event goes to metadata under its own column name:
`mt_dotnet_type` (the CLR type behind the alias), `tenant_id` (when it is not Marten's
`*DEFAULT*`), `correlation_id`, `causation_id`, `headers`, `is_archived`, `is_skipped`;
`user_name` becomes `actor`, the name eventscope's filters and views use.

A 9.x binary event keeps its bytes in `bdata` and ``{}`` in `data`: it is shown with
empty data and ``"bdata": "binary of N bytes"`` in metadata, never as an error (it is
not damaged, only not JSON). Only the length is read, never the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from eventscope.store.native.rows import record
from eventscope.store.records import RecordedEvent, ReplayRow
from eventscope.store.sources.marten.layout import MartenLayout

DEFAULT_TENANT = "*DEFAULT*"

# (metadata key, column, SQL over mt_events aliased `e`), in the order they are selected.
_OPTIONAL = (
    ("mt_dotnet_type", "mt_dotnet_type", "e.mt_dotnet_type"),
    ("bdata", "bdata", "octet_length(e.bdata)"),
    ("correlation_id", "correlation_id", "e.correlation_id"),
    ("causation_id", "causation_id", "e.causation_id"),
    ("actor", "user_name", "e.user_name"),
    ("headers", "headers", "e.headers::text"),
    ("is_archived", "is_archived", "e.is_archived"),
    ("is_skipped", "is_skipped", "e.is_skipped"),
)
_FIXED = 8  # columns before the optional ones


class EventDecoder:
    """Rows of `select` as events, for one store's layout.

    Only the optional columns the store has are selected, and their places are worked
    out once here: decoding runs once per event shown, so a replay of a long stream
    costs little more than parsing its payloads."""

    def __init__(self, layout: MartenLayout) -> None:
        tenant = "e.tenant_id" if layout.has("tenant_id") else "NULL"
        columns = [
            f"e.seq_id, e.stream_id::text, {tenant}, e.version, e.id::text, e.type, "
            "e.timestamp, e.data::text"
        ]
        present = [(key, sql) for key, column, sql in _OPTIONAL if layout.has(column)]
        columns += [sql for _key, sql in present]
        self.select = ", ".join(columns)
        self.width = _FIXED + len(present)  # a caller may select more after these
        keys = [key for key, _sql in present]
        self._plain = tuple(
            (_FIXED + i, key) for i, key in enumerate(keys) if key not in ("bdata", "headers")
        )
        self._bdata = _FIXED + keys.index("bdata") if "bdata" in keys else None
        self._headers = _FIXED + keys.index("headers") if "headers" in keys else None

        binary = "e.bdata IS NOT NULL" if "bdata" in keys else "false"
        self.replay_select = f"e.version, e.seq_id, e.type, e.data::text, {binary}"

    def replay_rows(self, rows: Sequence[Sequence[Any]]) -> list[ReplayRow]:
        """Rows of `replay_select` as replay rows, the payload read as `__call__` reads
        it (a binary payload folds as ``{}``)."""
        out: list[ReplayRow] = []
        append, make = out.append, ReplayRow._make
        for version, position, event_type, data_text, binary in rows:
            error: str | None = None
            if binary:
                data: dict[str, Any] = {}
            else:
                data = loads_json(data_text)
                if type(data) is not dict:
                    error = f"the stored data is JSON but not an object (a {type(data).__name__})"
                    data = {}
            append(make((version, position, event_type, 1, data, error)))
        return out

    def __call__(self, row: Sequence[Any], stream_id: str, stream_type: str) -> RecordedEvent:
        """The event of one row (never raises for a bad payload)."""
        position, _stored, tenant, version, event_id, event_type, moment, data_text = row[:_FIXED]
        metadata: dict[str, Any] = {}
        if tenant is not None and tenant != DEFAULT_TENANT:
            metadata["tenant_id"] = tenant
        for index, key in self._plain:
            value = row[index]
            if value is not None and value is not False:
                metadata[key] = value
        if self._headers is not None and row[self._headers] is not None:
            metadata["headers"] = loads_json(row[self._headers])
        error: str | None = None
        if self._bdata is not None and row[self._bdata] is not None:
            metadata["bdata"] = f"binary of {row[self._bdata]} bytes"
            data: dict[str, Any] = {}
        else:
            parsed = loads_json(data_text)
            if type(parsed) is dict:
                data = parsed
            else:
                data = {}
                error = f"the stored data is JSON but not an object (a {type(parsed).__name__})"
        moment = utc(moment)
        if error is None:
            return record(
                position, stream_id, stream_type, version, event_id, event_type, 1,
                data, metadata, moment, moment, "",
            )  # fmt: skip
        return RecordedEvent(
            position, stream_id, stream_type, version, event_id, event_type, 1,
            data, metadata, moment, moment, "", error,
        )  # fmt: skip


def loads_json(text: str) -> Any:
    """jsonb text as JSON; Python's parser only for integers beyond 64 bits, which
    orjson refuses and jsonb may hold."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def utc(moment: datetime) -> datetime:
    """A timestamptz from the driver in UTC (the session's zone may be another), with
    the same `UTC` tzinfo every other source uses."""
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone in _UTC_ZONES:
        return moment.replace(tzinfo=UTC)
    if moment.utcoffset():
        return moment.astimezone(UTC)
    if zone is not None and getattr(zone, "key", None) in ("UTC", "Etc/UTC"):
        _UTC_ZONES.add(zone)  # the session's zone is UTC: no offset to ask for again
    return moment.replace(tzinfo=UTC)


_UTC_ZONES: set[Any] = set()
