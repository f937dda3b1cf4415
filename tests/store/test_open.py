"""Opening stores: what is created, what is refused, and that refusing never touches the
target. Messages are one sentence naming the file or server, without passwords."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from eventscope.store import EventStore, NewEvent, NotAStoreError, SourceNotFound
from eventscope.store.native.schema import SCHEMA_VERSION


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_path_is_created_unless_read_only(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with pytest.raises(SourceNotFound, match="there is no file at .*new.db"):
        EventStore.open(path, read_only=True)
    assert not path.exists()
    store = EventStore.open(path)
    assert store.describe().kind == "native-sqlite"
    assert store.describe().location == str(path)
    store.close()
    assert EventStore.open(path, read_only=True).head_position() == 0


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="does not exist"):
        EventStore.open(tmp_path / "no" / "such" / "dir.db")


def test_another_apps_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('ann')")
    conn.close()
    before = digest(path)
    for read_only in (False, True):
        with pytest.raises(NotAStoreError) as caught:
            EventStore.open(path, read_only=read_only)
        message = str(caught.value)
        assert str(path) in message and "not an eventscope store" in message
        assert "\n" not in message
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_text_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("SQLite format 2? no, just notes\n" * 10)
    before = digest(path)
    with pytest.raises(NotAStoreError, match="notes.txt is not an eventscope store"):
        EventStore.open(path)
    assert digest(path) == before


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotAStoreError, match="is a directory"):
        EventStore.open(tmp_path)


def test_empty_database_is_initialised_only_when_writable(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(NotAStoreError, match="empty SQLite database"):
        EventStore.open(path, read_only=True)
    store = EventStore.open(path)
    assert store.append("s-1", [NewEvent("X", {})])[0].position == 1
    store.close()


def test_newer_schema_version_is_refused_with_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    EventStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE store_info SET schema_version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    for read_only in (False, True):
        with pytest.raises(NotAStoreError, match="newer than this eventscope supports"):
            EventStore.open(path, read_only=read_only)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("schema_version", 0, "schema version 0, which no eventscope writes"),
        ("schema_version", -3, "schema version -3, which no eventscope writes"),
        ("hash_algorithm", "md5-chain", "hash rule 'md5-chain'"),
        ("hash_algorithm", "", "hash rule ''"),
    ],
)
def test_a_store_info_no_eventscope_writes_is_refused(
    tmp_path: Path, column: str, value: object, message: str
) -> None:
    """A schema version below 1 or a foreign hash rule is refused, never verified with ours."""
    path = tmp_path / "odd.db"
    EventStore.open(path).append("s-1", [NewEvent("X", {})])
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE store_info SET {column} = ?", (value,))
    conn.close()
    for read_only in (False, True):
        with pytest.raises(NotAStoreError, match=re.escape(message)):
            EventStore.open(path, read_only=read_only)


def test_sqlite_url_opens_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    EventStore.open(path).append("s-1", [NewEvent("X", {})])
    store = EventStore.open(f"sqlite:///{path}", read_only=True)
    assert store.head_position() == 1
    store.close()


def test_unusual_file_names_are_not_mistaken_for_uri_syntax(tmp_path: Path) -> None:
    path = tmp_path / "odd name?mode=memory#x.db"
    EventStore.open(path).append("s-1", [NewEvent("X", {})])
    assert path.exists()
    assert EventStore.open(path, read_only=True).head_position() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "SQLite or PostgreSQL"),
        ("sqlite://", "needs a file path"),
        ("nonsense://", "not a valid database URL|SQLite or PostgreSQL"),
        (
            "postgresql+psycopg://u:hunter2@127.0.0.1:1/db",
            "cannot connect to PostgreSQL at 127.0.0.1:1",
        ),
    ],
)
def test_bad_urls_give_one_sentence_without_the_password(url: str, message: str) -> None:
    with pytest.raises(SourceNotFound, match=message) as caught:
        EventStore.open(url)
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.postgres
def test_postgres_location_hides_the_password(pg_url: str, pg_schema: str) -> None:
    from sqlalchemy import make_url

    with_password = make_url(pg_url).set(password="hunter2")  # trust auth ignores it
    store = EventStore.open(with_password.render_as_string(hide_password=False), schema=pg_schema)
    assert "hunter2" not in store.describe().location
    assert pg_schema in store.describe().location
    assert store.describe().kind == "native-postgresql"
    store.close()


@pytest.mark.postgres
def test_postgres_unknown_database_and_schema_messages(pg_url: str, pg_schema: str) -> None:
    from sqlalchemy import make_url

    missing_db = make_url(pg_url).set(database="eventscope_no_such_db")
    with pytest.raises(SourceNotFound, match="cannot connect to PostgreSQL.*does not exist"):
        EventStore.open(missing_db.render_as_string(hide_password=False))
    with pytest.raises(NotAStoreError, match="holds no eventscope store"):
        EventStore.open(pg_url, read_only=True, schema=pg_schema)
    with pytest.raises(SourceNotFound, match="not a usable PostgreSQL schema name"):
        EventStore.open(pg_url, schema='x"; DROP SCHEMA public; --')


@pytest.mark.postgres
def test_postgres_newer_schema_version_is_refused(pg_url: str, pg_schema: str) -> None:
    store = EventStore.open(pg_url, schema=pg_schema)
    with store.connect() as conn, conn.begin():
        conn.exec_driver_sql("UPDATE store_info SET schema_version = 99")
    store.close()
    with pytest.raises(NotAStoreError, match="version 99, newer"):
        EventStore.open(pg_url, schema=pg_schema, read_only=True)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("schema_version = 0", "schema version 0, which no eventscope writes"),
        ("hash_algorithm = 'sha1'", "hash rule 'sha1'"),
    ],
)
def test_postgres_store_info_no_eventscope_writes_is_refused(
    pg_url: str, pg_schema: str, assignment: str, message: str
) -> None:
    store = EventStore.open(pg_url, schema=pg_schema)
    with store.connect() as conn, conn.begin():
        conn.exec_driver_sql(f"UPDATE store_info SET {assignment}")
    store.close()
    with pytest.raises(NotAStoreError, match=re.escape(message)):
        EventStore.open(pg_url, schema=pg_schema, read_only=True)


@pytest.mark.postgres
def test_postgres_schema_from_the_url(pg_url: str, pg_schema: str) -> None:
    EventStore.open(pg_url, schema=pg_schema).append("s-1", [NewEvent("X", {})])
    sep = "&" if "?" in pg_url else "?"
    store = EventStore.open(f"{pg_url}{sep}schema={pg_schema}", read_only=True)
    assert store.head_position() == 1
    store.close()
