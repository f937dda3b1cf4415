"""The native store's own contract (appends, expected versions, idempotency, atomicity,
time, derived claims, the hash chain, read-only sessions, and the native read paths'
mechanics), run on a SQLite file and on the real PostgreSQL server.

Every test states a semantic of the store and checks it against the database
(positions, versions, catalog, chain), so a broken implementation fails it. The read
contract every source kind shares is `tests/sources/test_read_contract.py`.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import UTC, datetime, timedelta

import eventscope.store.native.reading as reading_module
import pytest
from eventscope.store import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    EventFilter,
    EventSource,
    IdempotencyConflict,
    InvalidEvent,
    NewEvent,
    ReadOnlyError,
)
from eventscope.store.native.canonical import canonical_json, chain_hash, envelope_bytes
from eventscope.store.records import format_timestamp

# Override the `backend` fixture for tests about one backend's own mechanisms.
ONLY_SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
ONLY_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)


def ev(event_type: str = "Noted", **data: object) -> NewEvent:
    return NewEvent(event_type=event_type, data=dict(data))


def snapshot_of(store) -> tuple:
    """Everything observable about the event log, to prove 'nothing was written'."""
    return (
        store.head_position(),
        store.head_digest(),
        [(s.stream_id, s.version) for s in store.streams(limit=1000)],
    )


# --- appending and reading -------------------------------------------------------------
def test_append_returns_records_with_positions_versions_and_chain(store) -> None:
    first = store.append(
        "acct-1",
        [
            NewEvent(
                event_type="Deposited",
                data={"amount": 10},
                metadata={"actor": "ann", "correlation_id": "c-1"},
            )
        ],
        expected_version=NO_STREAM,
        stream_type="account",
    )
    more = store.append("acct-1", [ev(amount=5), ev(amount=7)], expected_version=1)
    records = first + more
    assert [r.position for r in records] == [1, 2, 3]
    assert [r.version for r in records] == [1, 2, 3]
    assert {r.stream_type for r in records} == {"account"}
    assert records[0].actor == "ann" and records[0].correlation_id == "c-1"
    assert list(store.read_stream("acct-1")) == records
    assert isinstance(store, EventSource)
    # The chain is hash(prev || canonical envelope), genesis 32 zero bytes.
    previous = None
    for r in records:
        envelope = envelope_bytes(
            position=r.position,
            stream_id=r.stream_id,
            stream_type=r.stream_type,
            version=r.version,
            event_id=r.event_id,
            event_type=r.event_type,
            schema_version=r.schema_version,
            data_json=canonical_json(r.data),
            metadata_json=canonical_json(r.metadata),
            occurred_at=format_timestamp(r.occurred_at),
            recorded_at=format_timestamp(r.recorded_at),
        )
        assert r.hash == chain_hash(previous, envelope)
        previous = r.hash


def test_stream_type_defaults_to_id_prefix_and_is_fixed_by_first_append(store) -> None:
    assert store.append("order-9", [ev()])[0].stream_type == "order"
    assert store.append("plain", [ev()])[0].stream_type == "plain"
    with pytest.raises(InvalidEvent, match="is of type 'order'"):
        store.append("order-9", [ev()], stream_type="invoice")
    assert store.append("order-9", [ev()], stream_type="order")[0].version == 2


def test_records_persist_across_reopen(store_factory) -> None:
    writer = store_factory()
    written = writer.append("s-1", [ev(n=1), ev(n=2)])
    writer.close()
    reader = store_factory(read_only=True)
    assert list(reader.read_stream("s-1")) == written
    assert reader.verify().ok


def test_read_stream_ranges_backwards_and_unknown_stream(store, monkeypatch) -> None:
    monkeypatch.setattr(reading_module, "STREAM_CHUNK", 3)  # exercise keyset chunking
    store.append("s-1", [ev(n=i) for i in range(10)])
    store.append("other", [ev()])
    assert [e.version for e in store.read_stream("s-1")] == list(range(1, 11))
    assert [e.version for e in store.read_stream("s-1", 4, 8)] == [4, 5, 6, 7, 8]
    assert [e.version for e in store.read_stream("s-1", backwards=True)] == list(range(10, 0, -1))
    assert [e.version for e in store.read_stream("s-1", 2, 6, backwards=True)] == [6, 5, 4, 3, 2]
    assert list(store.read_stream("missing")) == []


def test_read_all_positions_limits_and_backwards(store, monkeypatch) -> None:
    monkeypatch.setattr(reading_module, "READ_CHUNK", 4)
    for i in range(5):
        store.append(f"s-{i}", [ev(n=i), ev(n=i)])
    assert [e.position for e in store.read_all()] == list(range(1, 11))
    assert [e.position for e in store.read_all(3)] == list(range(4, 11))
    assert [e.position for e in store.read_all(3, 6)] == [4, 5, 6]
    assert [e.position for e in store.read_all(0, limit=6)] == [1, 2, 3, 4, 5, 6]
    assert [e.position for e in store.read_all(backwards=True, limit=3)] == [10, 9, 8]
    assert [e.position for e in store.read_all(5, backwards=True)] == [4, 3, 2, 1]
    assert store.event_at(7).position == 7
    assert store.event_at(99) is None
    assert store.head_position() == 10 and store.event_count() == 10


def test_read_all_filters_match_literally(store) -> None:
    t0 = datetime.now(UTC) + timedelta(days=1)
    store.append(
        "acct-1",
        [NewEvent("Deposited", {"a": 1}, {"actor": "ann", "correlation_id": "c-1"})],
        stream_type="account",
    )
    store.append(
        "acct-2",
        [NewEvent("Withdrawn", {"a": 2}, {"actor": "bob", "correlation_id": "c-1"})],
        stream_type="account",
    )
    store.append("a%_x", [NewEvent("Deposit%", {"a": 3}, {"actor": "a%"}, recorded_at=t0)])
    store.append("order-1", [NewEvent("Placed", {"a": 4}, {"causation_id": "x"})])

    def positions(**kwargs: object) -> list[int]:
        flt = EventFilter(**kwargs)
        found = [e.position for e in store.read_all(filter=flt)]
        assert store.count_events(flt) == len(found)
        return found

    assert positions(actor="ann") == [1]
    assert positions(correlation_id="c-1") == [1, 2]
    assert positions(event_types=["Deposited", "Placed"]) == [1, 4]
    assert positions(event_types=["Deposit%"]) == [3]
    assert positions(event_types=[]) == []
    assert positions(stream_type="account") == [1, 2]
    assert positions(stream_id="acct-2") == [2]
    assert positions(stream_prefix="acct") == [1, 2]
    assert positions(stream_prefix="a%") == [3]
    assert positions(stream_prefix="a_") == []
    assert positions(actor="a_") == []
    assert positions(actor="'; DROP TABLE events; --") == []
    assert positions(since=t0) == [3, 4]  # recorded_at never goes back after t0
    assert positions(until=t0) == [1, 2]
    assert positions(stream_type="account", actor="bob") == [2]
    assert store.head_position() == 4


def test_event_histogram_counts_every_filtered_event(store) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in (0, 1, 1, 2, 9, 10):
        store.append(
            "s-1", [NewEvent("Tick", {"h": hour}, recorded_at=base + timedelta(hours=hour))]
        )
    buckets = store.event_histogram(5)
    assert len(buckets) == 5
    assert [count for _, count in buckets] == [3, 1, 0, 0, 2]  # 2-hour slices
    assert buckets[0][0] == base
    assert buckets[1][0] == base + timedelta(hours=2)
    only = store.event_histogram(2, EventFilter(since=base + timedelta(hours=1)))
    assert sum(count for _, count in only) == 5
    assert store.event_histogram(3, EventFilter(actor="nobody")) == []


# --- expected version -----------------------------------------------------------------
def test_expected_version_mismatch_names_stream_and_writes_nothing(store) -> None:
    store.append("s-1", [ev(), ev()], expected_version=NO_STREAM)
    before = snapshot_of(store)
    with pytest.raises(ConcurrencyError) as caught:
        store.append("s-1", [ev()], expected_version=NO_STREAM)
    assert "'s-1'" in str(caught.value) and "version 2" in str(caught.value)
    with pytest.raises(ConcurrencyError, match=r"expected at version 1 but is at version 2"):
        store.append("s-1", [ev()], expected_version=1)
    with pytest.raises(ConcurrencyError, match="is at no stream"):
        store.append("new-1", [ev()], expected_version=3)
    assert snapshot_of(store) == before
    assert store.append("s-1", [ev()], expected_version=2)[0].version == 3
    assert store.append("s-1", [ev()], expected_version=ANY)[0].version == 4


def test_append_streams_is_one_atomic_transaction(store) -> None:
    store.append("b-1", [ev()])
    before = snapshot_of(store)
    with pytest.raises(ConcurrencyError):
        store.append_streams(
            [("a-1", [ev(), ev()], NO_STREAM, None), ("b-1", [ev()], NO_STREAM, None)]
        )
    assert snapshot_of(store) == before
    results = store.append_streams(
        [("a-1", [ev(), ev()], NO_STREAM, "alpha"), ("b-1", [ev()], 1, None), ("a-1", [ev()], 2)]
    )
    assert [[(r.stream_id, r.version, r.position) for r in batch] for batch in results] == [
        [("a-1", 1, 2), ("a-1", 2, 3)],
        [("b-1", 2, 4)],
        [("a-1", 3, 5)],
    ]
    assert store.stream_info("a-1").stream_type == "alpha"
    assert store.verify().ok


# --- idempotency ----------------------------------------------------------------------
def test_same_event_id_same_content_returns_original_and_stores_nothing(store) -> None:
    event = NewEvent("Deposited", {"amount": 10}, {"actor": "ann"})
    original = store.append("s-1", [event, ev()], expected_version=NO_STREAM)
    head = store.head_digest()
    # A retry after a lost acknowledgement: same ids, now-stale expected version.
    again = store.append("s-1", [event, _same(original[1])], NO_STREAM)
    assert again == original
    assert store.append("s-1", [event]) == original[:1]
    assert store.head_digest() == head


def _same(record) -> NewEvent:
    return NewEvent(
        event_type=record.event_type,
        data=record.data,
        metadata=record.metadata,
        event_id=uuid.UUID(record.event_id),
    )


def test_same_event_id_other_content_is_refused(store) -> None:
    event_id = uuid.uuid4()
    store.append("s-1", [NewEvent("A", {"x": 1}, event_id=event_id)])
    before = snapshot_of(store)
    with pytest.raises(IdempotencyConflict, match=f"{event_id}.*position 1"):
        store.append("s-1", [NewEvent("A", {"x": 2}, event_id=event_id)])
    with pytest.raises(IdempotencyConflict):
        store.append("s-2", [NewEvent("A", {"x": 1}, event_id=event_id)])
    with pytest.raises(InvalidEvent, match="mixes events already stored"):
        store.append("s-1", [NewEvent("A", {"x": 1}, event_id=event_id), ev()])
    with pytest.raises(InvalidEvent, match="appears twice"):
        store.append("s-3", [NewEvent("A", {}, event_id=event_id)] * 2)
    assert snapshot_of(store) == before


def test_event_id_uniqueness_is_a_database_constraint(store, store_factory) -> None:
    [record] = store.append("s-1", [ev()])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        store_factory.raw_execute(
            "INSERT INTO events (position, event_id, stream_id, stream_type, version, "
            "event_type, schema_version, data, metadata, occurred_at, recorded_at, hash) "
            "VALUES (2, :id, 's-2', 's', 1, 'X', 1, '{}', '{}', 'x', 'x', 'h')",
            {"id": record.event_id},
        )


# --- atomicity and bad input ------------------------------------------------------------
def test_one_invalid_payload_in_a_batch_stores_nothing(store) -> None:
    store.append("s-1", [ev()])
    before = snapshot_of(store)
    batch = [ev(i=i) for i in range(100)]
    batch[56] = NewEvent("Bad", {"value": math.nan})
    with pytest.raises(InvalidEvent, match="NaN"):
        store.append("s-1", batch)
    assert snapshot_of(store) == before
    assert store.stream_info("s-1").version == 1
    assert store.verify().ok


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (NewEvent("X", [1, 2]), "must be a JSON object"),  # type: ignore[arg-type]
        (NewEvent("X", {"a": 1}, metadata="actor"), "metadata must be a JSON object"),  # type: ignore[arg-type]
        (NewEvent("X", {"when": datetime(2020, 1, 1)}), "not a JSON value"),
        (NewEvent("X", {"s": {1, 2}}), "not a JSON value"),
        (NewEvent("X", {"v": float("inf")}), "NaN or Infinity"),
        (NewEvent("X", {"big": 2**60}), "beyond 2\\^53"),
        (NewEvent("X", {1: "a"}), "non-string object key"),
        (NewEvent("", {}), "event type"),
        (NewEvent("X", {"a": "x" * 3000}), "over the limit of 2048 bytes"),
    ],
)
def test_bad_input_is_a_clear_error_and_stores_nothing(store_factory, event, message) -> None:
    store = store_factory(max_payload_bytes=2048)
    store.append("s-1", [ev()])
    before = snapshot_of(store)
    with pytest.raises(InvalidEvent, match=message):
        store.append("s-1", [ev(), event])
    assert snapshot_of(store) == before


def test_bad_stream_ids_and_expected_versions_are_refused(store) -> None:
    for bad in ("", None, 5):
        with pytest.raises(InvalidEvent, match="stream id"):
            store.append(bad, [ev()])  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent, match="expected_version"):
        store.append("s-1", [ev()], expected_version=-1)
    with pytest.raises(InvalidEvent, match="list of NewEvent"):
        store.append("s-1", ev())  # type: ignore[arg-type]
    assert store.head_position() == 0


def test_default_payload_limit_is_one_mebibyte(store) -> None:
    with pytest.raises(InvalidEvent, match="1048576"):
        store.append("s-1", [NewEvent("Big", {"blob": "x" * 1_048_600})])
    assert store.append("s-1", [NewEvent("Fits", {"blob": "x" * 1_000_000})])[0].position == 1


# --- time -----------------------------------------------------------------------------
def test_recorded_at_never_decreases_even_when_the_clock_is_behind(store) -> None:
    future = datetime.now(UTC) + timedelta(hours=3)
    store.append("s-1", [NewEvent("Backfill", {}, recorded_at=future)])
    # The wall clock is now three hours behind the last recorded time.
    later = store.append("s-1", [ev(), ev()])
    assert all(r.recorded_at >= future for r in later)
    times = [e.recorded_at for e in store.read_all()]
    assert times == sorted(times)
    with pytest.raises(InvalidEvent, match="cannot go back in time"):
        store.append("s-1", [NewEvent("Late", {}, recorded_at=future - timedelta(seconds=1))])
    assert store.head_position() == 3
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)


def test_occurred_at_defaults_to_recorded_at_and_may_be_backdated(store) -> None:
    backdated = datetime(2020, 3, 31, 17, 0, tzinfo=UTC)
    [a, b] = store.append("s-1", [ev(), NewEvent("Old", {}, occurred_at=backdated)])
    assert a.occurred_at == a.recorded_at
    assert b.occurred_at == backdated
    assert store.event_at(2).occurred_at == backdated


# --- catalog ----------------------------------------------------------------------------
def test_streams_catalog_paging_prefix_and_types(store) -> None:
    store.append_streams(
        [(f"acct-{i:03d}", [ev()] * 0 + [ev(), ev()], NO_STREAM, "account") for i in range(7)]
        + [(f"order-{i}", [ev()], NO_STREAM, None) for i in range(3)]
    )
    first = store.streams(stream_type="account", limit=3)
    assert [s.stream_id for s in first] == ["acct-000", "acct-001", "acct-002"]
    second = store.streams(stream_type="account", after=first[-1].stream_id, limit=3)
    assert [s.stream_id for s in second] == ["acct-003", "acct-004", "acct-005"]
    assert [s.stream_id for s in store.streams(prefix="order-")] == [
        "order-0",
        "order-1",
        "order-2",
    ]
    assert store.stream_types() == [("account", 7), ("order", 3)]
    assert store.count_streams() == 10
    assert store.count_streams(stream_type="order") == 3
    assert store.count_streams(prefix="acct-00") == 7
    info = store.stream_info("acct-003")
    assert (info.version, info.event_count, info.first_position, info.last_position) == (
        2,
        2,
        7,
        8,
    )
    assert info.first_recorded_at <= info.last_recorded_at
    assert store.stream_info("nope") is None


# --- derived data -----------------------------------------------------------------------
def test_snapshots_checkpoints_and_projection_rows(store) -> None:
    store.append("s-1", [ev(), ev(), ev()])
    store.save_snapshot("s-1", 1, {"n": 1}, "Counter")
    store.save_snapshot("s-1", 3, {"n": 3}, "Counter", schema_version=2, code_version="abc")
    assert [s.version for s in store.snapshots("s-1")] == [1, 3]
    assert store.snapshot_at("s-1", 2).state == {"n": 1}
    latest = store.snapshot_at("s-1", 10)
    assert (latest.state, latest.schema_version, latest.code_version) == ({"n": 3}, 2, "abc")
    assert store.snapshot_at("s-1", 0) is None
    store.save_snapshot("s-1", 3, {"n": 33}, "Counter")  # replacing is allowed
    assert store.snapshot_at("s-1", 3).state == {"n": 33}

    store.put_projection_rows("totals", [("b", {"t": 2}, 2), ("a", {"t": 1}, 1)], checkpoint=2)
    store.put_projection_rows("totals", [("a", {"t": 9}, 3)], checkpoint=3)
    store.save_checkpoint("other", 1)
    assert store.checkpoints() == {"other": 1, "totals": 3}
    assert [(r.key, r.document, r.position) for r in store.projection_rows("totals")] == [
        ("a", {"t": 9}, 3),
        ("b", {"t": 2}, 2),
    ]
    assert [r.key for r in store.projection_rows("totals", after="a")] == ["b"]
    assert store.projection_row("totals", "b").document == {"t": 2}
    assert store.projection_row("totals", "zz") is None
    assert store.projection_names() == ["other", "totals"]
    with pytest.raises(InvalidEvent):
        store.put_projection_rows("totals", [("c", {"t": math.nan}, 4)], checkpoint=4)
    assert store.checkpoints()["totals"] == 3  # rows and checkpoint move together
    store.clear_projection("totals")
    assert store.projection_rows("totals") == [] and "totals" not in store.checkpoints()


# --- integrity --------------------------------------------------------------------------
def _populated(store) -> None:
    for i in range(6):
        store.append(
            f"s-{i % 2}",
            [NewEvent("Noted", {"i": i, "text": "é\u2028\x1b"}, {"actor": f"u{i}"})],
        )


def test_verify_and_head_digest_on_a_good_history(store) -> None:
    assert store.verify().ok and store.verify().checked == 0
    assert store.head_digest().position == 0
    _populated(store)
    report = store.verify()
    assert (report.ok, report.checked, report.first_bad_position) == (True, 6, None)
    digest = store.head_digest()
    assert digest.position == 6 and digest.hash == store.event_at(6).hash
    assert report.head == digest
    assert store.verify(against=digest).ok
    seen: list[tuple[int, int]] = []
    store.verify(progress=lambda checked, total: seen.append((checked, total)))
    assert seen[-1] == (6, 6)


def test_tamper_edited_payload(store, store_factory) -> None:
    _populated(store)
    store_factory.raw_execute("UPDATE events SET data = :d WHERE position = 4", {"d": '{"i":99}'})
    report = store.verify()
    # Walked to the end; event 5 still links to the stored hash of 4, so only 4 is bad.
    assert (report.ok, report.first_bad_position, report.checked) == (False, 4, 6)
    assert [(bad.position, bad.kind) for bad in report.bad_positions] == [(4, "link")]
    assert report.bad_count == 1


def test_tamper_edited_metadata_field(store, store_factory) -> None:
    _populated(store)
    store_factory.raw_execute(
        "UPDATE events SET metadata = :m, actor = 'mallory' WHERE position = 2",
        {"m": '{"actor":"mallory"}'},
    )
    assert store.verify().first_bad_position == 2


def test_tamper_deleted_event(store, store_factory) -> None:
    _populated(store)
    store_factory.raw_execute("DELETE FROM events WHERE position = 3")
    report = store.verify()
    assert (report.ok, report.first_bad_position) == (False, 3)


def test_tamper_swapped_events(store, store_factory) -> None:
    _populated(store)
    # Swap the content (and stored hashes) of positions 2 and 5, keeping positions.
    store_factory.raw_execute("UPDATE events SET position = -2 WHERE position = 2")
    store_factory.raw_execute("UPDATE events SET position = 2 WHERE position = 5")
    store_factory.raw_execute("UPDATE events SET position = 5 WHERE position = -2")
    assert store.verify().first_bad_position == 2


def test_tamper_forged_rehashed_event_is_caught_by_the_next_link(store, store_factory) -> None:
    _populated(store)
    # A forger edits event 6 and recomputes its hash; only an outside digest catches it.
    digest = store.head_digest()
    old = store.event_at(6)
    forged_data = canonical_json({"i": 1000})
    envelope = envelope_bytes(
        position=6,
        stream_id=old.stream_id,
        stream_type=old.stream_type,
        version=old.version,
        event_id=old.event_id,
        event_type=old.event_type,
        schema_version=old.schema_version,
        data_json=forged_data,
        metadata_json=canonical_json(old.metadata),
        occurred_at=format_timestamp(old.occurred_at),
        recorded_at=format_timestamp(old.recorded_at),
    )
    forged_hash = chain_hash(store.event_at(5).hash, envelope)
    store_factory.raw_execute(
        "UPDATE events SET data = :d, hash = :h WHERE position = 6",
        {"d": forged_data.decode(), "h": forged_hash},
    )
    # The head record still names the old hash: that alone gives the forgery away...
    caught = store.verify()
    assert not caught.ok and [bad.kind for bad in caught.bad_positions] == ["head"]
    store_factory.raw_execute("UPDATE chain_head SET hash = :h WHERE id = 1", {"h": forged_hash})
    assert store.verify().ok  # ...and with it rewritten too, internally consistent...
    report = store.verify(against=digest)
    assert (report.ok, report.first_bad_position) == (False, 6)  # ...but not what was kept


def test_tamper_truncated_tail_needs_the_digest(store, store_factory) -> None:
    _populated(store)
    digest = store.head_digest()
    store_factory.raw_execute("DELETE FROM events WHERE position > 4")
    store_factory.raw_execute("UPDATE chain_head SET position = 4")
    cut = store.verify()  # a cut chain is still a chain; only the catalog remembers more
    assert (cut.ok, cut.first_bad_position, cut.bad_count) == (False, None, 0)
    assert any("the events say 4" in problem for problem in cut.catalog_problems)
    report = store.verify(against=digest)
    assert (report.ok, report.first_bad_position) == (False, 5)
    assert "removed from the tail" in report.reason


def test_truncated_tail_without_updating_the_head_row_is_caught(store, store_factory) -> None:
    _populated(store)
    store_factory.raw_execute("DELETE FROM events WHERE position = 6")
    assert store.verify().first_bad_position == 6


# --- read-only --------------------------------------------------------------------------
def test_every_write_on_a_read_only_store_is_refused(store_factory) -> None:
    writer = store_factory()
    writer.append("s-1", [ev()])
    writer.close()
    reader = store_factory(read_only=True)
    before = snapshot_of(reader)
    writes = [
        lambda: reader.append("s-1", [ev()]),
        lambda: reader.append_streams([("s-2", [ev()], ANY, None)]),
        lambda: reader.save_snapshot("s-1", 1, {}, "T"),
        lambda: reader.save_checkpoint("p", 1),
        lambda: reader.put_projection_rows("p", [("k", {}, 1)], checkpoint=1),
        lambda: reader.clear_projection("p"),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyError, match="opened read-only"):
            write()
    assert snapshot_of(reader) == before
    assert reader.describe().read_only is True
    assert reader.describe().has_hash_chain is True


@ONLY_POSTGRES
def test_postgres_read_only_sessions_are_read_only_transactions(store_factory) -> None:
    store_factory().close()
    reader = store_factory(read_only=True)
    with reader.connect() as conn:
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
        with pytest.raises(Exception, match="read-only transaction"):
            conn.exec_driver_sql("DELETE FROM events")


@ONLY_SQLITE
def test_read_only_session_leaves_the_sqlite_file_byte_identical(store_factory) -> None:
    writer = store_factory()
    _populated(writer)
    writer.save_snapshot("s-0", 1, {"a": 1}, "T")
    writer.close()
    before = hashlib.sha256(store_factory.path.read_bytes()).hexdigest()
    reader = store_factory(read_only=True)
    list(reader.read_all())
    list(reader.read_stream("s-1", backwards=True))
    reader.streams()
    reader.stream_types()
    reader.verify()
    reader.event_histogram(10)
    reader.snapshots("s-0")
    reader.count_events(EventFilter(actor="u1"))
    with pytest.raises(ReadOnlyError):
        reader.append("s-1", [ev()])
    reader.close()
    assert hashlib.sha256(store_factory.path.read_bytes()).hexdigest() == before


@ONLY_SQLITE
def test_sqlite_connections_use_wal_full_sync_and_busy_timeout(store_factory) -> None:
    store = store_factory()

    def pragmas(s) -> tuple:
        with s.connect() as conn:
            run = conn.exec_driver_sql
            return (
                run("PRAGMA journal_mode").scalar(),
                run("PRAGMA synchronous").scalar(),
                run("PRAGMA busy_timeout").scalar(),
            )

    assert pragmas(store) == ("wal", 2, 10_000)
    assert pragmas(store_factory(synchronous="NORMAL"))[1] == 1
    with pytest.raises(ValueError, match="synchronous"):
        store_factory(synchronous="OFF")


def test_naive_datetimes_mean_utc(store) -> None:
    naive = datetime(2030, 1, 1, 12, 0)
    [record] = store.append("s-1", [NewEvent("X", {}, recorded_at=naive)])
    assert record.recorded_at == naive.replace(tzinfo=UTC)


def test_retry_of_an_event_holding_a_huge_integral_float_is_still_idempotent(store) -> None:
    # 2.0**60 is stored as the literal 1152921504606846976, which decodes to an int the
    # validator would refuse; the retry must compare stored text and succeed.
    event = NewEvent("Measured", {"value": 2.0**60})
    original = store.append("s-1", [event])
    assert store.append("s-1", [event], expected_version=NO_STREAM) == original
    assert store.head_position() == 1


def test_records_built_on_the_fast_path_equal_the_dataclass(store) -> None:
    from eventscope.store import RecordedEvent

    [appended] = store.append("s-1", [NewEvent("X", {"a": [1, 2.5]}, {"actor": "ann"})])
    [read] = list(store.read_stream("s-1"))
    fields = {name: getattr(read, name) for name in RecordedEvent.__dataclass_fields__}
    rebuilt = RecordedEvent(**fields)
    assert appended == read == rebuilt and repr(read) == repr(rebuilt)
    assert hash(read.event_id) == hash(rebuilt.event_id) and read.decode_error is None
    with pytest.raises(AttributeError):
        read.position = 5  # type: ignore[misc]  # still frozen


def test_prefix_filters_match_exactly_the_ids_that_start_with_the_prefix(store) -> None:
    ids = [
        "a",
        "a-1",
        "a%",
        "a_b",
        "a\\b",
        "ab",
        "a\uffff",
        "a\U0010ffff",
        "a\U0010ffffz",
        "a\ud7ffx",
        "a\ue000",
        "b",
        "é-1",
        "éa",
        "Z",
        "zz",
        "😀",
        "😀x",
    ]
    store.append_streams([(stream_id, [NewEvent("X", {})], NO_STREAM, "t") for stream_id in ids])
    # Keyset order is code-point order on both backends (PostgreSQL columns use "C").
    assert [s.stream_id for s in store.streams(limit=100)] == sorted(ids)
    page = store.streams(after="a_b", limit=3)
    assert [s.stream_id for s in page] == sorted(ids)[sorted(ids).index("a_b") + 1 :][:3]
    prefixes = {stream_id[:cut] for stream_id in ids for cut in range(1, len(stream_id) + 1)}
    for prefix in sorted(prefixes):
        expected = sorted(s for s in ids if s.startswith(prefix))
        assert sorted(s.stream_id for s in store.streams(prefix=prefix, limit=100)) == expected
        assert store.count_streams(prefix=prefix) == len(expected), prefix
        found = {e.stream_id for e in store.read_all(filter=EventFilter(stream_prefix=prefix))}
        assert found == set(expected), prefix


def test_a_damaged_row_reads_as_an_explained_event_on_every_read_path(store, store_factory) -> None:
    store.append("s-1", [ev(n=1), ev(n=2), ev(n=3)])
    store_factory.raw_execute("UPDATE events SET data = 'not json' WHERE position = 2")
    for events in (
        list(store.read_stream("s-1")),
        list(store.read_stream("s-1", backwards=True))[::-1],
        list(store.read_all()),
    ):
        assert [e.version for e in events] == [1, 2, 3]
        assert [e.decode_error is None for e in events] == [True, False, True]
        assert events[1].data == {} and "data" in events[1].decode_error
        assert events[1].stream_id == "s-1" and events[2].data == {"n": 3}


def test_events_sharing_one_metadata_dict_each_store_it(store) -> None:
    shared = {"actor": "ann", "correlation_id": "c-9"}
    records = store.append("s-1", [NewEvent("A", {"n": i}, shared) for i in range(3)])
    assert [r.metadata for r in records] == [shared] * 3
    assert [e.actor for e in store.read_all(filter=EventFilter(correlation_id="c-9"))] == [
        "ann"
    ] * 3
    # A different dict with other content right after is not confused with the shared one.
    [other] = store.append("s-1", [NewEvent("B", {}, {"actor": "bob"})])
    assert other.metadata == {"actor": "bob"} and store.verify().ok


def test_unfiltered_histogram_agrees_with_the_group_by_path(store) -> None:
    """The unfiltered histogram counts position ranges; a filter (even one matching
    everything) takes the GROUP BY path. Both must give the same buckets."""
    base = datetime(2026, 2, 1, tzinfo=UTC)
    offsets = [0, 0, 5, 59, 60, 60, 60, 61, 119.5, 120, 300, 300, 599, 600]
    for offset in offsets:
        moment = base + timedelta(seconds=offset)
        store.append("h-1", [NewEvent("Tick", {"o": offset}, recorded_at=moment)])
    end = base + timedelta(seconds=600)  # a batch sharing one recorded_at, at the end
    store.append("h-2", [NewEvent("Tick", {"k": k}, recorded_at=end) for k in range(3)])
    everything = EventFilter(since=datetime(2000, 1, 1, tzinfo=UTC))
    for buckets in (1, 2, 3, 5, 10, 60, 599):
        fast = store.event_histogram(buckets)
        slow = store.event_histogram(buckets, everything)
        assert fast == slow, buckets
        assert sum(count for _, count in fast) == len(offsets) + 3
    assert [count for _, count in store.event_histogram(5)] == [9, 1, 2, 0, 5]
