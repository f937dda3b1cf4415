"""The append path's fast helpers must produce exactly what the slow, readable
definitions produce: same timestamp text, same canonical JSON, same envelope bytes,
same hash chain. A difference would change stored bytes and hashes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from eventscope.store.errors import InvalidEvent
from eventscope.store.native.appending import (
    Memo,
    StreamState,
    as_prepared,
    chain_rows,
    prepare_batch,
    prepare_batches,
    timestamp_text,
)
from eventscope.store.native.canonical import (
    GENESIS_HASH,
    canonical_json,
    canonical_text,
    chain_hash,
    envelope_bytes,
)
from eventscope.store.native.chain import ENVELOPE_TEXT
from eventscope.store.records import NO_STREAM, NewEvent, format_timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

KEYS = st.text(max_size=8)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=20,
)
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)), UTC])


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=ZONES))
def test_timestamp_text_equals_format_timestamp(moment: datetime) -> None:
    assert timestamp_text(moment) == format_timestamp(moment)


def test_timestamp_text_of_early_years_and_whole_seconds() -> None:
    for moment in (
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 7, tzinfo=UTC),
    ):
        assert timestamp_text(moment) == format_timestamp(moment)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_canonical_text_is_canonical_json_decoded(value: object) -> None:
    assert canonical_text(value) == canonical_json(value).decode()


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(KEYS, JSON_VALUES, max_size=4),
    metadata=st.dictionaries(KEYS, JSON_VALUES, max_size=3),
    position=st.integers(1, 2**53 - 1),
    version=st.integers(1, 2**31),
    schema_version=st.integers(1, 1000),
    stream_id=st.text(min_size=1, max_size=20),
    stream_type=st.text(min_size=1, max_size=10),
    event_type=st.text(min_size=1, max_size=20),
)
def test_the_text_envelope_encodes_to_envelope_bytes(
    data, metadata, position, version, schema_version, stream_id, stream_type, event_type
) -> None:
    import orjson

    event_id = str(uuid.uuid4())
    occurred, recorded = "2026-01-05T08:00:00.000001Z", "2026-01-05T09:00:00.000000Z"
    data_text, metadata_text = canonical_text(data), canonical_text(metadata)
    try:
        quoted = [orjson.dumps(text).decode() for text in (event_type, stream_id, stream_type)]
    except orjson.JSONEncodeError:
        return  # lone surrogates: both paths refuse them
    text = ENVELOPE_TEXT % (
        data_text,
        event_id,
        quoted[0],
        metadata_text,
        occurred,
        position,
        recorded,
        schema_version,
        quoted[1],
        quoted[2],
        version,
    )
    assert text.encode() == envelope_bytes(
        position=position,
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        data_json=data_text.encode(),
        metadata_json=metadata_text.encode(),
        occurred_at=occurred,
        recorded_at=recorded,
    )


def _events(count: int, moment: datetime) -> list[NewEvent]:
    shared = {"actor": "ann", "correlation_id": "c-1"}
    return [
        NewEvent(
            "Déposé" if n % 3 else "Deposited",
            {"amount": n, "note": 'café \u2028 "quoted"', "rate": 0.25},
            shared if n % 2 else {"actor": "bob", "causation_id": f"x-{n}"},
            recorded_at=moment if n % 4 else moment + timedelta(seconds=n),
            occurred_at=None if n % 5 else moment - timedelta(days=1),
        )
        for n in range(count)
    ]


def test_chain_rows_hash_chain_matches_the_definition() -> None:
    """Every row's hash is sha256(previous || envelope_bytes(...)) from genesis, with
    positions, versions and recorded_at assigned as the store documents."""
    moment = datetime(2026, 1, 5, 8, tzinfo=UTC)
    items = [
        ("acct-1", _events(5, moment), NO_STREAM, "account"),
        ("acct-2", _events(4, moment + timedelta(minutes=1)), NO_STREAM, None),
        ("acct-1", _events(3, moment + timedelta(minutes=2)), 5, None),
    ]
    prepared = prepare_batches(items, 1 << 20)
    states: dict[str, StreamState] = {}
    chained = chain_rows(prepared, states, 0, GENESIS_HASH, "2026-01-01T00:00:00.000000Z", "")
    previous = None
    versions: dict[str, int] = {}
    for index, row in enumerate(chained.rows, start=1):
        (position, event_id, stream_id, stream_type, version, event_type, schema_version) = row[:7]
        versions[stream_id] = versions.get(stream_id, 0) + 1
        assert (position, version) == (index, versions[stream_id])
        envelope = envelope_bytes(
            position=position,
            stream_id=stream_id,
            stream_type=stream_type,
            version=version,
            event_id=event_id,
            event_type=event_type,
            schema_version=schema_version,
            data_json=row[7].encode(),
            metadata_json=row[8].encode(),
            occurred_at=row[9],
            recorded_at=row[10],
        )
        previous = chain_hash(previous, envelope)
        assert row[14] == previous
    assert chained.head.hex() == previous and chained.position == 12
    assert states["acct-1"].version == 8 and states["acct-2"].stream_type == "acct"
    assert states["acct-1"].first_position == 1 and states["acct-1"].last_position == 12
    # records mirror the rows; asking for none changes no row
    records = [r for batch in chained.results for r in batch]
    assert [(r.position, r.hash, r.data) for r in records][:1] == [
        (1, chained.rows[0][14], {"amount": 0, "note": 'café \u2028 "quoted"', "rate": 0.25})
    ]
    bare = chain_rows(
        prepare_batches(items, 1 << 20),
        {},
        0,
        GENESIS_HASH,
        "2026-01-01T00:00:00.000000Z",
        "",
        records=False,
    )
    assert bare.rows == chained.rows and bare.results == [[], [], []]


def test_a_shared_memo_changes_nothing() -> None:
    moment = datetime(2026, 1, 5, 8, tzinfo=UTC)
    items = [("s-1", _events(6, moment)), ("s-2", _events(6, moment))]
    shared = prepare_batches(items, 1 << 20)
    alone = [prepare_batch(item, 1 << 20) for item in items]
    assert shared == alone
    memo = Memo()
    assert [prepare_batch(item, 1 << 20, memo) for item in items] == alone


def test_recorded_at_going_back_is_refused_by_chain_rows() -> None:
    moment = datetime(2026, 1, 5, 8, tzinfo=UTC)
    prepared = prepare_batches([("s-1", [NewEvent("X", {}, recorded_at=moment)])], 1 << 20)
    try:
        chain_rows(prepared, {}, 0, GENESIS_HASH, "2027-01-01T00:00:00.000000Z", "2027")
    except InvalidEvent as exc:
        assert "back in time" in str(exc)
    else:
        raise AssertionError("a recorded_at before the store's latest was accepted")


def test_as_prepared_rebuilds_a_sent_tuple_and_refuses_a_short_one() -> None:
    [(_, [event], _, _)] = prepare_batches([("s-1", [NewEvent("X", {"a": 1})])], 1 << 20)
    assert as_prepared(tuple(event)) == event and type(as_prepared(tuple(event))) is type(event)
    try:
        as_prepared(tuple(event)[:-1])
    except InvalidEvent:
        pass
    else:
        raise AssertionError("a prepared event with a missing field was accepted")
