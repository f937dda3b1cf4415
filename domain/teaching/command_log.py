"""The sandbox's command log: every command the class submitted, and the demo's own
rejected commands, as JSON Lines beside the sandbox store.

Events record what was *accepted*; a rejected command leaves no event. In a real system
the command side logs those refusals somewhere else -- this file is that place for the
sandbox, so "commands can be rejected" is visible in the data too. It is teaching data,
never evidence: it lives in the sandbox folder and is made fresh with the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from eventscope.store.records import format_timestamp

__all__ = ["CommandLog"]


class CommandLog:
    """Append-only JSON Lines: ``{at, actor, stream_id, command, outcome, reason, ...}``."""

    def __init__(self, path: Path, now: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self.now = now or (lambda: datetime.now(UTC))

    def append(self, entry: dict[str, Any]) -> None:
        line = {"at": format_timestamp(self.now()), **entry}
        with self.path.open("ab") as handle:
            handle.write(orjson.dumps(line) + b"\n")

    def extend(self, entries: list[dict[str, Any]]) -> None:
        with self.path.open("ab") as handle:
            for entry in entries:
                handle.write(orjson.dumps(entry) + b"\n")

    def entries(self, last: int | None = None) -> list[dict[str, Any]]:
        """The entries (the last `last` of them); an unreadable line is skipped."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        if last is not None:
            lines = lines[-last:]
        out = []
        for line in lines:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    def count(self, outcome: str | None = None, source: str | None = None) -> int:
        return sum(
            1
            for e in self.entries()
            if (outcome is None or e.get("outcome") == outcome)
            and (source is None or e.get("source") == source)
        )
