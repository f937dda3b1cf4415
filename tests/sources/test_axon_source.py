"""The Axon Framework source on the committed fixtures (tests/fixtures/foreign/axon: the
published schema, written by hand, not by Axon, which cannot run here): every variant
(JPA oid + XStream, JPA bytea + Jackson, JDBC lowercase + XStream, Axon 5) opened as a
user types it, and every trap: gaps and block-allocated global indexes, large objects
and the privilege they need, XML and JSON payloads, events without an aggregate,
snapshots, tracking tokens, hostile payloads; detection, the fingerprint after reading
everything, and the CLI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from contract_sources import schema_fingerprint
from eventscope.explorer.cli import main
from eventscope.store import EventFilter, StoreError, open_source
from eventscope.store.errors import NotAStoreError, ReadOnlyError
from eventscope.store.source import EventSource
from eventscope.store.sources.axon.catalog import NO_AGGREGATE_STREAM, NO_AGGREGATE_TYPE
from eventscope.store.sources.axon.source import AxonSource
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.fixtures.foreign.axon import facts
from tests.fixtures.foreign.pg import query
from tests.fixtures.foreign.pytest_fixtures_jvm_dotnet import ForeignStore
from tests.fixtures.foreign.synthetic import LONG_MAX, merge_fold

pytestmark = pytest.mark.postgres

# variant -> (events table, aggregate column, sequence column, type column, id column)
TABLES = {
    "axon4-jpa-oid-xstream": (
        "domain_event_entry",
        "aggregate_identifier",
        "sequence_number",
        "type",
        "event_identifier",
    ),
    "axon4-jpa-bytea-jackson": (
        "domain_event_entry",
        "aggregate_identifier",
        "sequence_number",
        "type",
        "event_identifier",
    ),
    "axon4-jdbc-xstream": (
        "domainevententry",
        "aggregateidentifier",
        "sequencenumber",
        "type",
        "eventidentifier",
    ),
    "axon5-jackson": (
        "aggregate_event_entry",
        "aggregate_identifier",
        "aggregate_sequence_number",
        "aggregate_type",
        "identifier",
    ),
}


@pytest.fixture
def source(axon_store: ForeignStore) -> Iterator[EventSource]:
    opened = open_source(axon_store.url)
    try:
        yield opened
    finally:
        opened.close()


def sql(store: ForeignStore, text: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return query(store.database_url, text.replace("{s}", store.schema), params)


def fingerprint(store: ForeignStore) -> Callable[[], str]:
    """Every row of the schema's tables, and every large object's bytes."""
    rows = schema_fingerprint(store.database_url, store.schema)

    def both() -> str:
        objects = query(
            store.database_url,
            "SELECT md5(COALESCE(string_agg(md5(lo_get(oid)), ',' ORDER BY oid), '')) "
            "FROM pg_largeobject_metadata",
        )[0][0]
        return hashlib.sha256(f"{rows()}|{objects}".encode()).hexdigest()

    return both


# --- every variant ---------------------------------------------------------------------------
def test_each_variant_is_detected_from_a_plain_url_and_mapped(
    axon_store: ForeignStore, source: EventSource
) -> None:
    table, agg, seq, kind, _id = TABLES[axon_store.variant]
    info = source.describe()
    assert (info.kind, info.read_only, info.has_hash_chain) == ("axon-postgresql", True, False)
    ((total, head),) = sql(
        axon_store,
        f"SELECT count(*), max(global{'index' if 'jdbc' in axon_store.variant else '_index'}) FROM {{s}}.{table}",
    )
    assert source.event_count() == total and source.head_position() == head
    assert head > total  # global indexes are not gap-free
    aggregates = sql(
        axon_store, f"SELECT count(DISTINCT {agg}) FROM {{s}}.{table} WHERE {kind} IS NOT NULL"
    )[0][0]
    assert source.count_streams() == aggregates + 1  # plus the one group without aggregate
    types = dict(source.stream_types())
    assert types[NO_AGGREGATE_TYPE] == 1
    assert {facts.BANK_ACCOUNT_TYPE, facts.GIFT_CARD_TYPE} <= set(types)
    # version = sequence number + 1, in sequence order, whatever the global order
    for stream in source.streams(stream_type=facts.BANK_ACCOUNT_TYPE, limit=10):
        events = list(source.read_stream(stream.stream_id))
        assert [e.version for e in events] == list(range(1, stream.version + 1))
        stored = sql(
            axon_store,
            f"SELECT {seq} FROM {{s}}.{table} WHERE {agg} = %s ORDER BY {seq}",
            (stream.stream_id,),
        )
        assert [e.version - 1 for e in events] == [s for (s,) in stored]
        assert events[0].event_type == "AccountOpenedEvent"
        assert events[0].metadata["axon.payload_type"].startswith("com.example.bank.")
        assert list(source.read_stream(stream.stream_id, backwards=True)) == events[::-1]
    # every event decodes (except the jdbc variant's two planted payloads)
    bad = [e for e in source.read_all() if e.decode_error is not None]
    planted = {facts.BROKEN_XML_EVENT_ID, facts.DOCTYPE_EVENT_ID}
    assert {e.event_id for e in bad} == (planted if "jdbc" in axon_store.variant else set())


def test_each_variant_is_unchanged_after_reading_everything(axon_store: ForeignStore) -> None:
    before = fingerprint(axon_store)()
    with open_source(axon_store.url) as source:
        events = list(source.read_all())
        list(source.read_all(backwards=True, limit=50))
        for stream in source.streams(limit=1000):
            list(source.read_stream(stream.stream_id))
            source.snapshots(stream.stream_id)
        source.count_events(EventFilter(actor="teller-1"))
        source.event_histogram(30, EventFilter(stream_type=facts.GIFT_CARD_TYPE))
        source.checkpoints()
        source.verify()
        source.event_at(events[0].position)
        with source.connect() as conn:  # type: ignore[attr-defined]
            with pytest.raises(sa.exc.DBAPIError, match="(?i)read-only"):
                conn.exec_driver_sql(f"DELETE FROM {TABLES[axon_store.variant][0]}")
    with pytest.raises(ReadOnlyError, match="a axon source can only be read"):
        open_source(f"axon:{axon_store.url}", read_only=False)
    assert fingerprint(axon_store)() == before


def test_events_without_an_aggregate_are_one_group(
    axon_store: ForeignStore, source: EventSource
) -> None:
    table, _agg, _seq, kind, ident = TABLES[axon_store.variant]
    pos = "globalindex" if "jdbc" in axon_store.variant else "global_index"
    stored = sql(
        axon_store, f"SELECT {pos}, {ident} FROM {{s}}.{table} WHERE {kind} IS NULL ORDER BY {pos}"
    )
    assert len(stored) > 20
    group = source.stream_info(NO_AGGREGATE_STREAM)
    assert group is not None and group.event_count == group.version == len(stored)
    assert source.stream_info(stored[0][1]) is None  # not a one-event stream of its own
    events = list(source.read_stream(NO_AGGREGATE_STREAM))
    assert [(e.position, e.event_id) for e in events] == [tuple(r) for r in stored]
    assert [e.version for e in events] == list(range(1, len(stored) + 1))
    assert {e.event_type for e in events} == {"EmailSentEvent"}
    assert list(source.read_stream(NO_AGGREGATE_STREAM, 3, 5)) == events[2:5]
    assert list(source.read_all(filter=EventFilter(stream_id=NO_AGGREGATE_STREAM))) == events
    in_order = [e for e in source.read_all() if e.stream_id == NO_AGGREGATE_STREAM]
    assert in_order == events
    assert source.count_events(EventFilter(stream_type=NO_AGGREGATE_TYPE)) == len(stored)


def test_processor_tokens_are_checkpoints_with_lag(
    axon_store: ForeignStore, source: EventSource
) -> None:
    checkpoints = source.checkpoints()
    assert facts.CONFIG_PROCESSOR not in checkpoints and checkpoints
    assert set(source.projection_names()) == set(checkpoints)
    head = source.head_position()
    assert all(0 <= position <= head for position in checkpoints.values())
    assert isinstance(source, AxonSource)
    lags = source.processor_lags()
    for name, position in checkpoints.items():
        assert lags[name] == sum(1 for e in source.read_all(position))
    if axon_store.variant == "axon4-jpa-oid-xstream":
        assert checkpoints["com.example.bank.NewProcessor"] == 0  # a NULL token
        current = checkpoints["com.example.giftcard.GiftCardProjection[0]"]
        older = checkpoints["com.example.giftcard.GiftCardProjection[1]"]
        assert older < current  # the older reflective gap-set form is read too
        gaps = {c.name: c.gaps for c in source.processor_checkpoints()}
        assert gaps["com.example.giftcard.GiftCardProjection[0]"] > 0
    if axon_store.variant == "axon4-jdbc-xstream":
        assert "com.example.bank.MigratedFromAxonServer" in checkpoints  # GlobalSequence


# --- the oid variant: large objects, XStream, block allocation ------------------------------
@pytest.fixture
def oid_source(axon_oid_database: str) -> Iterator[AxonSource]:
    with open_source(axon_oid_database) as opened:
        assert isinstance(opened, AxonSource)
        yield opened


def test_large_objects_are_read_with_lo_get(oid_source: AxonSource) -> None:
    assert {"events.payload", "events.meta_data", "tokens.token"} <= oid_source.layout.oid_columns
    (event,) = oid_source.read_stream("acct-0003", 1, 1)
    assert event.data["externalRef"] == LONG_MAX  # a long beyond 2^53, exact
    stored = event.metadata["axon.stored_xml"]
    assert stored.startswith("<com.example.bank.api.AccountOpenedEvent>")  # the evidence
    assert event.metadata["axon.java_types"]["/externalRef"] == "long"


def test_block_allocated_indexes_are_neither_time_nor_stream_order(
    oid_source: AxonSource,
) -> None:
    events = list(oid_source.read_all())
    positions = [e.position for e in events]
    assert positions == sorted(positions)
    times = [e.recorded_at for e in events]
    assert times != sorted(times)  # global order is not time order
    out_of_order = 0
    for stream in oid_source.streams(limit=1000):
        in_global = [e.version for e in events if e.stream_id == stream.stream_id]
        if in_global != sorted(in_global):
            out_of_order += 1
            replay = [e.version for e in oid_source.read_stream(stream.stream_id)]
            assert replay == sorted(in_global)  # a replay follows the sequence numbers
    assert out_of_order > 5
    gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
    assert max(gaps) > facts.RESTART_GAP_AT_LEAST
    missing = next(p for p in range(1, positions[-1]) if p not in set(positions))
    assert oid_source.event_at(missing) is None


def test_timestamps_in_old_formats_and_with_an_offset(oid_source: AxonSource) -> None:
    stamps = dict(
        query(
            oid_source._reader.engine.url.render_as_string(hide_password=False),
            "SELECT global_index, time_stamp FROM domain_event_entry",
        )
    )
    offset = next(p for p, t in stamps.items() if t.endswith("+01:00"))
    event = oid_source.event_at(offset)
    assert event is not None
    assert (
        event.recorded_at.utcoffset() is not None
        and event.recorded_at.utcoffset().total_seconds() == 0
    )
    assert event.recorded_at.isoformat()[11:13] != stamps[offset][11:13]  # an hour earlier in UTC
    assert all("axon.time_stamp" not in e.metadata for e in oid_source.read_all())  # all parsed


def test_revisions_are_schema_versions(oid_source: AxonSource) -> None:
    deposits = list(oid_source.read_all(filter=EventFilter(event_types=["MoneyDepositedEvent"])))
    versions = {(e.schema_version, e.metadata.get("axon.payload_revision")) for e in deposits}
    assert versions == {(1, None), (2, "2")}
    nested = list(oid_source.read_all(filter=EventFilter(event_types=["InterestAccrued"])))
    assert nested and nested[0].metadata["axon.payload_type"] == facts.NESTED_EVENT_CLASS


def test_snapshots_are_claims_checked_against_the_replay(oid_source: AxonSource) -> None:
    disagreeing = []
    checked = 0
    for stream in oid_source.streams(stream_type=facts.BANK_ACCOUNT_TYPE, limit=1000):
        snapshots = oid_source.snapshots(stream.stream_id)
        assert len(snapshots) <= 1  # Axon keeps only the latest
        if not snapshots:
            continue
        (snapshot,) = snapshots
        assert snapshot.version % facts.SNAPSHOT_EVERY == 0
        assert oid_source.snapshot_at(stream.stream_id, snapshot.version - 1) is None
        assert oid_source.snapshot_at(stream.stream_id, snapshot.version + 3) == snapshot
        fold: dict[str, Any] = {}
        for event in oid_source.read_stream(stream.stream_id, 1, snapshot.version):
            fold = merge_fold(fold, event.data)
        checked += 1
        if fold != snapshot.state:
            disagreeing.append(stream.stream_id)
    assert checked > 30
    assert disagreeing == [facts.WRONG_SNAPSHOT_AGGREGATE]
    assert oid_source.snapshots(NO_AGGREGATE_STREAM) == []


def test_a_role_without_large_object_access_gets_one_sentence(
    axon_oid_url_without_large_object_access: str,
) -> None:
    url = axon_oid_url_without_large_object_access
    role = make_url(url).username
    with pytest.raises(StoreError) as caught:
        open_source(url)
    message = str(caught.value)
    assert "large objects" in message and role in message and "grant SELECT" in message
    assert "\n" not in message and "Traceback" not in message
    result = CliRunner().invoke(main, ["streams", url, "--json"])
    assert result.exit_code != 0
    assert "large objects" in result.output and "Traceback" not in result.output


# --- the bytea / Jackson, JDBC and Axon 5 variants ------------------------------------------
def test_jackson_json_payloads(axon_database: str) -> None:
    with open_source(axon_database) as source:
        assert isinstance(source, AxonSource) and not source.layout.oid_columns
        (event,) = source.read_stream("acct-0003", 1, 1)
        assert event.data["externalRef"] == LONG_MAX
        assert "axon.stored_xml" not in event.metadata  # JSON is shown as it is stored
        assert event.metadata["correlation_id"] == event.metadata[facts.TRACE_KEY]
        assert event.metadata["causation_id"] == event.metadata[facts.PARENT_KEY]


def test_hostile_payloads_are_shown_never_obeyed(axon_database: str) -> None:
    url = f"{axon_database}?schema={facts.JDBC_SCHEMA}"
    with open_source(url) as source:
        by_id = {e.event_id: e for e in source.read_all()}
        broken = by_id[facts.BROKEN_XML_EVENT_ID]
        assert broken.data == {} and "well-formed" in (broken.decode_error or "")
        assert broken.metadata["axon.stored_xml"]  # the evidence stays visible
        doctype = by_id[facts.DOCTYPE_EVENT_ID]
        assert "DOCTYPE" in (doctype.decode_error or "")
        control = by_id[facts.CONTROL_CHARACTER_EVENT_ID]
        assert control.data["subject"] == "bell \x07 escape \x1b[2J\x1b[31m red"
        report = source.verify()
        assert not report.ok and report.malformed == 2
        assert report.first_bad_position == min(broken.position, doctype.position)


def test_axon5_names_and_versions(axon_database: str) -> None:
    with open_source(f"{axon_database}?schema={facts.AXON5_SCHEMA}") as source:
        assert isinstance(source, AxonSource) and source.layout.scheme == "axon5"
        nested = list(source.read_all(filter=EventFilter(event_types=["InterestAccrued"])))
        assert nested[0].metadata["axon.payload_type"] == "com.example.bank.api.InterestAccrued"
        revisions = {e.metadata.get("axon.payload_revision") for e in source.read_all()}
        assert {"0.0.1", "2"} <= revisions
        assert source.snapshots("acct-0001") == []  # Axon 5 has no snapshot table


# --- detection and the CLI ------------------------------------------------------------------
def test_detection_prefix_and_format(axon_database: str, pg_url: str, pg_schema: str) -> None:
    jdbc = f"{axon_database}?schema={facts.JDBC_SCHEMA}"
    for opened in (
        open_source(f"axon:{jdbc}"),
        open_source(jdbc, format="axon"),
        open_source(axon_database, schema=facts.JDBC_SCHEMA),
    ):
        with opened:
            assert opened.describe().kind == "axon-postgresql"
            assert "schema jdbc" in opened.describe().location
    with pytest.raises(NotAStoreError, match="Axon Framework"):
        open_source(f"{pg_url}?schema={pg_schema}")  # an empty schema: none of the kinds
    with pytest.raises(NotAStoreError, match="no Axon Framework event table"):
        open_source(f"axon:{pg_url}?schema={pg_schema}")


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_the_cli_reads_every_view(axon_oid_database: str) -> None:
    url = axon_oid_database
    streams = run("streams", url, "--json")
    ids = [s["stream_id"] for s in streams]
    assert NO_AGGREGATE_STREAM in ids and "acct-0007" in ids
    events = run("events", url, "acct-0007", "--json")
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event_type"] == "AccountOpenedEvent" and events[0]["hash"] == ""
    state = run("state", url, "acct-0007", "--json")
    assert "balance" in orjson.dumps(state).decode()
    assert run("streams", url, "--format", "axon", "--json") == streams  # detection skipped
    assert run("streams", f"axon:{url}", "--json") == streams
    result = CliRunner().invoke(main, ["verify", url, "--json"])
    report = orjson.loads(result.stdout)
    assert report["chain"] is False and report["head"] is None  # no chain is claimed
    # Hibernate's interleaved blocks put a stream's versions out of global order on
    # purpose; versions are judged per stream (1..N as a set), so nothing is reported.
    assert report["bad_positions"] == [] and report["bad_count"] == 0, report["bad_positions"]
    assert report["ok"] is True and report["catalog_problems"] == []
    diff = run("diff", url, "acct-0007", "--snapshot", "15", "--json")
    assert any("balance" in orjson.dumps(d).decode() for d in diff["differences"])
    digest = CliRunner().invoke(main, ["digest", url])
    assert digest.exit_code != 0 and "no digest" in digest.output


def test_an_empty_axon_store(pg_url: str, pg_schema: str) -> None:
    from tests.fixtures.foreign.axon.ddl import jpa_ddl

    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(jpa_ddl(pg_schema, lob="oid", hibernate=6))
    engine.dispose()
    with open_source(f"{pg_url}?schema={pg_schema}") as source:
        assert source.event_count() == 0 and source.head_position() == 0
        assert source.streams() == [] and list(source.read_all()) == []
        assert source.event_histogram(5) == [] and source.checkpoints() == {}
        assert source.verify().ok


# --- the cached stream catalog --------------------------------------------------------------
def _insert(url: str, schema: str, rows: list[tuple[int, str, int]]) -> None:
    """(global index, aggregate, sequence) events as Axon's JPA engine stores them."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {schema}.domain_event_entry (global_index, event_identifier, "
            "meta_data, payload, payload_type, time_stamp, aggregate_identifier, "
            "sequence_number, type) VALUES (%s, %s, NULL, %s, %s, %s, %s, %s, 'Account')",
            [
                (
                    index,
                    f"e-{index}",
                    orjson.dumps({"n": index}),
                    "com.example.Noted",
                    f"2026-01-01T00:00:{index % 60:02d}.000Z",
                    aggregate,
                    sequence,
                )
                for index, aggregate, sequence in rows
            ],
        )
    engine.dispose()


