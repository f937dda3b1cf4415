"""The committed Axon fixtures hold every trap on purpose (tests/fixtures/foreign/axon):
three naming schemes, `oid` and `bytea`, XStream and Jackson, block-allocated global
indexes, non-aggregate events, snapshots and tokens. Loaded into fresh databases and read
with plain SQL plus the XStream decoder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg
import pytest
from eventscope.store.sources.axon.xstream import (
    XStreamDocument,
    XStreamError,
    decode,
    decode_metadata,
    java_name,
)

from tests.fixtures.foreign.axon import facts
from tests.fixtures.foreign.pg import libpq_url, query
from tests.fixtures.foreign.pytest_fixtures_jvm_dotnet import ForeignStore
from tests.fixtures.foreign.synthetic import LONG_MAX, merge_fold

pytestmark = pytest.mark.postgres

# variant -> (events table, column names in the order
#   global, aggregate id, sequence, aggregate type, event id, payload type, revision,
#   timestamp, payload, metadata)
LAYOUTS = {
    "jpa": (
        "domain_event_entry",
        (
            "global_index",
            "aggregate_identifier",
            "sequence_number",
            "type",
            "event_identifier",
            "payload_type",
            "payload_revision",
            "time_stamp",
            "payload",
            "meta_data",
        ),
    ),
    "jdbc": (
        "domainevententry",
        (
            "globalindex",
            "aggregateidentifier",
            "sequencenumber",
            "type",
            "eventidentifier",
            "payloadtype",
            "payloadrevision",
            "timestamp",
            "payload",
            "metadata",
        ),
    ),
    "axon5": (
        "aggregate_event_entry",
        (
            "global_index",
            "aggregate_identifier",
            "aggregate_sequence_number",
            "aggregate_type",
            "identifier",
            "type",
            "version",
            "timestamp",
            "payload",
            "metadata",
        ),
    ),
}
VARIANT_LAYOUT = {
    "axon4-jpa-oid-xstream": "jpa",
    "axon4-jpa-bytea-jackson": "jpa",
    "axon4-jdbc-xstream": "jdbc",
    "axon5-jackson": "axon5",
}


def events(store: ForeignStore) -> list[dict[str, Any]]:
    table, cols = LAYOUTS[VARIANT_LAYOUT[store.variant]]
    names = (
        "global",
        "aggregate",
        "sequence",
        "type",
        "id",
        "payload_type",
        "revision",
        "timestamp",
        "payload",
        "metadata",
    )
    select = list(cols)
    if store.variant.endswith("oid-xstream"):
        select[-2:] = ["lo_get(payload)", "lo_get(meta_data)"]
    rows = query(
        store.database_url,
        f"SELECT {', '.join(select)} FROM {store.schema}.{table} ORDER BY {cols[0]}",
    )
    return [dict(zip(names, row, strict=True)) for row in rows]


def columns(url: str, schema: str, table: str) -> dict[str, str]:
    return dict(
        query(
            url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
    )


def xml(document: XStreamDocument | XStreamError) -> XStreamDocument:
    assert isinstance(document, XStreamDocument), document
    return document


# --- every variant ---------------------------------------------------------------------------
def test_each_variant_is_a_plausible_axon_store(axon_store: ForeignStore) -> None:
    rows = events(axon_store)
    assert len(rows) > 500
    # sequence numbers are 0-based and contiguous per aggregate
    per_aggregate: dict[str, list[int]] = {}
    for row in rows:
        if row["aggregate"] is not None and (row["type"] is not None):
            per_aggregate.setdefault(row["aggregate"], []).append(row["sequence"])
    assert len(per_aggregate) > 80
    assert all(sorted(s) == list(range(len(s))) for s in per_aggregate.values())
    # global_index is not gap-free
    assert rows[-1]["global"] > len(rows)
    # ISO-8601 text timestamps, every one parseable
    assert all(datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in rows)
    # payloads decode (XStream or Jackson), metadata carries Axon's trace and parent ids
    xstream = axon_store.variant.endswith("xstream")
    for row in rows:
        if row["id"] in (facts.BROKEN_XML_EVENT_ID, facts.DOCTYPE_EVENT_ID):
            continue  # the jdbc variant's hostile payloads (tested below)
        if xstream:
            document = xml(decode(row["payload"]))
            assert document.class_name == row["payload_type"]
            metadata = decode_metadata(row["metadata"])
        else:
            assert isinstance(orjson.loads(row["payload"]), dict)
            metadata = orjson.loads(row["metadata"])
        assert isinstance(metadata, dict) and facts.TRACE_KEY in metadata
        assert facts.PARENT_KEY in metadata


def test_non_aggregate_events(axon_store: ForeignStore) -> None:
    rows = [r for r in events(axon_store) if (r["payload_type"] or "").endswith("EmailSentEvent")]
    assert len(rows) > 20
    if axon_store.variant == "axon5-jackson":
        assert all(
            r["aggregate"] is None and r["sequence"] is None and r["type"] is None for r in rows
        )
    else:
        # Axon 4: type NULL, the event's own id as aggregate id, sequence 0
        assert all(
            r["type"] is None and r["aggregate"] == r["id"] and r["sequence"] == 0 for r in rows
        )


# --- naming schemes and column types ----------------------------------------------------------
def test_three_naming_schemes_and_two_storage_forms(
    axon_database: str, axon_oid_database: str
) -> None:
    oid = columns(axon_oid_database, "public", "domain_event_entry")
    assert (oid["payload"], oid["meta_data"], oid["time_stamp"]) == (
        "oid",
        "oid",
        "character varying",
    )
    assert columns(axon_oid_database, "public", "token_entry")["token"] == "oid"
    jpa = columns(axon_database, facts.JPA_SCHEMA, "domain_event_entry")
    assert (jpa["payload"], jpa["meta_data"]) == ("bytea", "bytea")
    jdbc = columns(axon_database, facts.JDBC_SCHEMA, "domainevententry")
    assert {
        "globalindex",
        "aggregateidentifier",
        "sequencenumber",
        "eventidentifier",
        "payloadtype",
        "payloadrevision",
        "timestamp",
        "metadata",
    } <= set(jdbc)
    assert {"aggregateidentifier", "sequencenumber"} <= set(
        columns(axon_database, facts.JDBC_SCHEMA, "snapshotevententry")
    )
    axon5 = columns(axon_database, facts.AXON5_SCHEMA, "aggregate_event_entry")
    assert {"aggregate_type", "aggregate_sequence_number", "version", "identifier"} <= set(axon5)
    assert "mask" in columns(axon_database, facts.AXON5_SCHEMA, "token_entry")
    sequences = {
        s
        for (s,) in query(
            axon_database,
            "SELECT sequence_schema || '.' || sequence_name FROM information_schema.sequences",
        )
    }
    assert {
        "public.hibernate_sequence",
        "jdbc.domainevententry_globalindex_seq",
        "axon5.aggregate-event-global-index-sequence",
    } <= sequences


def test_hibernate_block_allocation_across_two_nodes(axon_oid_database: str) -> None:
    assert query(
        axon_oid_database,
        "SELECT increment FROM information_schema.sequences "
        "WHERE sequence_name = 'domain_event_entry_seq'",
    ) == [(str(facts.ALLOCATION_SIZE),)]
    store = ForeignStore("axon4-jpa-oid-xstream", axon_oid_database, "public", axon_oid_database)
    rows = events(store)
    # global order is not time order ...
    inversions = sum(
        1
        for a, b in zip(rows, rows[1:], strict=False)
        if b["timestamp"] < a["timestamp"] and "T" in a["timestamp"]
    )
    assert inversions > 5
    # ... and not even stream order: an aggregate's later event can have a lower index
    by_aggregate: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        if row["type"] is not None:
            by_aggregate.setdefault(row["aggregate"], []).append((row["sequence"], row["global"]))
    out_of_order = [
        a
        for a, pairs in by_aggregate.items()
        if [s for s, _ in sorted(pairs, key=lambda p: p[1])] != sorted(s for s, _ in pairs)
    ]
    assert len(out_of_order) > 5
    # the node restart left a run of unused ids
    indexes = [r["global"] for r in rows]
    longest = max(b - a for a, b in zip(indexes, indexes[1:], strict=False))
    assert longest > facts.RESTART_GAP_AT_LEAST


def test_timestamps_in_old_formats_and_an_offset(axon_oid_database: str) -> None:
    stamps = [t for (t,) in query(axon_oid_database, "SELECT time_stamp FROM domain_event_entry")]
    millis = [t for t in stamps if len(t) == 24 and t.endswith("Z")]
    assert len(stamps) - len(millis) == facts.OLD_FORMAT_TIMESTAMPS + 1
    assert any(t.endswith("+01:00") for t in stamps)
    assert any(t.endswith(":00Z") or len(t) == 20 for t in stamps)
    # sorting the text is not sorting the instants
    parsed = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in stamps]
    assert sorted(stamps) != [t for _, t in sorted(zip(parsed, stamps, strict=True))]


def test_revisions_and_nested_class_names(axon_oid_database: str, axon_database: str) -> None:
    revisions = query(
        axon_oid_database,
        "SELECT DISTINCT payload_revision FROM domain_event_entry WHERE payload_type = %s",
        (facts.REVISED_EVENT_CLASS,),
    )
    assert sorted(revisions, key=str) == sorted([(None,), ("2",)], key=str)
    nested = query(
        axon_oid_database,
        "SELECT convert_from(lo_get(payload), 'UTF8') FROM "
        "domain_event_entry WHERE payload_type = %s LIMIT 1",
        (facts.NESTED_EVENT_CLASS,),
    )
    assert nested[0][0].startswith("<com.example.bank.api.Events_-InterestAccrued>")
    assert java_name("com.example.bank.api.Events_-InterestAccrued") == facts.NESTED_EVENT_CLASS
    # Axon 5 names it by package + simple name: the outer class is gone
    assert (
        query(
            axon_database,
            f"SELECT count(*) FROM {facts.AXON5_SCHEMA}.aggregate_event_entry "
            "WHERE type = 'com.example.bank.api.InterestAccrued'",
        )[0][0]
        > 0
    )


def test_a_long_beyond_2_53(axon_oid_database: str, axon_database: str) -> None:
    ((payload,),) = query(
        axon_oid_database,
        "SELECT lo_get(payload) FROM domain_event_entry "
        "WHERE aggregate_identifier = 'acct-0003' "
        "AND sequence_number = 0",
    )
    assert xml(decode(payload)).data["externalRef"] == LONG_MAX
    ((payload,),) = query(
        axon_database,
        "SELECT payload FROM domain_event_entry "
        "WHERE aggregate_identifier = 'acct-0003' "
        "AND sequence_number = 0",
    )
    assert orjson.loads(payload)["externalRef"] == LONG_MAX


# --- snapshots and tokens ---------------------------------------------------------------------
def snapshot_findings(store: ForeignStore, snapshot_sql: str) -> dict[str, bool]:
    """For each latest snapshot: does it equal the generic fold of the decoded payloads?"""
    xstream = store.variant.endswith("xstream")
    parse = (lambda b: xml(decode(b)).data) if xstream else orjson.loads
    folds: dict[str, list[dict[str, Any]]] = {}
    # Replay in stream order: with block allocation, global order is not stream order.
    for row in sorted(events(store), key=lambda r: (r["aggregate"], r["sequence"])):
        if row["type"] == facts.BANK_ACCOUNT_TYPE:
            history = folds.setdefault(row["aggregate"], [])
            history.append(merge_fold(history[-1] if history else {}, parse(row["payload"])))
    return {
        aggregate: parse(payload) == folds[aggregate][sequence]
        for aggregate, sequence, payload in query(store.database_url, snapshot_sql)
    }


@pytest.mark.parametrize(
    ("variant", "database", "sql"),
    [
        (
            "axon4-jpa-oid-xstream",
            "axon_oid_database",
            "SELECT aggregate_identifier, sequence_number, lo_get(payload) FROM snapshot_event_entry",
        ),
        (
            "axon4-jpa-bytea-jackson",
            "axon_database",
            "SELECT aggregate_identifier, sequence_number, payload FROM public.snapshot_event_entry",
        ),
        (
            "axon4-jdbc-xstream",
            "axon_database",
            "SELECT aggregateidentifier, sequencenumber, payload FROM jdbc.snapshotevententry",
        ),
    ],
)
def test_latest_snapshots_agree_with_the_replay_except_one(
    variant: str, database: str, sql: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(database)
    schema = "jdbc" if "jdbc" in variant else "public"
    findings = snapshot_findings(ForeignStore(variant, url, schema, url), sql)
    assert len(findings) > 30  # one row per snapshotted aggregate: only the latest is kept
    assert [a for a, agrees in findings.items() if not agrees] == [facts.WRONG_SNAPSHOT_AGGREGATE]


def test_tracking_tokens(axon_oid_database: str, axon_database: str) -> None:
    rows = query(
        axon_oid_database,
        "SELECT processor_name, segment, owner, token_type, "
        "lo_get(token) FROM token_entry ORDER BY 1, 2",
    )
    decoded = {
        (name, segment): (None if token is None else xml(decode(token)).data)
        for name, segment, _, _, token in rows
    }
    current, older = (decoded[("com.example.giftcard.GiftCardProjection", s)] for s in (0, 1))
    assert current is not None and older is not None
    assert isinstance(current["gaps"], list) and current["gaps"]  # converter form
    assert isinstance(older["gaps"], list) and older["gaps"]  # reflective ConcurrentSkipListSet
    assert int(older["index"]) < int(current["index"])
    assert decoded[("com.example.bank.NewProcessor", 0)] is None
    assert set(decoded[(facts.CONFIG_PROCESSOR, 0)]["config"]) == {"id"}
    ((gaps,),) = query(
        axon_database,
        "SELECT convert_from(token, 'UTF8') FROM public.token_entry "
        "WHERE processor_name LIKE '%GiftCard%'",
    )
    assert set(orjson.loads(gaps)) == {"index", "gaps"}
    masks = query(axon_database, f"SELECT segment, mask FROM {facts.AXON5_SCHEMA}.token_entry")
    assert sorted(masks) == [(0, 1), (1, 1)]


def test_jdbc_payloads_no_decoder_may_obey(axon_database: str) -> None:
    rows = dict(
        query(
            axon_database,
            "SELECT eventidentifier, payload FROM jdbc.domainevententry "
            "WHERE eventidentifier IN (%s, %s)",
            (facts.BROKEN_XML_EVENT_ID, facts.DOCTYPE_EVENT_ID),
        )
    )
    broken = decode(rows[facts.BROKEN_XML_EVENT_ID])
    assert isinstance(broken, XStreamError) and "well-formed" in broken.message
    hostile = decode(rows[facts.DOCTYPE_EVENT_ID])
    assert isinstance(hostile, XStreamError) and "DOCTYPE" in hostile.message
    ((control,),) = query(
        axon_database,
        "SELECT payload FROM jdbc.domainevententry WHERE eventidentifier = %s",
        (facts.CONTROL_CHARACTER_EVENT_ID,),
    )
    assert xml(decode(control)).data["subject"] == "bell \x07 escape \x1b[2J\x1b[31m red"


def test_large_objects_need_a_privilege(axon_oid_url_without_large_object_access: str) -> None:
    url = axon_oid_url_without_large_object_access
    with psycopg.connect(libpq_url(url)) as conn:
        (count,) = conn.execute("SELECT count(*) FROM domain_event_entry").fetchone() or (0,)
        assert count > 500
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="large object"):
            conn.execute("SELECT lo_get(payload) FROM domain_event_entry LIMIT 1").fetchone()
