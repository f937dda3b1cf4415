"""`open_source` picks the format from the content (or a `kind:` prefix / `--format`),
and everything it cannot open gets one clear sentence -- through the CLI too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NotAStoreError, ReadOnlyError, SourceNotFound, open_source
from eventscope.store.open import split_kind
from sources_helpers import (
    build_native,
    es_postgres_env,
    es_sqlite_env,
    reference_history,
    require_es_postgres,
    sha256_of,
    write_dogs,
)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    native = build_native(tmp_path / "native.db", reference_history(10))
    native.close()
    es = tmp_path / "app.sqlite"
    write_dogs(es_sqlite_env(es), 3)
    jsonl = tmp_path / "history.log"  # detected by content, whatever the name
    jsonl.write_bytes(orjson.dumps({"stream_id": "s-1", "event_type": "A", "data": {}}) + b"\n")
    return {"native": tmp_path / "native.db", "eventsourcing": es, "jsonl": jsonl}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("native", "native-sqlite"), ("eventsourcing", "eventsourcing-sqlite"), ("jsonl", "jsonl")],
)
def test_the_format_is_detected_from_the_content(
    files: dict[str, Path], name: str, kind: str
) -> None:
    before = sha256_of(files[name])
    with open_source(str(files[name])) as source:
        assert source.describe().kind == kind
        assert source.describe().read_only
        assert source.event_count() > 0
    with open_source(f"sqlite:///{files[name]}" if name != "jsonl" else str(files[name])) as s:
        assert s.describe().kind == kind
    assert sha256_of(files[name]) == before


def test_a_kind_prefix_or_format_forces_the_reader(files: dict[str, Path]) -> None:
    with open_source(f"jsonl:{files['jsonl']}") as source:
        assert source.describe().kind == "jsonl"
    with open_source(str(files["eventsourcing"]), format="eventsourcing") as source:
        assert source.describe().kind == "eventsourcing-sqlite"
    with pytest.raises(SourceNotFound, match="the source says 'jsonl' but the format asked"):
        open_source(f"jsonl:{files['jsonl']}", format="native")
    # Forcing the wrong reader is refused in one sentence, not misread.
    with pytest.raises(NotAStoreError, match="holds no event eventscope can read as JSON"):
        open_source(str(files["native"]), format="jsonl")
    with pytest.raises(NotAStoreError, match="no tables written by the eventsourcing library"):
        open_source(str(files["native"]), format="eventsourcing")


def test_kind_prefixes_do_not_swallow_urls() -> None:
    assert split_kind("postgresql+psycopg://u@h/db") == (None, "postgresql+psycopg://u@h/db")
    assert split_kind("eventsourcing:postgresql://u@h/db") == (
        "eventsourcing",
        "postgresql://u@h/db",
    )
    assert split_kind("jsonl:/tmp/a.jsonl") == ("jsonl", "/tmp/a.jsonl")
    assert split_kind("C:/data/a.jsonl") == (None, "C:/data/a.jsonl")


def test_foreign_sources_can_only_be_read(files: dict[str, Path]) -> None:
    with pytest.raises(ReadOnlyError, match="a jsonl source can only be read"):
        open_source(f"jsonl:{files['jsonl']}", read_only=False)


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _sqlite(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path


CASES = {
    "missing": (lambda d: d / "nope.db", SourceNotFound, "there is no file at {path}"),
    "directory": (lambda d: d, NotAStoreError, "{path} is a directory, not a history file"),
    "empty": (
        lambda d: _write(d / "empty.db", b""),
        NotAStoreError,
        "{path} is empty, so there is no history in it",
    ),
    "text": (
        lambda d: _write(d / "notes.txt", b"hello\nworld\n"),
        NotAStoreError,
        "{path} is not a history eventscope can read (not an eventscope store, an Emmett "
        "SQLite file, an eventsourcing SQLite file, or JSON Lines with one event object per "
        "line)",
    ),
    "binary": (
        lambda d: _write(d / "blob.bin", bytes(range(256))),
        NotAStoreError,
        "{path} is not a history eventscope can read",
    ),
    "other sqlite": (
        lambda d: _sqlite(d / "other.db", "CREATE TABLE people (name TEXT)"),
        NotAStoreError,
        "{path} is a SQLite database but not an eventscope store, one written by Emmett, or "
        "one written by the eventsourcing library",
    ),
    "empty sqlite": (
        lambda d: _sqlite(d / "blank.db", "CREATE TABLE t (x)", "DROP TABLE t"),
        NotAStoreError,
        "{path} is an empty SQLite database, so there is no history in it",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_what_cannot_be_opened_gets_one_sentence(tmp_path: Path, case: str) -> None:
    make, error, message = CASES[case]
    path = make(tmp_path)
    before = sha256_of(path) if path.is_file() else None
    with pytest.raises(error) as caught:
        open_source(str(path))
    assert str(caught.value).startswith(message.format(path=path))
    if before is not None:
        assert sha256_of(path) == before
    result = CliRunner().invoke(main, ["streams", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("eventscope: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_empty_jsonl_file_is_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "nothing.jsonl"
    path.write_bytes(b"")
    with open_source(str(path)) as source:
        assert source.describe().kind == "jsonl"
        assert source.event_count() == 0 and source.streams() == []


@pytest.mark.postgres
def test_postgres_urls_are_detected_by_their_tables(
    tmp_path: Path, pg_url: str, pg_schema: str
) -> None:
    location = f"{pg_url}?schema={pg_schema}"
    with pytest.raises(
        NotAStoreError,
        match=f"schema {pg_schema}.* holds no history eventscope can read \\(not an eventscope store",
    ):
        open_source(location)
    require_es_postgres()
    write_dogs(es_postgres_env(pg_url, pg_schema), 2)
    with open_source(location) as source:
        assert source.describe().kind == "eventsourcing-postgresql"
        assert "@" in source.describe().location and pg_schema in source.describe().location


@pytest.mark.postgres
def test_postgres_native_store_is_detected(pg_url: str, pg_schema: str) -> None:
    from eventscope.store import EventStore, NewEvent

    store = EventStore.open(pg_url, schema=pg_schema)
    store.append("s-1", [NewEvent("A", {"x": 1})])
    store.close()
    with open_source(f"{pg_url}?schema={pg_schema}") as source:
        assert source.describe().kind == "native-postgresql"
        assert [e.data for e in source.read_all()] == [{"x": 1}]


@pytest.mark.postgres
def test_every_kind_prefix_is_accepted_on_the_command_line(eventuous_url: str) -> None:
    """`KIND:URL` skips detection for every registered kind, not only the first three:
    the CLI's URL check once knew only `native:`, `jsonl:` and `eventsourcing:` and
    refused `eventuous:postgresql://...` as an unreadable URL."""
    result = CliRunner().invoke(main, ["streams", f"eventuous:{eventuous_url}", "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)
