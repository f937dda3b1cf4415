"""Read-only guarantee (reliability.md test 21), on SQLite and PostgreSQL.

* Every write of the public API on a store opened read-only fails with ReadOnlyError (one
  sentence) and changes nothing; so does asking for a writable foreign source.
* Below the Python guard: a read-only SQLite connection is `mode=ro` + `query_only`, so
  even `PRAGMA query_only = 0` followed by an INSERT fails; a read-only PostgreSQL store's
  transactions report `transaction_read_only = on`.
* PostgreSQL lets a session override its default with `SET TRANSACTION READ WRITE`, so
  the hard guarantee there is a SELECT-only role: with one, the store opens read-only and
  reads, and every write fails even after `SET TRANSACTION READ WRITE`.
* SQL-looking text passed through the public read API cannot switch a session to writing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventscope.store import (
    EventFilter,
    EventStore,
    NewEvent,
    ReadOnlyError,
    StoreError,
    open_source,
)
from reliability_support import figure, pg_engine
from sqlalchemy.pool import NullPool

WRITES = {
    "append": lambda s: s.append("acct-1", [NewEvent("Deposited", {"n": 1})]),
    "append_streams": lambda s: s.append_streams([("acct-2", [NewEvent("Opened", {})])]),
    "save_snapshot": lambda s: s.save_snapshot("acct-1", 1, {"balance": 9}, "acct"),
    "save_checkpoint": lambda s: s.save_checkpoint("proj", 1),
    "put_projection_rows": lambda s: s.put_projection_rows("proj", [("k", {"v": 1}, 1)], 1),
    "clear_projection": lambda s: s.clear_projection("proj"),
}
TRICKS = [
    "x'; SET TRANSACTION READ WRITE; INSERT INTO events DEFAULT VALUES; --",
    "'; COMMIT; BEGIN READ WRITE; DELETE FROM events; --",
    "'; PRAGMA query_only = 0; DELETE FROM events; --",
]


def _state(store: EventStore) -> tuple:
    return (
        store.head_digest(),
        [(s.stream_id, s.version) for s in store.streams()],
        store.snapshots("acct-1"),
        store.checkpoints(),
        store.projection_rows("proj"),
    )


@pytest.fixture
def populated(store_factory):
    writer = store_factory()
    writer.append("acct-1", [NewEvent("Opened", {"balance": 0}, {"actor": "ann"})])
    writer.save_snapshot("acct-1", 1, {"balance": 0}, "acct")
    writer.put_projection_rows("proj", [("acct-1", {"balance": 0}, 1)], 1)
    return store_factory, writer


def test_every_public_write_on_a_read_only_store_fails_clearly(populated) -> None:
    store_factory, writer = populated
    reader = store_factory(read_only=True)
    before = _state(writer)
    for name, write in WRITES.items():
        with pytest.raises(ReadOnlyError) as caught:
            write(reader)
        message = str(caught.value)
        assert "read-only" in message and "\n" not in message, (name, message)
    for trick in TRICKS:  # SQL-looking text through every read filter
        flt = EventFilter(event_types=[trick], stream_id=trick, actor=trick, correlation_id=trick)
        assert list(reader.read_all(filter=flt)) == []
        assert reader.count_events(EventFilter(stream_prefix=trick)) == 0
        assert reader.streams(prefix=trick, after=trick, stream_type=trick) == []
        with pytest.raises(ReadOnlyError):
            reader.append(trick, [NewEvent(trick, {trick: trick})])
    assert reader.verify().ok and reader.describe().read_only
    assert _state(writer) == before
    figure(
        f"read-only/api/{store_factory.backend}",
        f"{len(WRITES)}/{len(WRITES)} public writes refused on a read-only store "
        f"(+{len(TRICKS)} SQL-looking texts through every filter); state unchanged",
    )


def test_foreign_sources_cannot_be_opened_for_writing(tmp_path: Path) -> None:
    jsonl = tmp_path / "h.jsonl"
    jsonl.write_text('{"stream_id": "s-1", "event_type": "E", "data": {}}\n')
    with pytest.raises(ReadOnlyError, match="can only be read"):
        open_source(str(jsonl), format="jsonl", read_only=False)
    source = open_source(str(jsonl))
    try:
        assert source.describe().read_only and not hasattr(source, "append")
    finally:
        source.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_read_only_connections_refuse_writes_below_the_guard(populated) -> None:
    store_factory, writer = populated
    writer.close()
    path = store_factory.path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    reader = store_factory(read_only=True)
    refused = 0
    with reader.connect() as conn:  # the store's own read-only connection
        raw = conn.connection.dbapi_connection
        assert raw.execute("PRAGMA query_only").fetchone() == (1,)
        for statement in (
            "INSERT INTO checkpoints (name, position) VALUES ('x', 1)",
            "PRAGMA query_only = 0",
            "DELETE FROM events",
            "UPDATE events SET data = '{}'",
            "DROP TABLE events",
        ):
            try:
                raw.execute(statement)
            except sqlite3.Error as exc:
                assert "readonly" in str(exc) or "read-only" in str(exc) or "query_only" in str(exc)
                refused += 1
        # query_only can be switched off by a raw connection; mode=ro still refuses.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            raw.execute("DELETE FROM events")
    reader.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert refused >= 4


@pytest.mark.postgres
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_read_only_sessions_and_a_select_only_role(populated, pg_url) -> None:
    store_factory, writer = populated
    schema = store_factory.open_options["schema"]
    reader = store_factory(read_only=True)
    with reader.connect() as conn:  # what every read of the store runs in
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            conn.exec_driver_sql("INSERT INTO checkpoints (name, position) VALUES ('x', 1)")
    before = _state(writer)

    # A session can override its default -- the documented limit -- so the guarantee
    # for reviewers is a SELECT-only role. With one, nothing gets through.
    role = f"rel_reader_{uuid.uuid4().hex[:10]}"
    admin = pg_engine(pg_url, schema)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    url = sa.make_url(pg_url).set(username=role)
    try:
        as_role = EventStore.open(
            url.render_as_string(hide_password=False), read_only=True, schema=schema
        )
        try:
            assert as_role.verify().ok and as_role.head_position() == 1
        finally:
            as_role.close()
        engine = sa.create_engine(
            url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"}
        )
        refused = 0
        for statement in (
            "INSERT INTO checkpoints (name, position) VALUES ('x', 1)",
            "UPDATE events SET data = '{}'",
            "DELETE FROM events",
            "UPDATE chain_head SET position = 0",
            "DROP TABLE events",
        ):
            with engine.connect() as conn:
                conn.exec_driver_sql("SET TRANSACTION READ WRITE")
                with pytest.raises(sa.exc.DBAPIError, match="permission denied|must be owner"):
                    conn.exec_driver_sql(statement)
                refused += 1
        engine.dispose()
        with pytest.raises(StoreError):  # and a writable open as that role cannot write
            EventStore.open(url.render_as_string(hide_password=False), schema=schema).append(
                "acct-9", [NewEvent("Opened", {})]
            )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
    assert _state(writer) == before
    figure(
        "read-only/postgres",
        "read-only store sessions run with transaction_read_only=on; a SELECT-only role "
        f"refused {refused}/{refused} writes even after SET TRANSACTION READ WRITE",
    )
