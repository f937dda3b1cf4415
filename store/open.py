"""Open any supported history by path or URL, choosing the right `EventSource`.

A SOURCE is a file path or a SQLAlchemy URL (`store.location`), optionally prefixed with
its kind (`native:`, `jsonl:`, `eventsourcing:`, ... -- the names in `store.kinds`) to
skip detection; `format=` (the CLI's `--format`) does the same. Without either, the kind
is detected from the content, never from the file name alone, by asking each registered
kind in turn:
* a SQLite file, or one schema of a PostgreSQL database: its tables (`in_database`),
  e.g. eventscope's `store_info`, the `eventsourcing` library's events table;
* any other file: its first bytes (`in_file`), e.g. a first line that is a JSON object.
Anything else -- a missing file, an empty file, another program's database, a binary
file -- gets one clear sentence (`SourceNotFound` / `NotAStoreError`).

Detection only reads: SQLite files are probed through `mode=ro` connections and
PostgreSQL through read-only sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eventscope.store import kinds
from eventscope.store.errors import NotAStoreError, ReadOnlyError, SourceNotFound
from eventscope.store.kinds import OpenRequest, SourceKind
from eventscope.store.location import Location, parse_location
from eventscope.store.progress import ProgressCallback
from eventscope.store.source import EventSource
from eventscope.store.sql.file_peek import peek

if TYPE_CHECKING:
    from eventscope.store.sql.tables import Tables

SQLITE_MAGIC = b"SQLite format 3\x00"
# How far into a file detection looks (a first JSON Lines line may be long).
SNIFF_BYTES = 1 << 20


def open_source(
    location: str | Path,
    format: str | None = None,  # noqa: A002 - the CLI's --format
    read_only: bool = True,
    *,
    schema: str | None = None,
    progress: ProgressCallback | None = None,
) -> EventSource:
    """Open `location` (a path or URL) as an EventSource; read-only unless asked otherwise.

    Foreign kinds can only be read: asking for a writable one raises ReadOnlyError; a
    writable open without a kind opens (or creates) a native store. `progress(done,
    total)` is called while a source prepares itself (a JSON Lines file is indexed, in
    seconds for millions of lines, the first time).
    """
    prefixed, text = split_kind(str(location))
    known = kinds.names()
    if format is not None and format not in known:
        raise SourceNotFound(f"{format!r} is not a source format; use one of {', '.join(known)}")
    if format is not None and prefixed is not None and format != prefixed:
        raise SourceNotFound(f"the source says {prefixed!r} but the format asked for is {format!r}")
    where = parse_location(text, schema)
    chosen = format or prefixed
    if chosen is None and not read_only:
        chosen = "native"  # only a native store can be written (or created)
    kind = kinds.kind_named(chosen) if chosen is not None else detect(where)
    if not read_only and not kind.writable:
        raise ReadOnlyError(
            f"a {kind.name} source can only be read; import it into a native store to write"
        )
    return kind.open(where, OpenRequest(read_only=read_only, progress=progress))


def split_kind(text: str) -> tuple[str | None, str]:
    """`jsonl:/a/b` -> ("jsonl", "/a/b"); `eventsourcing:postgresql://...` likewise.
    A plain path or URL (including `postgresql+psycopg://`) has no kind prefix."""
    head, sep, rest = text.partition(":")
    if sep and head in kinds.names() and not rest.startswith("//"):
        return head, rest
    return None, text


def detect(location: Location) -> SourceKind:
    """The kind of history at a location, by content; raises with one sentence."""
    if location.url is not None:
        return _detect_postgres(location)
    assert location.path is not None
    return detect_file(location.path)


def detect_file(path: Path) -> SourceKind:
    """The kind of history in a file, by its first bytes (and a SQLite file's tables)."""
    if not path.exists():
        raise SourceNotFound(f"there is no file at {path}")
    if path.is_dir():
        raise NotAStoreError(f"{path} is a directory, not a history file")
    try:
        # Not open()/close(): closing would drop this process's SQLite locks on the file.
        head = peek(path, SNIFF_BYTES)
    except OSError as exc:
        raise SourceNotFound(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return _detect_sqlite(path)
    for kind in kinds.kinds():
        if kind.in_file is not None and kind.in_file(head, path):
            return kind
    if not head.strip():
        raise NotAStoreError(f"{path} is empty, so there is no history in it")
    nouns = [kind.file_noun for kind in kinds.kinds() if kind.file_noun]
    raise NotAStoreError(f"{path} is not a history eventscope can read (not {_any_of(nouns)})")


def _detect_sqlite(path: Path) -> SourceKind:
    from eventscope.store.sql.tables import sqlite_tables

    with sqlite_tables(path) as tables:
        found = _recognise(tables, "sqlite")
        empty = not found and not tables.names()
    if found is not None:
        return found
    if empty:
        raise NotAStoreError(f"{path} is an empty SQLite database, so there is no history in it")
    raise NotAStoreError(f"{path} is a SQLite database but {_neither('sqlite')}")


def _detect_postgres(location: Location) -> SourceKind:
    from eventscope.store.sql.tables import postgres_tables

    with postgres_tables(location) as tables:
        found = _recognise(tables, "postgresql")
    if found is not None:
        return found
    raise NotAStoreError(
        f"{location.display(with_schema=True)} holds no history eventscope can read"
        f" ({_neither('postgresql')})"
    )


def _recognise(tables: Tables, dialect: str) -> SourceKind | None:
    for kind in kinds.kinds():
        if kind.in_database is not None and dialect in kind.dialects and kind.in_database(tables):
            return kind
    return None


def _neither(dialect: str) -> str:
    """'not an eventscope store, one written by ..., or one written by ...' for the kinds
    of a dialect."""
    nouns = [k.noun for k in kinds.kinds() if k.noun and dialect in k.dialects]
    return f"not {_any_of(nouns)}"


def _any_of(nouns: Sequence[str]) -> str:
    """'A, B, or C' (or 'A or B', or 'A')."""
    if len(nouns) <= 2:
        return " or ".join(nouns)
    return f"{', '.join(nouns[:-1])}, or {nouns[-1]}"
