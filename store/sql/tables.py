"""A read-only look at a database's tables, for detecting which software wrote it.

Each source kind (`store.kinds`) decides from table and column names alone whether a
database is one of its own; this module gives it those names for a SQLite file (through
a `mode=ro` connection, so probing never changes a byte) or for one schema of a
PostgreSQL database (a read-only session).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eventscope.store.errors import NotAStoreError, SourceNotFound
from eventscope.store.sql.fragments import quote_identifier
from eventscope.store.sql.sqlite import connect_read_only

if TYPE_CHECKING:
    from eventscope.store.location import Location


class Tables(Protocol):
    """What a detector may ask of a database."""

    dialect: str  # "sqlite" or "postgresql"

    def names(self, schema: str | None = None) -> set[str]:
        """Table names (of the selected schema, or of `schema` on PostgreSQL)."""
        ...

    def columns(self, table: str, schema: str | None = None) -> set[str]:
        """Column names of one table."""
        ...


class SqliteTables:
    """`Tables` of a SQLite file, through a read-only connection."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def names(self, schema: str | None = None) -> set[str]:
        rows = self._connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}

    def columns(self, table: str, schema: str | None = None) -> set[str]:
        rows = self._connection.execute(f"PRAGMA table_info({quote_identifier(table)})")
        return {row[1] for row in rows}


class PostgresTables:
    """`Tables` of a PostgreSQL database, `search_path` set to the selected schema."""

    dialect = "postgresql"

    def __init__(self, inspector: object) -> None:
        self._inspector = inspector

    def names(self, schema: str | None = None) -> set[str]:
        return set(self._inspector.get_table_names(schema=schema))  # type: ignore[attr-defined]

    def columns(self, table: str, schema: str | None = None) -> set[str]:
        found = self._inspector.get_columns(table, schema=schema)  # type: ignore[attr-defined]
        return {column["name"] for column in found}


@contextmanager
def sqlite_tables(path: Path) -> Iterator[SqliteTables]:
    """The tables of a SQLite file; a damaged file is one sentence (`NotAStoreError`)."""
    try:
        connection = connect_read_only(path)
    except sqlite3.Error as exc:
        raise SourceNotFound(f"cannot open {path}: {exc}") from None
    try:
        yield SqliteTables(connection)
    except sqlite3.DatabaseError as exc:
        raise NotAStoreError(f"{path} is a damaged SQLite database ({exc})") from None
    finally:
        connection.close()


@contextmanager
def postgres_tables(location: Location) -> Iterator[PostgresTables]:
    """The tables of the location's schema, in a read-only session; a server that cannot
    be reached is one sentence (`SourceNotFound`)."""
    from eventscope.store.sql import postgres
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    assert location.url is not None and location.schema is not None
    engine = postgres.make_engine(location.url, schema=location.schema, read_only=True)
    try:
        postgres.check_connection(engine, location.url)
        try:
            yield PostgresTables(inspect(engine))
        except (DBAPIError, SQLAlchemyError) as exc:
            raise SourceNotFound(postgres.connection_message(location.url, exc)) from None
    finally:
        engine.dispose()
