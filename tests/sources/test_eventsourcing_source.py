"""Stores written by the real `eventsourcing` library (its own aggregates, snapshots,
compression and encryption), opened by eventscope on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NotAStoreError, StoreError, open_source
from eventscope.store.sources.eventsourcing.source import EventsourcingSource
from eventscope.store.sources.eventsourcing.state import UNREADABLE
from sources_helpers import (
    DogSchool,
    es_postgres_env,
    es_sqlite_env,
    require_es_postgres,
    sha256_of,
    write_dogs,
)


@dataclass
class EsTarget:
    """Where a test's eventsourcing application writes, and how eventscope opens it."""

    backend: str
    env: dict[str, str]
    location: str
    sqlite_path: Path | None = None

    def open(self) -> EventsourcingSource:
        source = open_source(self.location)
        assert isinstance(source, EventsourcingSource)
        return source


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def es_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EsTarget]:
    if request.param == "sqlite":
        path = tmp_path / "app.sqlite"
        yield EsTarget("sqlite", es_sqlite_env(path), str(path), path)
        return
    require_es_postgres()
    pg_url = request.getfixturevalue("pg_url")
    schema = request.getfixturevalue("pg_schema")
    yield EsTarget("postgres", es_postgres_env(pg_url, schema), f"{pg_url}?schema={schema}")


def library_notifications(env: dict[str, str]) -> list:
    """What the library itself says its application log holds."""
    app = DogSchool(env=env)
    try:
        return list(app.recorder.select_notifications(start=1, limit=100_000))
    finally:
        app.close()


def test_a_thousand_aggregates_open_with_their_versions_and_values(es_target: EsTarget) -> None:
    started = datetime.now(UTC)
    dogs = write_dogs(es_target.env, 1000)
    finished = datetime.now(UTC)
    before = sha256_of(es_target.sqlite_path) if es_target.sqlite_path else None
    with es_target.open() as source:
        assert (
            source.describe().kind
            == f"eventsourcing-{es_target.backend.replace('postgres', 'postgresql')}"
        )
        assert not source.describe().has_hash_chain and source.describe().read_only
        assert source.count_streams() == 1000 and source.stream_types() == [("Dog", 1000)]
        listed = []
        after = None
        while page := source.streams(limit=250, after=after):
            listed.extend(page)
            after = page[-1].stream_id
        assert [i.stream_id for i in listed] == sorted(str(d.id) for d in dogs)
        versions = {i.stream_id: i.version for i in listed}
        assert versions == {str(d.id): d.version for d in dogs}

        for i, dog in enumerate(dogs):
            events = list(source.read_stream(str(dog.id)))
            expected = [
                ("Registered", {"name": f"dog {i}", "weight": f"{i}.25", "owner": str(dog.owner)})
            ]
            expected += [("TrickAdded", {"trick": f"trick {k}"}) for k in range(i % 4)]
            if i % 5 == 0:
                on = dog.weighed_on.isoformat()
                expected.append(("Weighed", {"weight": "9.75", "on": on}))
            assert [(e.event_type, e.data) for e in events] == expected
            assert [e.version for e in events] == list(range(1, dog.version + 1))
            assert all(e.decode_error is None and e.stream_type == "Dog" for e in events)
            assert events[0].metadata["originator_topic"] == "sources_helpers:Dog"
            assert all(started <= e.recorded_at == e.occurred_at <= finished for e in events)

        # Positions are the library's notification ids, in its order.
        notifications = library_notifications(es_target.env)
        everything = list(source.read_all())
        assert [(e.position, e.stream_id, e.version, e.metadata["topic"]) for e in everything] == [
            (n.id, str(n.originator_id), n.originator_version, n.topic) for n in notifications
        ]
        assert source.head_position() == notifications[-1].id
        report = source.verify()
        assert report.ok and report.checked == len(notifications) and report.malformed == 0
    if before is not None:
        assert sha256_of(es_target.sqlite_path) == before


def test_library_snapshots_are_the_streams_snapshots(es_target: EsTarget) -> None:
    dogs = write_dogs(es_target.env, 12, snapshot_every=4)
    with es_target.open() as source:
        for i, dog in enumerate(dogs):
            snapshots = source.snapshots(str(dog.id))
            if i % 4:
                assert snapshots == []
                continue
            [snapshot] = snapshots
            assert snapshot.version == dog.version and snapshot.aggregate_type == "Dog"
            state = dict(snapshot.state)
            assert state.pop("_created_on") <= state.pop("_modified_on")
            assert state.pop("_id", None) in (None, str(dog.id))
            state.pop("_version", None)
            expected = {
                "name": f"dog {i}",
                "weight": f"{i}.25" if i % 5 else "9.75",
                "owner": str(dog.owner),
                "tricks": [f"trick {k}" for k in range(i % 4)],
            }
            if i % 5 == 0:
                expected["weighed_on"] = dog.weighed_on.isoformat()
            assert state == expected
            assert source.snapshot_at(str(dog.id), dog.version) == snapshot
            assert source.snapshot_at(str(dog.id), dog.version - 1) is None


