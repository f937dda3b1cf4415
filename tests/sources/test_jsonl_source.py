"""The JSON Lines format as issue 6 defines it: defaults, malformed lines (reported with
line numbers, skipped, counted, never fatal), the export's hash chain, lazy reads, and
the file never changing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from eventscope.store import Digest, EventFilter, NotAStoreError, StoreError
from eventscope.store.foreign import derived_event_id
from eventscope.store.sources.jsonl.export import write_jsonl
from eventscope.store.sources.jsonl.source import CHANGED, JsonlSource
from hypothesis import given, settings
from hypothesis import strategies as st
from sources_helpers import build_native, reference_history, sha256_of


def write_lines(path: Path, *lines: object) -> Path:
    """Objects become JSON lines; bytes/str are written as they are."""
    out = []
    for line in lines:
        if isinstance(line, bytes):
            out.append(line)
        elif isinstance(line, str):
            out.append(line.encode())
        else:
            out.append(orjson.dumps(line))
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def ev(stream_id: str, event_type: str = "Happened", **fields: object) -> dict:
    return {"stream_id": stream_id, "event_type": event_type, "data": {}, **fields}


def test_defaults_make_a_bare_file_a_complete_deterministic_history(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "h.jsonl",
        ev("order-7", "Placed", data={"total": 10}),
        "",  # a blank line: allowed, but it still counts as a line
        ev("order-7", "Paid", recorded_at="2026-01-02T10:00:00"),  # naive means UTC
        ev("order-8", "Placed", occurred_at="2026-01-02T12:00:00+02:00"),
        ev("plain", "Seen"),
    )
    with JsonlSource.open(path) as source:
        events = list(source.read_all())
        assert [(e.stream_id, e.version, e.position) for e in events] == [
            ("order-7", 1, 1),
            ("order-7", 2, 3),  # versions in file order; position = line number
            ("order-8", 1, 4),
            ("plain", 1, 5),
        ]
        first, paid, placed, plain = events
        assert first.stream_type == "order" and plain.stream_type == "plain"
        assert first.recorded_at == datetime(1970, 1, 1, tzinfo=UTC)  # nothing before it
        assert paid.recorded_at == paid.occurred_at == datetime(2026, 1, 2, 10, tzinfo=UTC)
        # No recorded_at: occurred_at stands in for it.
        assert placed.recorded_at == placed.occurred_at == datetime(2026, 1, 2, 10, tzinfo=UTC)
        # Nothing at all: the previous event's time (time never goes back).
        assert plain.recorded_at == placed.recorded_at
        assert first.event_id == derived_event_id("order-7", 1)
        assert str(uuid.UUID(first.event_id)) == first.event_id
        assert first.schema_version == 1 and first.metadata == {} and first.hash == ""
        assert first.data == {"total": 10}
    with JsonlSource.open(path) as again:
        assert list(again.read_all()) == events  # same file, same history (ids included)


BAD_LINES = [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (orjson.dumps({"event_type": "X", "data": {}}), "'stream_id' must be a non-empty text"),
    (orjson.dumps(ev("", "X")), "'stream_id' must be a non-empty text"),
    (orjson.dumps({"stream_id": "s-1", "data": {}}), "'event_type' must be a non-empty text"),
    (orjson.dumps(ev("s-1", data=[1])), "'data' must be a JSON object"),
    (orjson.dumps(ev("s-1", metadata="x")), "'metadata' must be a JSON object"),
    (orjson.dumps(ev("s-1", version=3)), "version 3 of stream 's-1' does not follow version 1"),
    (orjson.dumps(ev("s-1", version="2")), "version '2' of stream 's-1' does not follow"),
    (orjson.dumps(ev("s-1", position=1)), "position 1 is not after the previous position 1"),
    (orjson.dumps(ev("s-1", recorded_at="yesterday")), "'recorded_at' is not an ISO 8601 time"),
    (orjson.dumps(ev("s-1", occurred_at=5)), "'occurred_at' must be an ISO 8601 text"),
    (orjson.dumps(ev("s-1", stream_type="other")), "was given type 's' before, now 'other'"),
    (orjson.dumps(ev("s-1", schema_version=0)), "'schema_version' must be a positive integer"),
    (orjson.dumps(ev("s-1", hash="abc")), "'hash' must be 64 lowercase hexadecimal"),
    (orjson.dumps(ev("s-1", event_id=7)), "'event_id' must be a text"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LINES, ids=[m for _b, m in BAD_LINES])
def test_a_malformed_line_is_reported_with_its_number_and_skipped(
    tmp_path: Path, bad: bytes, message: str
) -> None:
    path = write_lines(tmp_path / "h.jsonl", ev("s-1", "A"), bad, ev("s-1", "B"))
    with JsonlSource.open(path) as source:
        assert source.malformed_count == 1
        [(line, reason)] = source.problems()
        assert line == 2 and message in reason
        # Skipped in every view; the good lines around it are intact.
        assert [(e.event_type, e.version, e.position) for e in source.read_all()] == [
            ("A", 1, 1),
            ("B", 2, 3),
        ]
        assert source.event_count() == 2 and source.stream_info("s-1").version == 2
        report = source.verify()
        assert not report.ok and report.malformed == 1 and report.checked == 2
        assert "line 2" in report.reason and message in report.reason


def test_a_file_with_no_readable_line_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "h.jsonl", b"hello", b"world")
    with pytest.raises(NotAStoreError) as caught:
        JsonlSource.open(path)
    message = str(caught.value)
    assert message.startswith(
        f"{path} holds no event eventscope can read as JSON Lines (line 1: not valid JSON ("
    )
    assert message.endswith("at column 1))") and "\n" not in message


def test_crlf_line_ends_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    body = b"\r\n".join(orjson.dumps(ev("s-1", data={"i": i})) for i in range(3))
    path.write_bytes(b"\xef\xbb\xbf" + body + b"\r\n")
    with JsonlSource.open(path) as source:
        assert source.malformed_count == 0
        assert [e.data for e in source.read_stream("s-1")] == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_a_file_without_final_newline_keeps_its_last_event(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(orjson.dumps(ev("s-1")) + b"\n" + orjson.dumps(ev("s-1", "Last")))
    with JsonlSource.open(path) as source:
        assert [e.event_type for e in source.read_all()] == ["Happened", "Last"]


def test_read_stream_ranges_and_filters_on_an_indexed_file(tmp_path: Path) -> None:
    lines = [
        ev(f"s-{i % 3}", ["A", "B"][i % 2], data={"i": i}, metadata={"actor": f"a{i % 2}"})
        for i in range(30)
    ]
    path = write_lines(tmp_path / "h.jsonl", *lines)
    with JsonlSource.open(path) as source:
        assert [e.data["i"] for e in source.read_stream("s-1", 2, 4)] == [4, 7, 10]
        assert [e.version for e in source.read_stream("s-1", 2, 4, backwards=True)] == [4, 3, 2]
        assert list(source.read_stream("s-1", 20)) == []
        actor = list(source.read_all(filter=EventFilter(actor="a1", stream_id="s-2")))
        assert [e.data["i"] for e in actor] == [5, 11, 17, 23, 29]
        assert source.count_events(EventFilter(actor="a1")) == 15
        assert [e.position for e in source.read_all(from_position=28, backwards=True)] == list(
            range(27, 0, -1)
        )


def test_verify_walks_the_exported_chain_and_names_the_tampered_position(
    tmp_path: Path,
) -> None:
    native = build_native(tmp_path / "n.db", reference_history(20))
    digest = native.head_digest()
    path = tmp_path / "e.jsonl"
    with open(path, "wb") as out:
        write_jsonl(native, out)
    native.close()
    with JsonlSource.open(path) as source:
        report = source.verify(against=digest)
        assert report.ok and report.checked == 20 and report.head == digest

    lines = path.read_bytes().splitlines()
    edited = orjson.loads(lines[6])
    edited["data"]["amount"] = 999_999
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"\n".join([*lines[:6], orjson.dumps(edited), *lines[7:]]) + b"\n")
    with JsonlSource.open(tampered) as source:
        report = source.verify()
        assert not report.ok and report.first_bad_position == 7

    cut = tmp_path / "deleted.jsonl"
    cut.write_bytes(b"\n".join([*lines[:4], *lines[5:]]) + b"\n")
    with JsonlSource.open(cut) as source:
        report = source.verify()
        assert not report.ok and report.first_bad_position == 5

    short = tmp_path / "short.jsonl"
    short.write_bytes(b"\n".join(lines[:15]) + b"\n")
    with JsonlSource.open(short) as source:
        assert source.verify().ok  # consistent on its own...
        report = source.verify(against=digest)  # ...but shorter than the kept digest
        assert not report.ok and report.first_bad_position == 16


def test_verify_without_a_chain_and_head_digest_say_so(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "h.jsonl", ev("s-1"), ev("s-1"))
    with JsonlSource.open(path) as source:
        report = source.verify()
        assert report.ok and report.checked == 2 and "no hash chain" in report.reason
        assert not source.verify(against=Digest(2, "0" * 64)).ok
        with pytest.raises(StoreError, match="carries no hash chain"):
            source.head_digest()
        assert not source.describe().has_hash_chain


def test_a_file_changed_after_indexing_shows_marked_events_not_errors(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "h.jsonl", *[ev("s-1", data={"i": i}) for i in range(5)])
    with JsonlSource.open(path) as source:
        path.write_bytes(b"x" * 10)  # truncated and overwritten underneath the reader
        events = list(source.read_stream("s-1"))
        assert [e.version for e in events] == [1, 2, 3, 4, 5]
        assert all(e.decode_error == CHANGED and e.data == {} for e in events)


def test_reading_everything_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "native").mkdir()
    native = build_native(tmp_path / "native" / "n.db", reference_history(30))
    path = tmp_path / "h.jsonl"
    with open(path, "wb") as out:
        write_jsonl(native, out)
    native.close()
    before = sha256_of(path)
    mtime = path.stat().st_mtime_ns
    with JsonlSource.open(path) as source:
        list(source.read_all())
        for info in source.streams():
            list(source.read_stream(info.stream_id, backwards=True))
        source.verify()
        source.event_histogram(10, EventFilter(actor="ann"))
    assert sha256_of(path) == before and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl", "native"]  # no side files


@settings(max_examples=200, deadline=None)
@given(stream_id=st.text(max_size=40), version=st.integers(0, 2**40))
def test_derived_ids_are_exactly_uuid5(stream_id: str, version: int) -> None:
    from eventscope.store.foreign import DERIVED_ID_NAMESPACE

    expected = str(uuid.uuid5(DERIVED_ID_NAMESPACE, f"{stream_id}\n{version}"))
    assert derived_event_id(stream_id, version) == expected


def test_open_source_reports_indexing_progress(tmp_path: Path) -> None:
    from eventscope.store import open_source

    path = write_lines(tmp_path / "h.jsonl", *[ev("s-1", data={"i": i}) for i in range(50)])
    seen: list[tuple[int, int]] = []
    with open_source(str(path), progress=lambda done, total: seen.append((done, total))):
        pass
    size = path.stat().st_size
    assert seen and seen[-1] == (size, size)
    assert all(done <= total == size for done, total in seen)
