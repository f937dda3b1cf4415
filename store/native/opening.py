"""Opening (or creating) a native store at a `Location`: a SQLite file or one schema of a
PostgreSQL database.

Why: opening must never change what it opens by mistake. A SQLite file is probed
read-only first (`sqlite_backend.probe`), so another program's database or a text file
is refused untouched; a read-only open never creates anything; a store written by a
newer eventscope is refused rather than misread.
"""

from __future__ import annotations

from pathlib import Path

from eventscope.store.errors import NotAStoreError, SourceNotFound
from eventscope.store.location import Location
from eventscope.store.native import sqlite_backend
from eventscope.store.native.appending import now_text
from eventscope.store.native.database import DEFAULT_MAX_PAYLOAD, NativeDatabase, lock_key
from eventscope.store.native.schema import (
    HASH_ALGORITHM,
    SCHEMA_VERSION,
    check_store_info,
    metadata,
)
from eventscope.store.sql import postgres
from eventscope.store.sql import sqlite as sqlite_sql
from sqlalchemy.exc import DBAPIError


def open_database(
    location: Location,
    *,
    read_only: bool,
    synchronous: str = "FULL",
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
) -> NativeDatabase:
    """The database of the native store at `location`, created unless `read_only`."""
    if location.url is not None:
        return _open_postgres(location, read_only, max_payload_bytes)
    assert location.path is not None
    return _open_sqlite(location.path, read_only, synchronous, max_payload_bytes)


def _open_sqlite(path: Path, read_only: bool, synchronous: str, max_payload: int) -> NativeDatabase:
    mode = synchronous.upper()
    if mode not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
    if path.exists():
        state = sqlite_backend.probe(path)
        if state == "empty" and read_only:
            raise NotAStoreError(f"{path} is an empty SQLite database, not an eventscope store")
    else:
        if read_only:
            raise SourceNotFound(f"there is no file at {path}")
        if not path.parent.is_dir():
            raise SourceNotFound(
                f"cannot create {path}: the directory {path.parent} does not exist"
            )
        state = "new"
    engine = sqlite_sql.make_engine(path, read_only=read_only, synchronous=mode)
    database = NativeDatabase(
        engine, location=str(path), read_only=read_only, max_payload_bytes=max_payload
    )
    if state != "store":
        try:
            sqlite_backend.enable_wal(engine)
            initialise(database)
        except DBAPIError as exc:
            engine.dispose()
            raise SourceNotFound(f"cannot create a store at {path}: {exc.orig}") from None
    return database


def _open_postgres(location: Location, read_only: bool, max_payload: int) -> NativeDatabase:
    url, schema = location.url, location.schema
    assert url is not None and schema is not None
    engine = postgres.make_engine(url, schema=schema, read_only=read_only)
    postgres.check_connection(engine, url)
    shown = location.display()
    database = NativeDatabase(
        engine,
        location=shown,
        read_only=read_only,
        lock_key=lock_key(schema),
        max_payload_bytes=max_payload,
    )
    with engine.connect() as conn:
        exists = conn.exec_driver_sql("SELECT to_regclass('store_info')").scalar()
        info = None
        if exists:
            info = conn.exec_driver_sql(
                "SELECT schema_version, hash_algorithm FROM store_info"
            ).first()
    if exists:
        check_store_info(info[0] if info else None, info[1] if info else None, shown)
    elif read_only:
        engine.dispose()
        raise NotAStoreError(f"{shown} holds no eventscope store")
    else:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        initialise(database)
    return database


def initialise(database: NativeDatabase) -> None:
    """Create the tables and the two one-row tables, once, under the write lock."""
    with database.writing_sa() as conn:
        metadata.create_all(conn)
        conn.exec_driver_sql(
            database.q(
                "INSERT INTO store_info (id, schema_version, hash_algorithm, created_at) "
                "VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
            ),
            (SCHEMA_VERSION, HASH_ALGORITHM, now_text()),
        )
        conn.exec_driver_sql(
            "INSERT INTO chain_head (id, position, hash, recorded_at) "
            "VALUES (1, 0, NULL, NULL) ON CONFLICT (id) DO NOTHING"
        )
