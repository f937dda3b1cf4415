"""The native store's connection to its database: reads (`store.sql.reader`) plus the
write transaction every write of the store runs in.

Why the write path looks like this:
* one SQL text for both backends, written with ``?`` placeholders and translated for
  psycopg; all user text travels as bound parameters, never in SQL text;
* every write holds the store's write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
  ``pg_advisory_xact_lock`` keyed on the schema): the head row gives the next position
  and the previous hash, so positions are contiguous and commit order equals position
  order, and writers to other schemas of one database do not wait for each other;
* the hot write path uses the driver cursor directly (SQLAlchemy's execution layer is
  about a third of a single-event append); SQLAlchemy still pools the connections and
  runs the DDL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventscope.store.errors import ReadOnlyError, StoreError, driver_reason
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.sqlite import WRITE_OPTION
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

DEFAULT_MAX_PAYLOAD = 1_048_576


def lock_key(schema: str) -> int:
    """A stable signed 64-bit advisory-lock key per PostgreSQL schema."""
    digest = hashlib.sha256(f"eventscope:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Writer:
    """A driver cursor inside the store's write transaction, with ``?`` placeholders
    translated for the backend."""

    __slots__ = ("_cursor", "_postgres", "_q")

    def __init__(
        self, cursor: Any, translate: Callable[[str], str], *, postgres: bool = False
    ) -> None:
        self._cursor = cursor
        self._q = translate
        self._postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cursor.execute(self._q(sql), params)
        return self._cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(self._q(sql), rows)

    def insert_rows(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows. PostgreSQL gets one `COPY ... FROM STDIN`: a round trip per
        row (even pipelined) was most of a bulk import's time there, and COPY checks
        the same constraints (a duplicate event id still raises the integrity error the
        append turns into an idempotent retry or a clear sentence)."""
        if self._postgres and len(rows) > 1:
            with self._cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns.split(",")))
        self._cursor.executemany(self._q(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), rows)  # noqa: S608


class NativeDatabase(SqlReader):
    """One native store's engine: reads, the write lock, and what the store was opened as."""

    def __init__(
        self,
        engine: Engine,
        *,
        location: str,
        read_only: bool,
        lock_key: int = 0,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        super().__init__(engine, location)
        self.read_only = read_only
        self.lock_key = lock_key
        self.max_payload = max_payload_bytes
        driver = engine.dialect.loaded_dbapi
        # Raw driver errors (the hot paths use driver cursors) and SQLAlchemy's wrappers.
        self.integrity_errors: tuple[type[BaseException], ...] = (
            IntegrityError,
            driver.IntegrityError,
        )
        self._write_errors: tuple[type[BaseException], ...] = (DBAPIError, driver.Error)

    def require_writable(self, action: str) -> None:
        """Refuse a write on a store opened read-only, before any SQL runs."""
        if self.read_only:
            raise ReadOnlyError(f"this store was opened read-only, so it cannot {action}")

    @contextmanager
    def writing(self) -> Iterator[Writer]:
        """A write transaction holding the store's write lock, on the driver connection.

        An integrity error is re-raised as-is (the append decides between an idempotent
        retry and a clear error); any other driver error becomes one sentence."""
        with self.engine.connect() as conn:
            dbapi = conn.connection
            cursor = dbapi.cursor()
            try:
                if self.postgres:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                else:
                    cursor.execute("BEGIN IMMEDIATE")
                yield Writer(cursor, self.q, postgres=self.postgres)
                dbapi.commit()
            except BaseException as exc:
                dbapi.rollback()
                if isinstance(exc, self.integrity_errors):
                    raise
                if isinstance(exc, self._write_errors):
                    raise StoreError(
                        f"the database refused the write: {driver_reason(exc)}"
                    ) from None
                raise
            finally:
                cursor.close()

    @contextmanager
    def writing_sa(self) -> Iterator[Connection]:
        """A write transaction through SQLAlchemy (for DDL), under the same lock."""
        with self.engine.connect() as conn:
            if self.postgres:
                with conn.begin():
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
                    yield conn
            else:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
