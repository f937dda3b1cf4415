"""Axon's tracking tokens (`token_entry`) as processor checkpoints.

Each row is one segment of one event processor. Its token says how far the segment has
read, as a global index: `GapAwareTrackingToken` carries `index` (the highest index
seen) and `gaps` (lower indexes not yet seen, which may still commit: block-allocated
ids), `GlobalSequenceTrackingToken` carries `globalIndex`, and a `ReplayToken` or
`MergedTrackingToken` wraps others. A NULL token means the segment has not read
anything yet (0). The `__config` row is Axon's store identity, not a processor.

The checkpoint's name is the processor's; a processor split into several segments gets
one checkpoint per segment, named ``processor[segment]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from eventscope.store.sources.axon import xstream
from eventscope.store.sources.axon.payloads import as_bytes

CONFIG_PROCESSOR = "__config"
# Where a wrapping token keeps the position it stands for, in order of preference.
_WRAPPERS = ("currentToken", "lowerSegmentToken", "tokenAtReset", "token")
_INDEX_KEYS = ("index", "globalIndex")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One segment's position, with the gaps its token still waits for."""

    name: str
    processor: str
    segment: int
    position: int
    gaps: int
    token_type: str | None


def token_position(value: Any) -> tuple[int, int] | None:
    """(global index, number of gaps) a serialized token stands for; (0, 0) for NULL,
    None when the token cannot be read."""
    raw = as_bytes(value)
    if raw is None:
        return 0, 0
    stripped = raw.lstrip()
    if stripped.startswith(b"<"):
        document = xstream.decode(raw)
        if isinstance(document, xstream.XStreamError):
            return None
        data: Any = document.data
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return _find(data, 0)


def _find(data: Any, depth: int) -> tuple[int, int] | None:
    if not isinstance(data, dict) or depth > 8:
        return None
    for key in _INDEX_KEYS:
        index = _integer(data.get(key))
        if index is not None:
            gaps = data.get("gaps")
            return index, len(gaps) if isinstance(gaps, list) else 0
    for key in _WRAPPERS:
        found = _find(data.get(key), depth + 1)
        if found is not None:
            return found
    return None


def _integer(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def checkpoints(rows: list[tuple[Any, ...]]) -> list[Checkpoint]:
    """Checkpoints from (processor, segment, token, token type) rows; the config row and
    unreadable tokens are left out."""
    processors: dict[str, int] = {}
    for processor, _segment, _token, _type in rows:
        processors[processor] = processors.get(processor, 0) + 1
    out = []
    for processor, segment, token, token_type in rows:
        if processor == CONFIG_PROCESSOR:
            continue
        found = token_position(token)
        if found is None:
            continue
        name = processor if processors[processor] == 1 else f"{processor}[{segment}]"
        out.append(Checkpoint(name, processor, int(segment), found[0], found[1], token_type))
    return sorted(out, key=lambda c: c.name)
