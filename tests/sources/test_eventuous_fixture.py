"""The committed Eventuous fixture holds every trap on purpose
(tests/fixtures/foreign/eventuous): loaded into a fresh database, read with plain SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.foreign.eventuous import facts
from tests.fixtures.foreign.pg import query
from tests.fixtures.foreign.pytest_fixtures_jvm_dotnet import ForeignStore
from tests.fixtures.foreign.synthetic import BIG_INT, HOSTILE_STRINGS, START

pytestmark = pytest.mark.postgres
MAIN, LEDGER = facts.MAIN_SCHEMA, facts.LEDGER_SCHEMA


def positions(url: str, schema: str, stream: str) -> list[int]:
    return [
        p
        for (p,) in query(
            url,
            f"SELECT m.stream_position FROM {schema}.messages m JOIN {schema}.streams s "
            "USING (stream_id) WHERE s.stream_name = %s ORDER BY m.stream_position",
            (stream,),
        )
    ]


def test_each_variant_is_a_plausible_eventuous_store(eventuous_store: ForeignStore) -> None:
    url, s = eventuous_store.database_url, eventuous_store.schema
    assert eventuous_store.url.endswith("?schema=ledger") == (s == LEDGER)
    ((messages, highest),) = query(url, f"SELECT count(*), max(global_position) FROM {s}.messages")
    assert messages > 300
    # streams.version is the last stream position of every non-empty stream
    assert query(
        url,
        f"SELECT count(*) FROM {s}.streams st JOIN (SELECT stream_id, max(stream_position) AS top "
        f"FROM {s}.messages GROUP BY stream_id) m USING (stream_id) WHERE m.top <> st.version",
    ) == [(0,)]
    # one `created` per append: positions of one stream share it
    assert (
        query(
            url,
            f"SELECT count(*) FROM (SELECT 1 FROM {s}.messages "
            "GROUP BY stream_id, created HAVING count(*) > 1) x",
        )[0][0]
        > 10
    )
    assert query(
        url,
        "SELECT data_type FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'messages' AND column_name = 'created'",
        (s,),
    ) == [("timestamp without time zone",)]
    keys = {
        k
        for (k,) in query(
            url, f"SELECT DISTINCT jsonb_object_keys(json_metadata) FROM {s}.messages"
        )
    }
    assert {facts.CORRELATION_KEY, facts.CAUSATION_KEY, "trace-id", "span-id"} <= keys
    assert highest >= messages


def test_empty_stream_has_version_minus_one(eventuous_database: str) -> None:
    assert query(
        eventuous_database,
        f"SELECT version FROM {MAIN}.streams WHERE stream_name = %s",
        (facts.EMPTY_STREAM,),
    ) == [(-1,)]
    assert positions(eventuous_database, MAIN, facts.EMPTY_STREAM) == []


def test_truncated_stream_does_not_start_at_zero(eventuous_database: str) -> None:
    kept = positions(eventuous_database, MAIN, facts.TRUNCATED_STREAM)
    ((version,),) = query(
        eventuous_database,
        f"SELECT version FROM {MAIN}.streams WHERE stream_name = %s",
        (facts.TRUNCATED_STREAM,),
    )
    assert kept == list(range(facts.TRUNCATED_BEFORE, version + 1))
    # it is the only stream (besides the retry hole) not starting at position 0
    late = query(
        eventuous_database,
        f"SELECT s.stream_name FROM {MAIN}.messages m JOIN "
        f"{MAIN}.streams s USING (stream_id) GROUP BY s.stream_name "
        "HAVING min(m.stream_position) > 0",
    )
    assert late == [(facts.TRUNCATED_STREAM,)]


def test_a_partially_duplicate_retry_left_a_hole(eventuous_database: str) -> None:
    kept = positions(eventuous_database, MAIN, facts.HOLE_STREAM)
    assert facts.HOLE_POSITION not in kept
    assert kept == [p for p in range(facts.HOLE_POSITION + 2) if p != facts.HOLE_POSITION]


def test_global_position_has_identity_gaps(eventuous_database: str) -> None:
    ((count, highest),) = query(
        eventuous_database, f"SELECT count(*), max(global_position) FROM {MAIN}.messages"
    )
    deleted_by_truncation = facts.TRUNCATED_BEFORE
    assert highest - count - deleted_by_truncation >= facts.RETRIED_APPENDS


def test_causation_runs_from_payment_streams_into_booking_streams(eventuous_database: str) -> None:
    pairs = query(
        eventuous_database,
        f"SELECT booking.json_metadata->>'{facts.CORRELATION_KEY}', "
        f"payment.json_metadata->>'{facts.CORRELATION_KEY}' "
        f"FROM {MAIN}.messages booking JOIN {MAIN}.messages payment "
        f"ON booking.json_metadata->>'{facts.CAUSATION_KEY}' = payment.message_id::text "
        "WHERE booking.message_type = 'V1.PaymentRecorded' "
        "AND payment.message_type = 'V1.PaymentRegistered' "
        "AND booking.stream_id <> payment.stream_id",
    )
    recorded = query(
        eventuous_database,
        f"SELECT count(*) FROM {MAIN}.messages "
        "WHERE message_type = 'V1.PaymentRecorded' "
        "AND json_metadata IS NOT NULL",
    )
    assert len(pairs) == recorded[0][0] > 100
    # one correlation id along the chain (where the payment was written with metadata)
    assert all(ours == theirs for ours, theirs in pairs if theirs is not None)
    assert (
        query(
            eventuous_database, f"SELECT count(*) FROM {MAIN}.messages WHERE json_metadata IS NULL"
        )[0][0]
        > 0
    )


def test_checkpoints_with_lag(eventuous_database: str) -> None:
    checkpoints = dict(query(eventuous_database, f"SELECT id, position FROM {MAIN}.checkpoints"))
    ((head,),) = query(eventuous_database, f"SELECT max(global_position) FROM {MAIN}.messages")
    assert checkpoints[facts.CAUGHT_UP_CHECKPOINT] == head
    behind = query(
        eventuous_database,
        f"SELECT count(*) FROM {MAIN}.messages WHERE global_position > %s",
        (checkpoints[facts.LAGGING_CHECKPOINT],),
    )
    assert behind == [(facts.LAGGING_BY_EVENTS,)]
    assert checkpoints[facts.UNSTARTED_CHECKPOINT] is None
    assert checkpoints[facts.STREAM_CHECKPOINT] == facts.STREAM_CHECKPOINT_POSITION


def test_types_names_and_payloads(eventuous_database: str) -> None:
    types = {
        t
        for (t,) in query(eventuous_database, f"SELECT DISTINCT message_type FROM {MAIN}.messages")
    }
    assert all(t.startswith("V1.") for t in types) and "V1.RoomBooked" in types
    names = {n for (n,) in query(eventuous_database, f"SELECT stream_name FROM {MAIN}.streams")}
    assert set(facts.HOSTILE_STREAM_NAMES) <= names
    assert query(
        eventuous_database,
        f"SELECT (m.json_data->'loyaltyNumber')::text FROM {MAIN}.messages m JOIN "
        f"{MAIN}.streams s USING (stream_id) WHERE s.stream_name = %s "
        "AND m.json_data ? 'loyaltyNumber'",
        (facts.BIG_LOYALTY_STREAM,),
    ) == [(str(BIG_INT),)]
    guests = {
        g
        for (g,) in query(eventuous_database, f"SELECT json_data->>'guestId' FROM {MAIN}.messages")
    }
    assert guests & set(HOSTILE_STRINGS)
    # camelCase (System.Text.Json web defaults)
    assert query(
        eventuous_database, f"SELECT count(*) FROM {MAIN}.messages WHERE json_data ? 'BookingId'"
    ) == [(0,)]


def test_ledger_schema_is_a_separate_store_written_in_oslo_time(eventuous_database: str) -> None:
    main = positions(eventuous_database, MAIN, facts.SHARED_STREAM_NAME)
    ledger = positions(eventuous_database, LEDGER, facts.SHARED_STREAM_NAME)
    assert main and ledger and main != ledger
    types = query(eventuous_database, f"SELECT DISTINCT m.message_type FROM {LEDGER}.messages m")
    assert types == [("V1.LedgerEntryPosted",)]
    ((first,),) = query(eventuous_database, f"SELECT min(created) FROM {LEDGER}.messages")
    utc_start = START.replace(tzinfo=None)
    # Oslo is UTC+1 in February: the stored wall-clock time is an hour ahead of UTC.
    assert utc_start + timedelta(hours=1) <= first < utc_start + timedelta(hours=1, minutes=2)
    ((main_first,),) = query(eventuous_database, f"SELECT min(created) FROM {MAIN}.messages")
    assert utc_start <= main_first < utc_start + timedelta(minutes=2)
