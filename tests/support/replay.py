"""A source whose replay rows come from its full records: the path before the lean
`read_replay` queries, which the contract suite compares against and the replay
benchmark times beside them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventscope.store.records import RecordedEvent
from eventscope.store.source import EventSource, ReplayFromRecords


class FullRecordsOnly(ReplayFromRecords):
    """`base` with `read_replay` derived from `read_stream` (the store's own rule)."""

    def __init__(self, base: EventSource) -> None:
        self.base = base

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        backwards: bool = False,
    ) -> Iterator[RecordedEvent]:
        return self.base.read_stream(stream_id, from_version, to_version, backwards)