def test_zlib_compressed_states_are_decoded(es_target: EsTarget, tmp_path: Path) -> None:
    env = {**es_target.env, "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
    dogs = write_dogs(env, 20, snapshot_every=5)
    with es_target.open() as source:
        events = list(source.read_all())
        assert len(events) == sum(d.version for d in dogs)
        assert all(e.decode_error is None for e in events)
        assert events[0].data == {"name": "dog 0", "weight": "0.25", "owner": str(dogs[0].owner)}
        assert source.snapshots(str(dogs[5].id))[0].state["name"] == "dog 5"


def test_encrypted_states_are_listed_with_the_reason_never_an_error(es_target: EsTarget) -> None:
    env = {
        **es_target.env,
        "CIPHER_TOPIC": "sources_helpers:KeyedXorCipher",
        "CIPHER_KEY": "not-known-to-eventscope",
    }
    dogs = write_dogs(env, 10, snapshot_every=3)
    with es_target.open() as source:
        # The catalog comes from the table itself, so streams and versions are right...
        assert {i.stream_id: i.version for i in source.streams()} == {
            str(d.id): d.version for d in dogs
        }
        events = list(source.read_all())
        assert len(events) == sum(d.version for d in dogs)
        # ...while every payload is shown as unreadable, with the reason.
        for event in events:
            assert event.decode_error == UNREADABLE and event.data == {}
            assert event.stream_type == "Dog" and event.event_type in (
                "Registered",
                "TrickAdded",
                "Weighed",
            )
        assert source.snapshots(str(dogs[0].id)) == []  # an unreadable claim proves nothing
        report = source.verify()
        assert not report.ok and report.malformed == len(events)
        assert report.first_bad_position == events[0].position
        assert "cannot be shown without the application's key" in report.reason

    result = CliRunner().invoke(main, ["events", es_target.location, str(dogs[1].id), "--json"])
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)
    assert [e["event_type"] for e in shown] == ["Registered", "TrickAdded"]


def test_sqlite_store_is_opened_read_only_and_stays_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    write_dogs(es_sqlite_env(path), 30, snapshot_every=10)
    before = sha256_of(path)
    with EventsourcingSource.open(path) as source:
        list(source.read_all())
        for info in source.streams():
            list(source.read_stream(info.stream_id, backwards=True))
            source.snapshots(info.stream_id)
        source.verify()
        source.event_histogram(7)
        with source.connect() as conn, pytest.raises(sa.exc.OperationalError):
            conn.exec_driver_sql("DELETE FROM stored_events")
    assert sha256_of(path) == before


@pytest.mark.postgres
def test_postgres_sessions_are_read_only(pg_url: str, pg_schema: str) -> None:
    require_es_postgres()
    env = es_postgres_env(pg_url, pg_schema)
    write_dogs(env, 5)
    with open_source(f"eventsourcing:{pg_url}?schema={pg_schema}") as source:
        with source.connect() as conn:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                conn.exec_driver_sql("DELETE FROM dogschool_events")
        assert source.event_count() == len(library_notifications(env))


@pytest.mark.postgres
def test_several_applications_in_one_schema_must_be_named(pg_url: str, pg_schema: str) -> None:
    require_es_postgres()
    write_dogs(es_postgres_env(pg_url, pg_schema), 3)

    class Kennel(DogSchool):
        name = "Kennel"

    app = Kennel(env=es_postgres_env(pg_url, pg_schema))
    app.close()
    location = f"{pg_url}?schema={pg_schema}"
    with pytest.raises(NotAStoreError) as caught:
        open_source(f"eventsourcing:{location}")
    assert "several eventsourcing applications (dogschool_events, kennel_events)" in str(
        caught.value
    )
    with open_source(f"eventsourcing:{location}#dogschool_events") as source:
        assert source.count_streams() == 3
        assert source.describe().location.endswith("#dogschool_events")
    with open_source(f"eventsourcing:{location}#kennel_events") as source:
        assert source.count_streams() == 0


def test_states_the_library_may_write_are_each_shown_sensibly(tmp_path: Path) -> None:
    """Hand-made rows in the library's SQLite layout, one per awkward case."""
    path = tmp_path / "odd.sqlite"
    ts = {"_type_": "datetime_iso", "_data_": "2026-02-03T04:05:06.000007+00:00"}
    rows = [
        (
            "a" * 32,
            1,
            "shop.events:Registered",
            orjson.dumps({"timestamp": ts, "originator_topic": "shop.domain:Cat", "n": 1}),
        ),
        (
            "a" * 32,
            2,
            "shop.events:Renamed",
            b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-02-03T04:05:07+00:00"},'
            b'"x":NaN,"class_version":2}',
        ),
        (
            "a" * 32,
            3,
            "shop.events:Tagged",
            orjson.dumps({"timestamp": ts, "tag": {"_type_": "frozenset", "_data_": [1]}}),
        ),
        ("text-id", 1, "shop.domain:Box.Made", zlib.compress(orjson.dumps({"timestamp": ts}))),
        ("text-id", 2, "shop.domain:Box.Broken", b"[1, 2]"),
        ("text-id", 3, "shop.domain:Box.Lost", None),
    ]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows)
    conn.close()
    with open_source(str(path)) as source:
        cat = list(source.read_stream("aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"))
        assert source.stream_info(cat[0].stream_id).stream_type == "Cat"  # from originator_topic
        assert [e.event_type for e in cat] == ["Registered", "Renamed", "Tagged"]
        assert cat[0].occurred_at == datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
        assert cat[1].data == {"x": "NaN"} and cat[1].schema_version == 2
        assert cat[2].data == {"tag": {"_type_": "frozenset", "_data_": [1]}}  # kept as written
        box = list(source.read_stream("text-id"))
        assert source.stream_info("text-id").stream_type == "Box"
        assert box[0].decode_error is None and box[0].data == {}
        assert box[1].decode_error == "the stored state is JSON but not an object (a list)"
        assert box[2].decode_error == "the stored state is empty"
        assert box[2].recorded_at == datetime(1970, 1, 1, tzinfo=UTC)  # time unknown
        with pytest.raises(StoreError, match="no hash chain"):
            source.head_digest()