def test_the_catalog_is_cached_outside_the_database_and_sees_late_commits(
    pg_url: str, pg_schema: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.foreign.axon.ddl import jpa_ddl

    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(jpa_ddl(pg_schema, lob="bytea", hibernate=6))
    engine.dispose()
    # node A has ids 1..50, node B 51..100: B's events commit first
    _insert(pg_url, pg_schema, [(51, "a-1", 0), (52, "a-2", 0), (53, "a-1", 1)])
    url = f"{pg_url}?schema={pg_schema}"
    with open_source(url) as source:
        assert source.count_streams() == 2 and source.event_count() == 3
    cached = list((tmp_path / "cache").glob("*.catalog.sqlite"))
    assert len(cached) == 1  # in eventscope's cache folder, not the audited database
    tables = {
        t
        for (t,) in query(
            pg_url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (pg_schema,),
        )
    }
    assert tables == {
        "domain_event_entry",
        "snapshot_event_entry",
        "token_entry",
        "saga_entry",
        "association_value_entry",
    }
    # node A commits ids below the last one the catalog counted, and B carries on
    _insert(pg_url, pg_schema, [(1, "a-3", 0), (2, "a-2", 1), (54, "a-1", 2)])
    with open_source(url) as source:
        assert source.event_count() == 6 and source.count_streams() == 3
        info = source.stream_info("a-2")
        assert info is not None and info.version == 2 and info.first_position == 2
        assert [e.position for e in source.read_stream("a-2")] == [52, 2]  # by sequence
        assert [e.version for e in source.read_stream("a-1")] == [1, 2, 3]


def test_an_unreadable_timestamp_is_shown_not_fatal(pg_url: str, pg_schema: str) -> None:
    from tests.fixtures.foreign.axon.ddl import jdbc_ddl

    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(jdbc_ddl(pg_schema))
        conn.exec_driver_sql(
            f"INSERT INTO {pg_schema}.domainevententry (aggregateidentifier, sequencenumber, "
            "type, eventidentifier, metadata, payload, payloadtype, timestamp) VALUES "
            "('a-1', 0, 'Account', 'e-1', NULL, '{\"n\":1}', 'com.example.Noted', 'last tuesday'), "
            "('a-1', 1, 'Account', 'e-2', NULL, '{\"n\":2}', 'com.example.Noted', "
            "'2026-01-01T00:00:00.000Z')"
        )
    engine.dispose()
    with open_source(f"{pg_url}?schema={pg_schema}") as source:
        first, second = source.read_stream("a-1")
        assert first.metadata["axon.time_stamp"] == "last tuesday" and first.data == {"n": 1}
        assert second.recorded_at.year == 2026
        info = source.stream_info("a-1")
        assert info is not None and info.event_count == 2
        assert info.last_recorded_at == second.recorded_at
