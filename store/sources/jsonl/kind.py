"""JSON Lines as a source kind: a file (never a database) one of whose first lines is
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


LINES_LOOKED_AT = 8


def looks_like_jsonl(head: bytes, path: Path) -> bool:
    """One of the first non-blank lines is a JSON object (or the first starts one, if it
    is longer than `head`); or the file is empty and named like JSON Lines (an empty
    export).

    Malformed lines are skipped and reported when the file is read, so a damaged first
    line must not make the whole history unreadable: detection looks at the first
    `LINES_LOOKED_AT` lines, not only the first. A line must start in column one with a
    brace, so an indented, pretty-printed JSON document is not taken for JSON Lines.
    """
    if not head:
        return path.suffix.lower() in SUFFIXES
    import orjson

    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    lines = text.split(b"\n")
    truncated = path.stat().st_size > len(head)
    complete = lines[:-1] if truncated else lines
    if truncated and not complete and lines[0].startswith(b"{"):
        return True  # a first line longer than what was read: trust its opening brace
    looked_at = 0
    for raw in complete:
        line = raw.rstrip()
        if not line:
            continue
        looked_at += 1
        if looked_at > LINES_LOOKED_AT:
            break
        if not line.startswith(b"{"):
            continue
        try:
            if isinstance(orjson.loads(line), dict):
                return True
        except orjson.JSONDecodeError:
            continue
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
