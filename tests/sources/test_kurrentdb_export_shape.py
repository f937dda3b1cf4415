"""docs/sources/kurrentdb.md tells a KurrentDB user to export JSON Lines of a given shape
(commit positions as `position`, no `version` for a truncated stream, `$correlationId`
copied to `correlation_id`). No KurrentDB server can run here, so this checks the other
half: a file of exactly that shape opens as the document says."""

from __future__ import annotations

from pathlib import Path

import orjson
from eventscope.store import EventFilter, open_source


def line(stream: str, revision: int, commit: int, event_type: str, **data: object) -> bytes:
    metadata = {"$correlationId": f"c-{stream}", "revision": revision, "commit_position": commit}
    metadata["correlation_id"] = metadata["$correlationId"]
    return orjson.dumps(
        {
            "stream_id": stream,
            "event_type": event_type,
            "event_id": f"00000000-0000-4000-8000-{commit:012d}",
            "data": data,
            "metadata": metadata,
            "recorded_at": f"2026-03-01T09:00:{commit % 60:02d}.000001Z",
            "position": commit,
        }
    )


def test_an_export_shaped_as_documented_opens(tmp_path: Path) -> None:
    path = tmp_path / "kurrent.jsonl"
    lines = [
        line("order-1", 5, 128, "LineAdded", n=1),  # truncated before revision 5 ($tb)
        line("cart-9", 0, 250, "Opened"),
        line("order-1", 6, 372, "Shipped"),
        line("cart-9", 1, 493, "ItemAdded", sku="x"),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    with open_source(str(path)) as source:
        events = list(source.read_all())
        assert [e.position for e in events] == [128, 250, 372, 493]
        order = list(source.read_stream("order-1"))
        assert [(e.version, e.metadata["revision"]) for e in order] == [(1, 5), (2, 6)]
        assert order[0].stream_type == "order"
        assert source.count_events(EventFilter(correlation_id="c-cart-9")) == 2
        assert source.verify().malformed == 0
