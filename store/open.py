"""Open any supported history by path or URL, choosing the right `EventSource`.

A SOURCE is a file path or a SQLAlchemy URL, optionally prefixed with its kind
(`native:`, `jsonl:`, `eventsourcing:`) to skip detection; `format=` (the CLI's
`--format`) does the same. Without either, the kind is detected from the content, never
from the file name alone:
* a SQLite file holding eventscope's `store_info` table -> a native store;
* a SQLite file holding the `eventsourcing` library's tables -> its adapter;
* a PostgreSQL URL: `store_info` in the schema -> native, else the library's tables;
* a text file whose first non-blank line is a JSON object -> JSON Lines.
Anything else -- a missing file, an empty file, another program's database, a binary
file -- gets one clear sentence (`SourceNotFound` / `NotAStoreError`).

A PostgreSQL URL may carry `?schema=NAME` (taken off the URL before connecting) to read
one schema; an eventsourcing URL may end in `#TABLE` to pick one application's events.
Detection only reads: SQLite files are probed through `mode=ro` connections.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store.errors import NotAStoreError, ReadOnlyError, SourceNotFound
from store.source import EventSource

FORMATS = ("native", "jsonl", "eventsourcing")
SQLITE_MAGIC = b"SQLite format 3\x00"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
# How far into a text file detection looks for the first non-blank line.
_SNIFF_BYTES = 1 << 20


def open_native(location: str | Path, read_only: bool = True, **options: Any) -> EventSource:
    """Open a native eventscope store (SQLite path or SQLAlchemy URL).

    Raises NotAStoreError when the target exists but is not a native store, so a caller
    that detects formats can try the next one; `options` go to `EventStore.open`
    (e.g. `schema=` for PostgreSQL).
    """
    from store.eventstore import EventStore

    return EventStore.open(location, read_only=read_only, **options)


def open_source(
    location: str | Path,
    format: str | None = None,  # noqa: A002 - the CLI's --format
    read_only: bool = True,
    *,
    schema: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EventSource:
    """Open `location` (a path or URL) as an EventSource; read-only unless asked otherwise.

    Foreign formats (JSON Lines, eventsourcing) can only be read: asking for a writable
    one raises ReadOnlyError. `progress(bytes_read, total_bytes)` is called while a JSON
    Lines file is being indexed (seconds for millions of lines, the first time).
    """
    text = str(location)
    prefixed, text = split_kind(text)
    if format is not None and format not in FORMATS:
        raise SourceNotFound(f"{format!r} is not a source format; use one of {', '.join(FORMATS)}")
    if format is not None and prefixed is not None and format != prefixed:
        raise SourceNotFound(f"the source says {prefixed!r} but the format asked for is {format!r}")
    text, url_schema = _take_schema(text)
    schema = schema or url_schema
    if format is None and prefixed is None and not read_only:
        kind = "native"  # only a native store can be written (or created)
    else:
        kind = format or prefixed or detect(text, schema=schema)
    if kind == "native":
        options: dict[str, Any] = {"schema": schema} if schema else {}
        return open_native(_strip_fragment(text), read_only=read_only, **options)
    if not read_only:
        raise ReadOnlyError(
            f"a {kind} source can only be read; import it into a native store to write"
        )
    if kind == "jsonl":
        from store.jsonl_source import JsonlSource

        if "://" in text:
            raise SourceNotFound("a JSON Lines source is a file path, not a URL")
        return JsonlSource.open(text, progress)
    from store.eventsourcing_source import EventsourcingSource

    return EventsourcingSource.open(text, schema=schema)


def split_kind(text: str) -> tuple[str | None, str]:
    """`jsonl:/a/b` -> ("jsonl", "/a/b"); `eventsourcing:postgresql://...` likewise.
    A plain path or URL (including `postgresql+psycopg://`) has no kind prefix."""
    head, sep, rest = text.partition(":")
    if sep and head in FORMATS and not rest.startswith("//"):
        return head, rest
    return None, text


def detect(text: str, *, schema: str | None = None) -> str:
    """The kind of history at a path or URL, by content; raises with one sentence."""
    if "://" in text:
        return _detect_url(text, schema)
    return detect_file(Path(text).expanduser())


def detect_file(path: Path) -> str:
    """ "native", "eventsourcing" or "jsonl" for a file, by its first bytes."""
    if not path.exists():
        raise SourceNotFound(f"there is no file at {path}")
    if path.is_dir():
        raise NotAStoreError(f"{path} is a directory, not a history file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SourceNotFound(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return _sqlite_kind(path)
    if not head.strip():
        if not head and path.suffix.lower() in JSONL_SUFFIXES:
            return "jsonl"  # an empty export: an empty history, not an error
        raise NotAStoreError(f"{path} is empty, so there is no history in it")
    if _looks_like_jsonl(head):
        return "jsonl"
    raise NotAStoreError(
        f"{path} is not a history eventscope can read (not an eventscope store, an "
        "eventsourcing SQLite file, or JSON Lines with one event object per line)"
    )


def _looks_like_jsonl(head: bytes) -> bool:
    """The first non-blank line is a JSON object (or starts one, if it is very long)."""
    import orjson

    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    line, newline, _ = text.partition(b"\n")
    line = line.strip()
    if not line.startswith(b"{"):
        return False
    if not newline and len(head) >= _SNIFF_BYTES:
        return True  # a first line longer than the sniff window: trust its opening brace
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _sqlite_kind(path: Path) -> str:
    try:
        connection = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceNotFound(f"cannot open {path}: {exc}") from None
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "store_info" in tables:
            return "native"
        for table in tables:
            columns = {
                row[1] for row in connection.execute(f'PRAGMA table_info("{_ident(table)}")')
            }
            if {"originator_id", "originator_version", "topic", "state"} <= columns:
                return "eventsourcing"
    except sqlite3.DatabaseError as exc:
        raise NotAStoreError(f"{path} is a damaged SQLite database ({exc})") from None
    finally:
        connection.close()
    if not tables:
        raise NotAStoreError(f"{path} is an empty SQLite database, so there is no history in it")
    raise NotAStoreError(
        f"{path} is a SQLite database but neither an eventscope store nor one written by "
        "the eventsourcing library"
    )


def _detect_url(text: str, schema: str | None) -> str:
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

    from store import postgres_backend

    try:
        url = make_url(_strip_fragment(text))
    except ArgumentError:
        raise SourceNotFound(f"{text!r} is not a valid database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise SourceNotFound("a SQLite source needs a file path")
        return detect_file(Path(url.database))
    if backend != "postgresql":
        raise SourceNotFound(
            f"eventscope reads SQLite and PostgreSQL databases, not {backend!r} databases"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = postgres_backend.validate_schema(schema or "public")
    engine = postgres_backend.make_engine(url, schema=name, read_only=True)
    try:
        postgres_backend.check_connection(engine, url)
        try:
            tables = set(inspect(engine).get_table_names())
            if "store_info" in tables:
                return "native"
            inspector = inspect(engine)
            for table in tables:
                columns = {column["name"] for column in inspector.get_columns(table)}
                if {"originator_id", "originator_version", "topic", "state"} <= columns:
                    return "eventsourcing"
        except (DBAPIError, SQLAlchemyError) as exc:
            raise SourceNotFound(postgres_backend.connection_message(url, exc)) from None
    finally:
        engine.dispose()
    where = postgres_backend.safe_location(url)
    raise NotAStoreError(
        f"{where} (schema {name}) holds neither an eventscope store nor the eventsourcing "
        "library's tables"
    )


def _take_schema(text: str) -> tuple[str, str | None]:
    """Remove a `schema=` query parameter from a PostgreSQL URL; return it separately."""
    if "://" not in text or "schema=" not in text:
        return text, None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    body, hash_mark, fragment = text.partition("#")
    try:
        url = make_url(body)
    except ArgumentError:
        return text, None
    schema = url.query.get("schema")
    if schema is None:
        return text, None
    if isinstance(schema, tuple):
        schema = schema[-1]
    url = url.difference_update_query(["schema"])
    return url.render_as_string(hide_password=False) + hash_mark + fragment, schema


def _strip_fragment(text: str) -> str:
    return text.partition("#")[0] if "://" in text else text


def _ident(name: str) -> str:
    return name.replace('"', '""')
