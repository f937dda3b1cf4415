"""Versions from Eventuous stream positions (`store/sources/eventuous/numbering.py`) and
the stream info's note, without a database."""

from __future__ import annotations

from eventscope.store.sources.eventuous.catalog import category
from eventscope.store.sources.eventuous.numbering import EMPTY, Numbering
from eventscope.store.sources.eventuous.rows import EventuousStreamInfo, parse_object


def test_a_contiguous_stream_is_position_plus_one() -> None:
    numbering = Numbering(0, 9, 10)
    assert [numbering.version_of(p) for p in range(10)] == list(range(1, 11))
    assert numbering.position_of(1) == 0 and numbering.missing == 0


def test_a_truncated_stream_counts_from_its_first_stored_position() -> None:
    numbering = Numbering(5, 12, 8)
    assert numbering.version_of(5) == 1 and numbering.position_of(8) == 12


def test_a_hole_keeps_versions_contiguous() -> None:
    numbering = Numbering(0, 4, 4, (0, 1, 2, 4))
    assert [numbering.version_of(p) for p in (0, 1, 2, 4)] == [1, 2, 3, 4]
    assert numbering.position_of(4) == 4 and numbering.missing == 1


def test_an_empty_stream() -> None:
    assert EMPTY.count == 0 and EMPTY.missing == 0


def test_notes_and_categories() -> None:
    plain = EventuousStreamInfo("Booking-1", "Booking", 2, 2, None, None)
    assert plain.history_note is None and plain.to_json()["history_note"] is None
    both = EventuousStreamInfo(
        "Booking-2", "Booking", 2, 2, None, None, truncated_before=5, missing_positions=2
    )
    assert both.history_note == (
        "history before position 5 was truncated (v1 is stream position 5); "
        "2 stream positions have no message (skipped duplicates)"
    )
    assert category("Booking-12-x") == "Booking" and category("solo") == "solo"
    assert category("-x") == ""


def test_documents_that_are_not_objects_are_reasons_not_errors() -> None:
    assert parse_object("[1]", "json_data") == ({}, "json_data is JSON but not an object (a list)")
    assert parse_object('{"n": 100000000000000000000000}', "json_data")[0] == {
        "n": 100000000000000000000000
    }
    assert parse_object(None, "json_metadata") == ({}, None)
    nested = '{"a": [1, {"b": -100000000000000000000001}], "f": 0.5}'
    assert parse_object(nested, "json_data")[0] == {
        "a": [1, {"b": -100000000000000000000001}],
        "f": 0.5,
    }
    assert parse_object('{"u": 18446744073709551615}', "json_data")[0] == {
        "u": 18446744073709551615
    }
