"""Shared fixtures: real stores on SQLite files and on the real PostgreSQL server.

* `pg_url` -- the server URL from EVENTSCOPE_TEST_PG_URL; skips with the reason
  "EVENTSCOPE_TEST_PG_URL is not set", but *fails* when EVENTSCOPE_REQUIRE_PG=1 (CI), so
  PostgreSQL tests can never be skipped silently there.
* `pg_schema` -- a fresh PostgreSQL schema for one test, dropped afterwards, so tests
  never see each other's data.
* `backend` -- "sqlite" or "postgres" (the postgres param carries `pytest.mark.postgres`).
* `store_factory` -- a `StoreFactory` for the current `backend`: call it to open (again)
  the same store, e.g. `store_factory(read_only=True)`; `.location`, `.open_options`
  and `.raw_execute(sql, params)` (raw SQL that bypasses the store, for tamper tests).
* `store` -- a writable EventStore from `store_factory`.
* `sqlite_store` -- a writable EventStore on a SQLite file, for tests that need no PG.

The Marten, Eventuous and Axon fixtures (`marten_url`, `eventuous_url`, `axon_url`, ...)
come from the plugin tests/fixtures/foreign/pytest_fixtures_jvm_dotnet.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eventscope.store import EventStore
from sqlalchemy.pool import NullPool

pytest_plugins = ["tests.fixtures.foreign.pytest_fixtures_jvm_dotnet"]

PG_ENV = "EVENTSCOPE_TEST_PG_URL"
REQUIRE_PG_ENV = "EVENTSCOPE_REQUIRE_PG"
PG_SKIP_REASON = f"{PG_ENV} is not set"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL for tests; skip (or fail under EVENTSCOPE_REQUIRE_PG=1)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{REQUIRE_PG_ENV}=1 but {PG_SKIP_REASON}", pytrace=False)
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A schema of its own for one test; dropped (with everything in it) afterwards."""
    name = f"t_{uuid.uuid4().hex[:20]}"
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        engine.dispose()


class StoreFactory:
    """Opens EventStores on one location (a SQLite file or a PG schema) and closes them
    all at teardown, so a test can reopen, open read-only, or race several instances."""

    def __init__(self, backend: str, location: str, options: dict[str, Any]) -> None:
        self.backend = backend
        self.location = location
        self.open_options = options
        self._opened: list[EventStore] = []

    def __call__(self, read_only: bool = False, **options: Any) -> EventStore:
        store = EventStore.open(
            self.location, read_only=read_only, **{**self.open_options, **options}
        )
        self._opened.append(store)
        return store

    @property
    def path(self) -> Path:
        """The SQLite file (only for the sqlite backend)."""
        assert self.backend == "sqlite"
        return Path(self.location)

    def raw_execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """Run SQL outside the store (tampering, inspection); `:name` style parameters."""
        if self.backend == "sqlite":
            engine = sa.create_engine(f"sqlite:///{self.location}", poolclass=NullPool)
        else:
            schema = self.open_options["schema"]
            engine = sa.create_engine(
                self.location,
                poolclass=NullPool,
                connect_args={"options": f"-c search_path={schema}"},
            )
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(sql), params or {})
                return list(result.fetchall()) if result.returns_rows else []
        finally:
            engine.dispose()

    def close_all(self) -> None:
        for store in self._opened:
            store.close()
        self._opened.clear()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over SQLite and PostgreSQL."""
    return request.param


@pytest.fixture
def store_factory(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreFactory]:
    if backend == "sqlite":
        factory = StoreFactory("sqlite", str(tmp_path / "store.db"), {})
    else:
        url = request.getfixturevalue("pg_url")
        schema = request.getfixturevalue("pg_schema")
        factory = StoreFactory("postgres", url, {"schema": schema})
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture
def store(store_factory: StoreFactory) -> EventStore:
    return store_factory()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = EventStore.open(tmp_path / "store.db")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def make_events() -> Callable[..., list[Any]]:
    """`make_events(n, event_type="Noted", **data)` -> n NewEvents with an index field."""
    from eventscope.store import NewEvent

    def make(n: int, event_type: str = "Noted", **data: Any) -> list[NewEvent]:
        return [NewEvent(event_type=event_type, data={"i": i, **data}) for i in range(n)]

    return make
