"""JSON Lines as a source kind: a file (never a database) whose first non-blank line is
a JSON object; an empty file named like JSON Lines is an empty history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from eventscope.store.errors import SourceNotFound
from eventscope.store.kinds import OpenRequest, SourceKind

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.source import EventSource

SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")


def looks_like_jsonl(head: bytes, path: Path) -> bool:
    """The first non-blank line is a JSON object (or starts one, if it is longer than
    `head`); or the file is empty and named like JSON Lines (an empty export)."""
    if not head:
        return path.suffix.lower() in SUFFIXES
    import orjson

    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    line, newline, _ = text.partition(b"\n")
    line = line.strip()
    if not line.startswith(b"{"):
        return False
    if not newline and path.stat().st_size > len(head):
        return True  # a first line longer than what was read: trust its opening brace
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _open(location: Location, request: OpenRequest) -> EventSource:
    from eventscope.store.sources.jsonl.source import JsonlSource

    if location.is_url:
        raise SourceNotFound("a JSON Lines source is a file path, not a URL")
    return JsonlSource.open(location.text, request.progress)


KIND = SourceKind(
    name="jsonl",
    open=_open,
    file_noun="JSON Lines with one event object per line",
    in_file=looks_like_jsonl,
)
