"""Reading a SQL source through the driver, with one rule for placeholders and errors.

Why through the driver's cursor: plain tuples, no result-object layer (a quarter of the
native `read_stream`'s time otherwise). Why one statement per checkout: it is its own
read transaction, the pool rolls the connection back on return, and an abandoned
iterator never pins a connection. Queries are written with ``?`` placeholders and
translated once for psycopg, so a source writes one SQL text for both backends.

A driver error while reading (a damaged file, a lost server) becomes one sentence:
evidence that cannot be read is reported, never shown as a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from eventscope.store.errors import StoreError, driver_reason
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError


class SqlReader:
    """Read-only queries on one engine, for the source at `location` (for messages)."""

    def __init__(self, engine: Engine, location: str) -> None:
        self.engine = engine
        self.location = location
        self.postgres = engine.dialect.name == "postgresql"
        self._translated: dict[str, str] = {}
        self._driver_error: type[BaseException] = engine.dialect.loaded_dbapi.Error

    def q(self, sql: str) -> str:
        """Translate ``?`` placeholders for psycopg (cached; SQLite takes them as-is)."""
        if not self.postgres:
            return sql
        translated = self._translated.get(sql)
        if translated is None:
            translated = self._translated[sql] = sql.replace("?", "%s")
        return translated

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one SELECT (``?`` placeholders) and return its rows as driver tuples."""
        try:
            with self.engine.connect() as conn:
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(self.q(sql), tuple(params))
                    return cast(list[Any], cursor.fetchall())
                finally:
                    cursor.close()
        except (DBAPIError, self._driver_error) as exc:
            raise self.read_error(exc) from None

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of `fetchall`, or None."""
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def read_error(self, exc: BaseException) -> StoreError:
        """A driver error while reading, as one sentence naming the source."""
        return StoreError(f"cannot read {self.location}: {driver_reason(exc)}")

    def connect(self) -> Connection:
        """A connection from the pool every read uses (read-only for a read-only source):
        for inspection, and for tests that prove writes are refused below eventscope's
        own guard."""
        return self.engine.connect()

    def close(self) -> None:
        """Release every pooled connection (and, for SQLite, the file)."""
        self.engine.dispose()
