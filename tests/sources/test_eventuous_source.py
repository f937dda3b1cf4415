"""The Eventuous source on the committed fixture (tables from Eventuous's published DDL,
NOT written by Eventuous, which is .NET and cannot run here; see
tests/fixtures/foreign/eventuous/README.md): every trap the fixture plants, detection
from a plain URL, the CLI, and the store unchanged afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, timedelta

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from contract_sources import schema_fingerprint
from eventscope.explorer.cli import main
from eventscope.store import EventFilter, NotAStoreError, StoreError, open_source
from eventscope.store.errors import ReadOnlyError
from eventscope.store.records import replay_row
from eventscope.store.sources.eventuous.rows import EventuousStreamInfo
from eventscope.store.sources.eventuous.source import EventuousSource

from tests.fixtures.foreign.eventuous import facts
from tests.fixtures.foreign.pg import query
from tests.fixtures.foreign.pytest_fixtures_jvm_dotnet import ForeignStore
from tests.fixtures.foreign.synthetic import BIG_INT

pytestmark = pytest.mark.postgres


@pytest.fixture
def source(eventuous_database: str) -> Iterator[EventuousSource]:
    """The default store, opened as a user types it: the plain database URL."""
    opened = open_source(eventuous_database)
    assert isinstance(opened, EventuousSource)
    try:
        yield opened
    finally:
        opened.close()


def sql(url: str, text: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return query(url, text, params)


# --- detection --------------------------------------------------------------------------
def test_every_variant_is_detected_from_the_url_a_user_types(eventuous_store: ForeignStore) -> None:
    with open_source(eventuous_store.url) as opened:
        info = opened.describe()
        assert info.kind == "eventuous-postgresql" and info.read_only
        assert not info.has_hash_chain
        assert f"(schema {eventuous_store.schema})" in info.location
        (count,) = sql(
            eventuous_store.database_url, f"SELECT count(*) FROM {eventuous_store.schema}.messages"
        )[0]
        assert opened.event_count() == count


def test_prefix_and_format_skip_detection(eventuous_database: str) -> None:
    with open_source(f"eventuous:{eventuous_database}") as opened:
        assert opened.describe().kind == "eventuous-postgresql"
    with open_source(eventuous_database, format="eventuous") as opened:
        assert opened.event_count() > 300
    with pytest.raises(ReadOnlyError, match="a eventuous source can only be read"):
        open_source(f"eventuous:{eventuous_database}", read_only=False)


def test_a_schema_without_eventuous_tables_is_one_sentence(pg_url: str, pg_schema: str) -> None:
    with pytest.raises(NotAStoreError, match="holds no Eventuous tables"):
        open_source(f"eventuous:{pg_url}?schema={pg_schema}")


# --- the traps ----------------------------------------------------------------------------
def test_an_empty_stream_is_listed_with_no_events(source: EventuousSource) -> None:
    info = source.stream_info(facts.EMPTY_STREAM)
    assert isinstance(info, EventuousStreamInfo)
    assert (info.version, info.event_count, info.first_position) == (0, 0, None)
    assert info.first_recorded_at is None and info.history_note is None
    assert list(source.read_stream(facts.EMPTY_STREAM)) == []
    listed = source.streams(prefix="Booking-a", limit=10)
    assert [i.stream_id for i in listed] == [facts.EMPTY_STREAM]
    assert source.count_streams() == 631  # every row of `streams`, the empty one included


def test_a_truncated_stream_says_where_its_history_starts(
    source: EventuousSource, eventuous_database: str
) -> None:
    info = source.stream_info(facts.TRUNCATED_STREAM)
    assert isinstance(info, EventuousStreamInfo)
    assert info.truncated_before == facts.TRUNCATED_BEFORE
    assert f"history before position {facts.TRUNCATED_BEFORE} was truncated" in (
        info.history_note or ""
    )
    events = list(source.read_stream(facts.TRUNCATED_STREAM))
    ((last,),) = sql(
        eventuous_database,
        f"SELECT version FROM {facts.MAIN_SCHEMA}.streams WHERE stream_name = %s",
        (facts.TRUNCATED_STREAM,),
    )
    # versions count the messages still there; each keeps its stored 0-based position
    assert (
        [e.version for e in events]
        == list(range(1, len(events) + 1))
        == [*range(1, info.version + 1)]
    )
    assert [e.metadata["stream_position"] for e in events] == list(
        range(facts.TRUNCATED_BEFORE, int(last) + 1)  # type: ignore[call-overload]
    )
    assert list(source.read_stream(facts.TRUNCATED_STREAM, 2, 3)) == events[1:3]
    shown = info.to_json()
    assert shown["truncated_before"] == facts.TRUNCATED_BEFORE and shown["history_note"]


def test_an_ordinary_stream_has_version_position_plus_one(source: EventuousSource) -> None:
    info = source.stream_info("Booking-0002")
    assert info is not None and info.history_note is None
    events = list(source.read_stream("Booking-0002"))
    assert [e.version for e in events] == [e.metadata["stream_position"] + 1 for e in events]


def test_a_hole_left_by_a_skipped_duplicate_keeps_versions_contiguous(
    source: EventuousSource,
) -> None:
    info = source.stream_info(facts.HOLE_STREAM)
    assert isinstance(info, EventuousStreamInfo) and info.missing_positions == 1
    assert "no message" in (info.history_note or "")
    events = list(source.read_stream(facts.HOLE_STREAM))
    assert [e.version for e in events] == [1, 2, 3, 4] and info.version == 4
    assert [e.metadata["stream_position"] for e in events] == [0, 1, 2, 4]
    assert list(source.read_stream(facts.HOLE_STREAM, 4, 4)) == events[3:]
    assert list(source.read_stream(facts.HOLE_STREAM, backwards=True)) == events[::-1]
    everything = [e for e in source.read_all() if e.stream_id == facts.HOLE_STREAM]
    assert everything == events


@pytest.mark.parametrize("stream", [facts.HOLE_STREAM, facts.TRUNCATED_STREAM])
def test_replay_rows_number_holes_and_truncations_as_read_stream(
    source: EventuousSource, stream: str
) -> None:
    """The lean read maps positions to versions as the full read does, past a hole and
    after a truncation (a version off by one folds the wrong prefix)."""
    events = list(source.read_stream(stream))
    assert list(source.read_replay(stream)) == [replay_row(e) for e in events]
    last = len(events)
    assert list(source.read_replay(stream, last, last)) == [replay_row(events[-1])]
    assert list(source.read_replay(stream, 2, 3)) == [replay_row(e) for e in events[1:3]]


def test_created_has_no_zone_is_read_as_utc_and_is_shared_by_one_append(
    source: EventuousSource, eventuous_database: str
) -> None:
    rows = sql(
        eventuous_database,
        f"SELECT m.global_position, m.created FROM {facts.MAIN_SCHEMA}.messages m "
        "JOIN (SELECT stream_id, created FROM "
        f"{facts.MAIN_SCHEMA}.messages GROUP BY stream_id, created HAVING count(*) > 1 "
        "LIMIT 1) b USING (stream_id, created) ORDER BY m.global_position",
    )
    assert len(rows) >= 2
    batch = [source.event_at(int(position)) for position, _ in rows]  # type: ignore[call-overload]
    stored = rows[0][1]
    for event in batch:
        assert event is not None
        assert event.recorded_at == stored.replace(tzinfo=UTC)  # type: ignore[attr-defined]
        assert event.occurred_at == event.recorded_at and event.recorded_at.tzinfo is UTC
    versions = [e.version for e in batch if e is not None]
    assert versions == sorted(versions)  # the order within the append is the position's


def test_a_schema_written_from_an_oslo_session_is_shown_as_stored(eventuous_database: str) -> None:
    """The trap documented, not guessed at: the column holds the writer's wall clock, and
    eventscope reads it as the UTC Eventuous meant (an hour ahead here)."""
    with open_source(f"{eventuous_database}?schema={facts.LEDGER_SCHEMA}") as ledger:
        first = next(iter(ledger.read_all()))
        ((stored,),) = sql(
            eventuous_database, f"SELECT min(created) FROM {facts.LEDGER_SCHEMA}.messages"
        )
        assert first.recorded_at == stored.replace(tzinfo=UTC)  # type: ignore[attr-defined]
        assert ledger.stream_info(facts.SHARED_STREAM_NAME) is not None


def test_eventuous_metadata_keys_become_correlation_and_causation(
    source: EventuousSource, eventuous_database: str
) -> None:
    events = list(source.read_all())
    with_meta = [e for e in events if facts.CORRELATION_KEY in e.metadata]
    assert with_meta
    for e in with_meta:
        assert e.correlation_id == e.metadata[facts.CORRELATION_KEY]
        assert e.causation_id == e.metadata.get(facts.CAUSATION_KEY)
    # NULL json_metadata (a "migration"): only the stored position is there
    bare = [e for e in events if facts.CORRELATION_KEY not in e.metadata]
    assert bare and all(set(e.metadata) == {"stream_position"} for e in bare)
    flow = with_meta[0].correlation_id
    wanted = [e for e in events if e.correlation_id == flow]
    assert list(source.read_all(filter=EventFilter(correlation_id=flow))) == wanted
    assert source.count_events(EventFilter(correlation_id=flow)) == len(wanted) >= 2


def test_payloads_types_and_numbers_beyond_2_53(source: EventuousSource) -> None:
    booked = next(iter(source.read_stream(facts.BIG_LOYALTY_STREAM)))
    assert booked.event_type == "V1.RoomBooked" and booked.data["loyaltyNumber"] == BIG_INT
    assert source.stream_types() == [("Booking", 225), ("Payment", 406)]
    for name in facts.HOSTILE_STREAM_NAMES:
        info = source.stream_info(name)
        assert info is not None and info.stream_type == "Booking"
        assert [e.stream_id for e in source.read_stream(name)] == [name] * info.event_count
    percent = source.streams(prefix="Booking-%", limit=5)
    assert [i.stream_id for i in percent] == ["Booking-%_"]


def test_checkpoints_are_projection_checkpoints_with_lag(source: EventuousSource) -> None:
    head = source.head_position()
    checkpoints = source.checkpoints()
    assert checkpoints[facts.CAUGHT_UP_CHECKPOINT] == head
    assert checkpoints[facts.UNSTARTED_CHECKPOINT] == 0
    assert source.projection_names() == sorted(checkpoints)
    lags = {lag.name: lag for lag in source.checkpoint_lags()}
    assert lags[facts.CAUGHT_UP_CHECKPOINT].behind == 0
    assert lags[facts.LAGGING_CHECKPOINT].behind == facts.LAGGING_BY_EVENTS
    unstarted = lags[facts.UNSTARTED_CHECKPOINT]
    assert not unstarted.started and unstarted.behind == source.event_count()
    assert lags[facts.LAGGING_CHECKPOINT].to_json()["lag_events"] == facts.LAGGING_BY_EVENTS
    assert source.projection_rows(facts.CAUGHT_UP_CHECKPOINT) == []


def test_global_position_gaps(source: EventuousSource) -> None:
    positions = [e.position for e in source.read_all()]
    assert positions == sorted(set(positions)) and positions[-1] > len(positions)
    missing = next(p for p in range(1, positions[-1]) if p not in set(positions))
    assert source.event_at(missing) is None
    assert list(source.read_all(missing - 1, limit=1))[0].position > missing


def test_verify_reads_everything_and_claims_no_chain(source: EventuousSource) -> None:
    report = source.verify()
    assert report.ok and report.checked == source.event_count() and report.head is None
    assert "no hash chain" in (report.reason or "") and "nothing" in (report.reason or "")
    with pytest.raises(StoreError, match="no hash chain"):
        source.head_digest()


# --- read-only ----------------------------------------------------------------------------
def test_reading_everything_leaves_the_store_unchanged(eventuous_store: ForeignStore) -> None:
    fingerprint = schema_fingerprint(eventuous_store.database_url, eventuous_store.schema)
    before = fingerprint()
    with open_source(eventuous_store.url) as opened:
        assert isinstance(opened, EventuousSource)
        for info in opened.streams(limit=1000):
            list(opened.read_stream(info.stream_id, backwards=True))
        list(opened.read_all(backwards=True))
        opened.event_histogram(60, EventFilter(stream_type="Booking"))
        opened.count_events(EventFilter(actor="x"))
        opened.checkpoint_lags()
        opened.verify()
        with opened.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError, match="(?i)read-?only"):
                conn.exec_driver_sql("DELETE FROM checkpoints")
    assert fingerprint() == before


# --- the CLI ------------------------------------------------------------------------------
def run(*args: str) -> object:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_cli_streams_events_state_and_verify(eventuous_database: str) -> None:
    url = eventuous_database
    listed = run("streams", url, "--prefix", "Booking-004", "--json")
    assert isinstance(listed, list)
    truncated = next(s for s in listed if s["stream_id"] == facts.TRUNCATED_STREAM)
    assert truncated["truncated_before"] == facts.TRUNCATED_BEFORE
    assert "was truncated" in truncated["history_note"]
    empty = run("streams", url, "--prefix", facts.EMPTY_STREAM, "--json")
    assert empty == [
        {
            "stream_id": facts.EMPTY_STREAM,
            "stream_type": "Booking",
            "version": 0,
            "event_count": 0,
            "first_recorded_at": None,
            "last_recorded_at": None,
            "truncated_before": 0,
            "missing_positions": 0,
            "history_note": None,
        }
    ]
    events = run("events", url, facts.TRUNCATED_STREAM, "--json")
    assert isinstance(events, list) and events[0]["metadata"]["stream_position"] == 5
    assert events[0]["version"] == 1 and events[0]["hash"] == ""
    state = run("state", url, "Booking-0002", "--json")
    assert isinstance(state, dict) and state["version"] == 5 and state["state"]["bookingId"]
    report = run("verify", url, "--json")
    assert isinstance(report, dict)
    assert report["ok"] is True and report["head"] is None
    assert "no hash chain" in report["reason"]
    result = CliRunner().invoke(main, ["digest", url])
    assert result.exit_code != 0 and "no hash chain" in result.output


def test_cli_verify_text_does_not_claim_a_chain(eventuous_database: str) -> None:
    result = CliRunner().invoke(main, ["verify", eventuous_database])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("NOT PROVEN") and "events read" in text
    assert "ok" not in text.split() and "head " not in text  # no chain head is claimed


def test_histogram_counts_match_a_plain_count(source: EventuousSource) -> None:
    flt = EventFilter(event_types=["V1.RoomBooked"], since=source.event_at(1).recorded_at)  # type: ignore[union-attr]
    histogram = source.event_histogram(24, flt)
    assert sum(n for _t, n in histogram) == source.count_events(flt) > 100
    span = histogram[-1][0] - histogram[0][0]
    assert timedelta(0) < span < timedelta(days=1)


# --- a store that changes while it is open ---------------------------------------------
def test_appends_and_truncation_after_opening_are_seen(
    pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numberings are remembered per stream while its two ends are unchanged: an append
    or a truncation changes an end, so versions and counts are never stale."""
    from datetime import datetime

    import eventscope.store.sources.eventuous.source as source_module
    from eventuous_tables import Message, append, connect, create_tables, truncate

    monkeypatch.setattr(source_module, "_REFRESH_EVERY_S", 0.0)
    at = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)

    def message(n: int) -> Message:
        return Message(str(uuid.uuid5(uuid.NAMESPACE_URL, f"live/{n}")), "V1.Noted", {"n": n})

    with connect(pg_url) as conn:
        create_tables(conn, pg_schema)
        append(conn, pg_schema, "Note-1", [message(0), message(1)], at)
        with open_source(f"eventuous:{pg_url}?schema={pg_schema}") as opened:
            assert [i.version for i in opened.streams()] == [2]
            append(conn, pg_schema, "Note-1", [message(2)], at + timedelta(seconds=1))
            append(conn, pg_schema, "Note-2", [message(3)], at + timedelta(seconds=2))
            assert [(i.stream_id, i.version) for i in opened.streams()] == [
                ("Note-1", 3),
                ("Note-2", 1),
            ]
            truncate(conn, pg_schema, "Note-1", 2)
            info = opened.stream_info("Note-1")
            assert isinstance(info, EventuousStreamInfo)
            assert (info.version, info.truncated_before) == (1, 2)
            events = list(opened.read_stream("Note-1"))
            assert [(e.version, e.data["n"]) for e in events] == [(1, 2)]
            assert [e.version for e in opened.read_all() if e.stream_id == "Note-1"] == [1]
