"""PostgreSQL connections for every source: one schema, read-only sessions, messages.

Why it is done this way:
* the schema is selected with `search_path` in the connection options, so every query
  is the same text on both backends and tests can isolate themselves one schema each;
* read-only sessions set `default_transaction_read_only`, *and* each source refuses
  writes in Python first, because a PostgreSQL user may override the setting;
* connection failures become one sentence naming host and port, never a driver
  traceback, and the password never appears in a message.
"""

from __future__ import annotations

import re

from eventscope.store.errors import SourceNotFound, driver_reason
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_schema(schema: str) -> str:
    """Only plain identifiers: the name is placed in connection options and DDL."""
    if not _IDENTIFIER.match(schema):
        raise SourceNotFound(
            f"{schema!r} is not a usable PostgreSQL schema name (use letters, digits and _)"
        )
    return schema


def safe_location(url: URL) -> str:
    """The URL without its password, for messages and `describe()`."""
    # URL.set() ignores None, so drop the field on the named tuple itself.
    return url._replace(password=None).render_as_string(hide_password=False)


def make_engine(url: URL, *, schema: str, read_only: bool) -> Engine:
    """An engine whose sessions see `schema` first (and only read, when `read_only`)."""
    options = f"-c search_path={schema}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        url,
        connect_args={"options": options, "connect_timeout": 10},
        pool_size=4,
        max_overflow=32,
        pool_timeout=60,
    )


def check_connection(engine: Engine, url: URL) -> None:
    """Connect once now, so a bad URL fails at open time with a clear sentence."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        raise SourceNotFound(connection_message(url, exc)) from None


def connection_message(url: URL, exc: BaseException) -> str:
    """A failure to connect as one sentence naming host and port, without the password."""
    reason = driver_reason(exc)
    if url.password:
        reason = reason.replace(url.password, "***")
    host = url.host or "localhost"
    port = url.port or 5432
    return f"cannot connect to PostgreSQL at {host}:{port}: {reason}"
