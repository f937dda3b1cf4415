"""Write any `EventSource` as JSON Lines, one event per line, in position order.

Each line is the `events --json` shape (`RecordedEvent.to_json`): the fields of the JSON
Lines format plus `position` and, for sources with a chain, `hash` -- so an export of a
native store can be verified again on its own (`JsonlSource.verify` walks the same chain).
An event whose payload could not be decoded carries `decode_error`, so the export never
silently turns "unreadable" into "empty".

Streaming: events are read in chunks and written as they come; memory stays flat. The
caller provides the binary stream (the CLI uses an atomic temporary file).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson
from eventscope.store.records import RecordedEvent, format_timestamp
from eventscope.store.source import EventSource

# Called with the number of events written so far.
ExportProgress = Callable[[int], None]
_PROGRESS_EVERY = 1000


def event_line(event: RecordedEvent) -> bytes:
    """One JSON Lines line (with its newline) for an event."""
    line: dict[str, Any] = {
        "position": event.position,
        "stream_id": event.stream_id,
        "stream_type": event.stream_type,
        "version": event.version,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "occurred_at": format_timestamp(event.occurred_at),
        "recorded_at": format_timestamp(event.recorded_at),
    }
    if event.hash:
        line["hash"] = event.hash
    if event.decode_error is not None:
        line["decode_error"] = event.decode_error
    if not event.stream_type:
        del line["stream_type"]
    try:
        return orjson.dumps(line) + b"\n"
    except (orjson.JSONEncodeError, TypeError):
        # orjson refuses integers beyond 64 bits; the standard library writes them exactly.
        return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def write_jsonl(source: EventSource, out: BinaryIO, progress: ExportProgress | None = None) -> int:
    """Write every event of `source` to `out`; returns how many were written."""
    written = 0
    buffer: list[bytes] = []
    for event in source.read_all():
        buffer.append(event_line(event))
        written += 1
        if len(buffer) >= _PROGRESS_EVERY:
            out.write(b"".join(buffer))
            buffer.clear()
            if progress is not None:
                progress(written)
    if buffer:
        out.write(b"".join(buffer))
    if progress is not None:
        progress(written)
    return written
