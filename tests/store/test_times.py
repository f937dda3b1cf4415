"""`store.times`, the one time rule: naive means UTC everywhere, integers are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from eventscope.store import records, times

PLUS_TWO = timezone(timedelta(hours=2))


def test_naive_means_utc_and_aware_is_converted() -> None:
    naive = datetime(2026, 3, 31, 17, 0, 0, 123456)
    assert times.as_utc(naive) == naive.replace(tzinfo=UTC)
    assert times.as_utc(naive).tzinfo is UTC
    shifted = datetime(2026, 3, 31, 19, 0, tzinfo=PLUS_TWO)
    assert times.as_utc(shifted) == datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
    assert times.as_utc(shifted).tzinfo is UTC


def test_naive_utc_gives_the_wall_time_of_utc() -> None:
    shifted = datetime(2026, 3, 31, 19, 0, tzinfo=PLUS_TWO)
    assert times.naive_utc(shifted) == datetime(2026, 3, 31, 17, 0)
    assert times.naive_utc(datetime(2026, 1, 1, 5)) == datetime(2026, 1, 1, 5)


def test_micros_are_exact_where_a_float_is_not() -> None:
    moment = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    micros = times.to_micros(moment)
    assert micros == 253402300799999999
    assert round(moment.timestamp() * 1_000_000) != micros  # why integers
    assert times.from_micros(micros) == moment
    assert times.to_micros(datetime(1970, 1, 1, 0, 0, 0, 1)) == 1


def test_stored_time_reads_iso_text_or_says_none() -> None:
    assert times.stored_time("2026-03-31T19:00:00+02:00") == datetime(
        2026, 3, 31, 17, 0, tzinfo=UTC
    )
    assert times.stored_time("2026-03-31T17:00:00") == datetime(2026, 3, 31, 17, tzinfo=UTC)
    assert times.stored_time("yesterday") is None
    assert times.stored_time(1_700_000_000) is None
    assert times.stored_time("9999-12-31T23:59:59-01:00") is None  # past year 9999 in UTC


def test_records_names_the_same_rule_not_a_copy() -> None:
    for name in ("EPOCH", "TIMESTAMP_FORMAT", "to_micros", "from_micros"):
        assert getattr(records, name) is getattr(times, name)
    assert records.format_timestamp is times.format_timestamp
    assert records.parse_timestamp is times.parse_timestamp
