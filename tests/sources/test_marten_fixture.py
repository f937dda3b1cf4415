"""The committed Marten fixture holds every trap on purpose (tests/fixtures/foreign/marten):
these tests load the dump into a fresh database and look at the tables directly, so an
adapter written later is tested against a history known to contain what it must handle."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.fixtures.foreign.marten import facts
from tests.fixtures.foreign.pg import query
from tests.fixtures.foreign.pytest_fixtures_jvm_dotnet import ForeignStore
from tests.fixtures.foreign.synthetic import BIG_INT, HOSTILE_STRINGS, merge_fold

pytestmark = pytest.mark.postgres
V9, V8 = facts.V9_SCHEMA, facts.V8_SCHEMA


def columns(url: str, schema: str, table: str) -> dict[str, str]:
    return dict(
        query(
            url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
    )


# --- every variant ------------------------------------------------------------------------
def test_each_variant_is_a_plausible_marten_store(marten_store: ForeignStore) -> None:
    url, s = marten_store.database_url, marten_store.schema
    assert marten_store.url.endswith("?schema=marten8") == (s == V8)
    streams, events = query(
        url, f"SELECT count(*), (SELECT count(*) FROM {s}.mt_events) FROM {s}.mt_streams"
    )[0]
    assert streams >= 150 and events >= 1000
    # versions are 1..n per stream, and mt_streams.version is the last one
    broken = query(
        url,
        f"SELECT s.id FROM {s}.mt_streams s JOIN {s}.mt_events e "
        "ON e.stream_id = s.id AND e.tenant_id = s.tenant_id "
        "GROUP BY s.tenant_id, s.id, s.version "
        "HAVING min(e.version) <> 1 OR max(e.version) <> count(*) OR max(e.version) <> s.version",
    )
    assert broken == []
    # seq_id has gaps (rolled-back appends)
    ((count, highest),) = query(url, f"SELECT count(*), max(seq_id) FROM {s}.mt_events")
    assert highest > count
    # one server timestamp per SaveChanges: some streams have events sharing it
    assert (
        query(
            url,
            f"SELECT count(*) FROM (SELECT 1 FROM {s}.mt_events "
            "GROUP BY tenant_id, stream_id, timestamp HAVING count(*) > 1) x",
        )[0][0]
        > 0
    )
    # event type aliases are snake_case; the CLR type is in mt_dotnet_type
    assert query(
        url,
        f"SELECT count(*) FROM {s}.mt_events WHERE type !~ '^[a-z_]+$' "
        "OR mt_dotnet_type NOT LIKE 'Shop.%, %'",
    ) == [(0,)]


def test_stream_id_types(marten_database: str) -> None:
    assert columns(marten_database, V9, "mt_events")["stream_id"] == "uuid"
    assert columns(marten_database, V9, "mt_streams")["id"] == "uuid"
    assert columns(marten_database, V8, "mt_events")["stream_id"] == "character varying"
    assert columns(marten_database, V8, "mt_streams")["id"] == "character varying"


def test_optional_columns_differ_between_the_variants(marten_database: str) -> None:
    v9 = list(columns(marten_database, V9, "mt_events"))
    v8 = list(columns(marten_database, V8, "mt_events"))
    optional = {"correlation_id", "causation_id", "headers", "user_name", "bdata"}
    assert optional <= set(v9)
    assert not optional & set(v8)
    assert v9.index("bdata") == v9.index("data") + 1  # a fresh 9.x table
    assert {"snapshot", "snapshot_version"} <= set(columns(marten_database, V8, "mt_streams"))
    assert not {"snapshot", "snapshot_version"} & set(columns(marten_database, V9, "mt_streams"))


# --- Marten 9.x ---------------------------------------------------------------------------------
def test_two_tenants_share_a_stream_id(marten_database: str) -> None:
    rows = query(
        marten_database,
        f"SELECT tenant_id, array_agg(type ORDER BY version), count(*) FROM {V9}.mt_events "
        "WHERE stream_id = %s GROUP BY tenant_id ORDER BY tenant_id",
        (facts.SHARED_STREAM_ID,),
    )
    assert [r[0] for r in rows] == list(facts.TENANTS)
    assert rows[0][1:] != rows[1][1:]
    tenants = query(marten_database, f"SELECT DISTINCT tenant_id FROM {V9}.mt_streams")
    assert sorted(t for (t,) in tenants) == list(facts.TENANTS)


def test_one_archived_stream(marten_database: str) -> None:
    streams = query(marten_database, f"SELECT tenant_id, id FROM {V9}.mt_streams WHERE is_archived")
    assert streams == [(facts.ARCHIVED_TENANT, facts.ARCHIVED_STREAM_ID)]
    events = query(
        marten_database,
        f"SELECT bool_and(is_archived), count(*) FROM {V9}.mt_events "
        "WHERE stream_id = %s AND tenant_id = %s",
        (facts.ARCHIVED_STREAM_ID, facts.ARCHIVED_TENANT),
    )
    assert events[0][0] is True and events[0][1] > 1
    assert query(marten_database, f"SELECT count(*) FROM {V9}.mt_events WHERE is_archived") == [
        (events[0][1],)
    ]


def test_binary_events_keep_their_bytes_in_bdata(marten_database: str) -> None:
    rows = query(
        marten_database,
        f"SELECT type, data::text, length(bdata) FROM {V9}.mt_events WHERE bdata IS NOT NULL",
    )
    assert len(rows) > 50
    assert {(t, d) for t, d, _ in rows} == {(facts.BINARY_EVENT_TYPE, "{}")}
    assert all(n > 20 for _, _, n in rows)
    assert query(
        marten_database,
        f"SELECT count(*) FROM {V9}.mt_events WHERE bdata IS NULL AND data = '{{}}'::jsonb",
    ) == [(0,)]


def test_high_water_mark_is_below_the_newest_event(marten_database: str) -> None:
    progression = dict(
        query(marten_database, f"SELECT name, last_seq_id FROM {V9}.mt_event_progression")
    )
    high_water = progression.pop(facts.HIGH_WATER_MARK)
    ((newest,),) = query(marten_database, f"SELECT max(seq_id) FROM {V9}.mt_events")
    above = query(
        marten_database, f"SELECT count(*) FROM {V9}.mt_events WHERE seq_id > %s", (high_water,)
    )
    assert high_water < newest and above == [(facts.EVENTS_ABOVE_HIGH_WATER,)]
    # projection shards: checkpoints with lag, none past the high-water mark
    assert set(progression) == set(facts.PROJECTIONS)
    for name, lag in facts.PROJECTIONS.items():
        assert progression[name] <= high_water - lag
        assert progression[name] > high_water - lag - 10  # the newest event at that point
    assert progression["ShipmentBoard:All"] == high_water


def test_long_gap_in_seq_id(marten_database: str) -> None:
    gaps = query(
        marten_database,
        f"SELECT seq_id - lag(seq_id) OVER (ORDER BY seq_id) AS jump FROM {V9}.mt_events "
        "ORDER BY jump DESC NULLS LAST LIMIT 1",
    )
    assert gaps[0][0] > 500


def replayed(url: str, schema: str, key_column: str = "tenant_id") -> dict[tuple[Any, Any], list]:
    """The generic fold of each stream after every version."""
    folds: dict[tuple[Any, Any], list] = defaultdict(list)
    state: dict[tuple[Any, Any], dict] = {}
    for tenant, stream, data in query(
        url, f"SELECT {key_column}, stream_id, data FROM {schema}.mt_events ORDER BY seq_id"
    ):
        key = (tenant, stream)
        state[key] = merge_fold(state.get(key, {}), data)
        folds[key].append(state[key])
    return folds


def test_inline_snapshots_agree_with_the_replay_except_two(marten_database: str) -> None:
    folds = replayed(marten_database, V9)
    docs = query(
        marten_database,
        f"SELECT d.tenant_id, d.id, d.data, d.mt_version, s.version FROM {V9}.{facts.ORDER_DOC_TABLE} d "
        f"JOIN {V9}.mt_streams s ON s.id = d.id AND s.tenant_id = d.tenant_id",
    )
    assert len(docs) == len(
        query(marten_database, f"SELECT 1 FROM {V9}.mt_streams WHERE type = 'order'")
    )
    findings = {}
    for tenant, key, data, doc_version, stream_version in docs:
        claim_ok = data == folds[(tenant, key)][doc_version - 1]
        current = doc_version == stream_version
        if not (claim_ok and current):
            findings[(tenant, key)] = (claim_ok, current, stream_version - doc_version)
    assert findings == {
        (facts.WRONG_SNAPSHOT_TENANT, facts.WRONG_SNAPSHOT_ID): (False, True, 0),
        (facts.STALE_SNAPSHOT_TENANT, facts.STALE_SNAPSHOT_ID): (
            True,
            False,
            facts.STALE_SNAPSHOT_BEHIND,
        ),
    }


def test_metadata_columns_carry_a_causation_chain_across_streams(marten_database: str) -> None:
    chains = query(
        marten_database,
        f"SELECT count(*) FROM {V9}.mt_events shipment JOIN {V9}.mt_events cause "
        "ON shipment.causation_id = cause.id::text "
        "WHERE shipment.type = 'shipment_requested' AND cause.type = 'order_submitted' "
        "AND cause.stream_id <> shipment.stream_id "
        "AND cause.correlation_id = shipment.correlation_id",
    )
    requested = query(
        marten_database, f"SELECT count(*) FROM {V9}.mt_events WHERE type = 'shipment_requested'"
    )
    assert chains == requested and requested[0][0] > 100
    users = {u for (u,) in query(marten_database, f"SELECT DISTINCT user_name FROM {V9}.mt_events")}
    assert None in users and HOSTILE_STRINGS[0] in users
    headers = query(marten_database, f"SELECT count(*) FROM {V9}.mt_events WHERE headers IS NULL")
    assert headers[0][0] > 0


def test_untyped_streams_big_numbers_and_hostile_text(marten_database: str) -> None:
    assert (
        query(marten_database, f"SELECT count(*) FROM {V9}.mt_streams WHERE type IS NULL")[0][0]
        > 10
    )
    points = query(
        marten_database,
        f"SELECT (data->'Points')::text FROM {V9}.mt_events WHERE stream_id = %s "
        "AND type = 'loyalty_points_granted'",
        (facts.BIG_POINTS_STREAM_ID,),
    )
    assert points == [(str(BIG_INT),)]
    assert query(
        marten_database,
        f"SELECT (headers->'batch')::text FROM {V9}.mt_events WHERE headers ? 'batch'",
    ) == [(str(2**63 - 1),)]
    names = {
        n
        for (n,) in query(
            marten_database,
            f"SELECT data->>'Name' FROM {V9}.mt_events WHERE type = 'customer_registered'",
        )
    }
    assert names & set(HOSTILE_STRINGS)


# --- Marten 8.x ---------------------------------------------------------------------------
def test_marten8_variant(marten_database: str) -> None:
    keys = {k for (k,) in query(marten_database, f"SELECT id FROM {V8}.mt_streams")}
    assert set(facts.V8_HOSTILE_STREAM_KEYS) <= keys
    assert query(marten_database, f"SELECT id FROM {V8}.mt_streams WHERE is_archived") == [
        (facts.V8_ARCHIVED_STREAM_KEY,)
    ]
    assert query(marten_database, f"SELECT DISTINCT tenant_id FROM {V8}.mt_events") == [
        ("*DEFAULT*",)
    ]
    assert query(marten_database, f"SELECT count(*) FROM {V8}.mt_event_progression") == [(0,)]
    assert query(
        marten_database,
        f"SELECT count(*) FROM {V8}.mt_streams "
        "WHERE snapshot IS NOT NULL OR snapshot_version IS NOT NULL",
    ) == [(0,)]
    folds = replayed(marten_database, V8)
    wrong = [
        key
        for tenant, key, data, version in query(
            marten_database,
            f"SELECT '*DEFAULT*', id, data, mt_version FROM {V8}.{facts.CART_DOC_TABLE}",
        )
        if data != folds[(tenant, key)][version - 1]
    ]
    assert wrong == [facts.V8_WRONG_SNAPSHOT_KEY]
