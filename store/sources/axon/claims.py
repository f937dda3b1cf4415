"""The derived claims an Axon store keeps beside its events: the latest snapshot per
aggregate (`snapshot_event_entry`) and the event processors' tracking tokens
(`token_entry`). Both are claims to check, never truth: a snapshot against the replay,
a token against the head (its lag).
"""

from __future__ import annotations

from typing import Any

from eventscope.store.records import EPOCH, Snapshot, StreamInfo
from eventscope.store.sources.axon.layout import TOKEN_TABLES, Layout
from eventscope.store.sources.axon.payloads import decode_payload, schema_version
from eventscope.store.sources.axon.rows import parse_time
from eventscope.store.sources.axon.tokens import Checkpoint, checkpoints
from eventscope.store.sql.reader import SqlReader


def snapshots(
    reader: SqlReader, layout: Layout, stream: StreamInfo, up_to: int | None
) -> list[Snapshot]:
    """Axon keeps only the latest snapshot per aggregate (`storeSnapshot` deletes older
    ones), taken after sequence number N: a claim about version N + 1, listed when its
    version is at most `up_to`. An unreadable snapshot is left out, since it claims
    nothing readable."""
    if layout.snapshots is None:
        return []
    agg, seq = layout.aggregate, layout.sequence
    payload = layout.blob("snapshots", layout.column(8))
    sql = (
        f"SELECT {seq}, {layout.column(5)}, {layout.column(6)}, {layout.column(7)}, "  # noqa: S608
        f"{payload} FROM {layout.snapshots} WHERE {agg} = ?"
    )
    params: list[Any] = [stream.stream_id]
    if up_to is not None:
        sql += f" AND {seq} <= ?"
        params.append(up_to - 1)
    out = []
    for sequence, payload_type, revision, stamp, blob in reader.fetchall(
        sql + f" ORDER BY {seq}", params
    ):
        decoded = decode_payload(blob)
        if decoded.error is not None:
            continue
        out.append(
            Snapshot(
                stream_id=stream.stream_id,
                version=int(sequence) + 1,
                state=decoded.data,
                aggregate_type=stream.stream_type,
                schema_version=schema_version(revision),
                code_version=payload_type or "",
                created_at=parse_time(stamp) or EPOCH,
            )
        )
    return out


def processor_checkpoints(reader: SqlReader, layout: Layout) -> list[Checkpoint]:
    """Each event processor segment's token, as a global index (`tokens`)."""
    if layout.tokens is None:
        return []
    _table, name, segment, token, token_type = TOKEN_TABLES[layout.scheme]
    present = {
        row[0]
        for row in reader.fetchall(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (layout.tokens,),
        )
    }
    kind = token_type if token_type in present else "NULL"
    rows = reader.fetchall(
        f"SELECT {name}, {segment}, {layout.blob('tokens', token)}, {kind} "  # noqa: S608
        f"FROM {layout.tokens} ORDER BY {name}, {segment}"
    )
    return checkpoints([tuple(row) for row in rows])
