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

    __slots__ = ("_cursor", "_q")

    def __init__(self, cursor: Any, translate: Callable[[str], str]) -> None:
        self._cursor = cursor
        self._q = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cursor.execute(self._q(sql), params)
        return self._cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(self._q(sql), rows)


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
                yield Writer(cursor, self.q)
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
