"""Message DB as a source, on histories written by Message DB itself: the committed dump
(npm @eventide/message-db@1.3.1, `messagedb_url`) and fresh ones written with its own
`write_message` (`messagedb_helpers`).

Covers the mapping (version = position + 1, category, Eventide correlation/causation,
actor path, NULL payloads, big integers), detection (plain URL, `messagedb:` prefix,
`--format`), the cached stream catalog (built once, extended, rebuilt after a rewrite,
kept in the cache folder and never in the database), read-only access, and the CLI as a
user types it, with nothing on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from contract_sources import schema_fingerprint
from eventscope.explorer.cli import main
from eventscope.store import EventFilter, open_source
from eventscope.store.errors import ReadOnlyError
from eventscope.store.sources.messagedb.source import MessageDbSource
from messagedb_helpers import Message, empty_message_db, execute, query_one, write_messages

from tests.fixtures.foreign.committed import manifest

pytestmark = pytest.mark.postgres
MDB = manifest("messagedb")
ACTOR = "?actor=properties.userId"


@pytest.fixture
def mdb(messagedb_url: str) -> Iterator[MessageDbSource]:
    source = open_source(messagedb_url + ACTOR)
    assert isinstance(source, MessageDbSource)
    try:
        yield source
    finally:
        source.close()


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, pg_url: str) -> str:
    """An empty Message DB of this test's own."""
    return empty_message_db(pg_url, request.addfinalizer)


# --- mapping -------------------------------------------------------------------------------
def test_versions_are_positions_plus_one_and_the_native_position_is_shown(
    mdb: MessageDbSource,
) -> None:
    longest = MDB["interesting"]["longest_account_stream"]
    events = list(mdb.read_stream(longest["stream_name"]))
    assert [e.version for e in events] == list(range(1, longest["messages"] + 1))
    assert [e.metadata["messagedb"]["position"] for e in events] == list(range(len(events)))
    assert {e.stream_type for e in events} == {"account"}
    info = mdb.stream_info(longest["stream_name"])
    assert info is not None and info.version == info.event_count == longest["messages"]
    assert list(mdb.read_stream(longest["stream_name"], 3, 4)) == events[2:4]


def test_stream_types_are_categories(mdb: MessageDbSource) -> None:
    types = dict(mdb.stream_types())
    assert types == {c["category"]: c["streams"] for c in MDB["categories"]}
    assert "account:command" in types and "account+position" in types
    audit = MDB["interesting"]["category_only_stream"]
    assert mdb.stream_info(audit) is not None
    assert mdb.stream_info(audit).stream_type == audit  # type: ignore[union-attr]
    assert mdb.count_streams() == MDB["totals"]["streams"]
    assert mdb.event_count() == MDB["totals"]["messages"]
    assert mdb.head_position() == MDB["totals"]["max_gp"]


def test_correlation_trace_and_causation_tree(mdb: MessageDbSource) -> None:
    first = MDB["interesting"]["first_transfer"]
    trace = list(mdb.read_all(filter=EventFilter(correlation_id=first["correlation_stream_name"])))
    assert len(trace) == first["messages_correlated"]
    assert {first["withdrawal_account"], first["deposit_account"]} <= {e.stream_id for e in trace}
    by_id = {e.event_id: e for e in trace}
    caused = [e for e in trace if e.causation_id in by_id]
    assert len(caused) >= len(trace) - 1, "all but the first point at a message in the trace"
    for event in caused:
        cause = by_id[event.causation_id]  # type: ignore[index]
        assert cause.position == event.metadata["causationMessageGlobalPosition"]
        assert cause.stream_id == event.metadata["causationMessageStreamName"]


def test_actor_comes_from_the_named_key_only(mdb: MessageDbSource, messagedb_url: str) -> None:
    hostile = MDB["hostile"]["actor"]
    event = mdb.event_at(hostile["global_position"])
    assert event is not None and event.actor == hostile["value"]
    assert event.stream_id == hostile["stream_name"]
    found = list(mdb.read_all(filter=EventFilter(actor=hostile["value"])))
    assert hostile["global_position"] in [e.position for e in found]
    with open_source(messagedb_url) as plain:
        unnamed = plain.event_at(hostile["global_position"])
        assert unnamed is not None and unnamed.actor is None


def test_null_data_and_metadata_are_shown_not_errors(mdb: MessageDbSource) -> None:
    for row in MDB["null_data"]:
        event = mdb.event_at(row["global_position"])
        assert event is not None and event.decode_error is None
        assert event.data == {} and event.metadata["messagedb"]["data"] is None
        assert event.version == row["position"] + 1 and event.event_type == row["type"]
    position_stream = MDB["interesting"]["position_streams"][0]
    checkpoint = next(mdb.read_stream(position_stream))
    assert checkpoint.metadata["messagedb"]["metadata"] is None
    assert checkpoint.correlation_id is None and checkpoint.actor is None


def test_big_integers_and_hostile_strings_are_exact(mdb: MessageDbSource) -> None:
    big = MDB["big_integers"]
    event = mdb.event_at(big["global_position"])
    assert event is not None and event.data["amount"] == 2**53 + 1
    command = [e for e in mdb.read_stream(big["command_stream"]) if "ledgerReference" in e.data]
    assert command[0].data["ledgerReference"] == 2**64 + 5
    holder = MDB["hostile"]["account_holder_1"]
    opened = mdb.event_at(holder["global_position"])
    assert opened is not None and opened.data["customerName"] == holder["value"]


def test_recorded_time_is_utc_and_business_time_is_the_payloads(mdb: MessageDbSource) -> None:
    event = mdb.event_at(16)
    assert event is not None and event.recorded_at.utcoffset() is not None
    assert event.occurred_at.isoformat().startswith(event.data["time"][:19])


def test_verify_says_there_is_no_chain(mdb: MessageDbSource) -> None:
    assert mdb.describe().has_hash_chain is False
    report = mdb.verify()
    assert report.ok and report.checked == MDB["totals"]["messages"]
    assert "no hash chain" in (report.reason or "")


# --- detection -----------------------------------------------------------------------------
def test_detected_from_a_plain_url_a_prefix_and_a_format(messagedb_url: str) -> None:
    for location, fmt in (
        (messagedb_url, None),
        (f"messagedb:{messagedb_url}", None),
        (messagedb_url, "messagedb"),
        (messagedb_url + ACTOR, None),
    ):
        with open_source(location, format=fmt) as source:
            assert source.describe().kind == "messagedb"
            assert "actor" not in source.describe().location
    with pytest.raises(ReadOnlyError, match="a messagedb source can only be read"):
        open_source(f"messagedb:{messagedb_url}", read_only=False)


# --- the cached stream catalog -------------------------------------------------------------
def _write(url: str, streams: int, per_stream: int, tag: str) -> None:
    write_messages(
        url,
        (
            Message(f"thing-{tag}{s}", "Happened", {"n": n}, {"correlationStreamName": "c"})
            for n in range(per_stream)
            for s in range(streams)
        ),
    )


def test_catalog_is_built_once_extended_and_rebuilt_after_a_rewrite(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(cache))
    _write(fresh_url, 5, 3, "a")
    fingerprint = schema_fingerprint(fresh_url, "message_store")
    before = fingerprint()
    tables_before = query_one(fresh_url, "SELECT count(*) FROM information_schema.tables")

    def opened() -> tuple[MessageDbSource, list[tuple[int, int]]]:
        calls: list[tuple[int, int]] = []
        source = open_source(fresh_url, progress=lambda d, t: calls.append((d, t)))
        assert isinstance(source, MessageDbSource)
        return source, calls

    source, calls = opened()
    assert calls[-1] == (15, 15) and source.count_streams() == 5
    files = list(cache.glob("*.catalog.sqlite"))
    assert len(files) == 1, "the catalog is in eventscope's cache folder"
    source.close()

    source, calls = opened()
    assert calls == [], "an unchanged store is not read again"
    source.close()

    _write(fresh_url, 2, 2, "b")  # four more messages, two new streams
    source, calls = opened()
    assert calls == [(0, 4), (4, 4)], "only the new positions are counted"
    assert source.count_streams() == 7 and source.event_count() == 19
    info = source.stream_info("thing-b1")
    assert info is not None and info.version == 2 and info.first_position == 17
    assert source._catalog.rebuilds == 0
    source.close()
    assert fingerprint() != before, "the test wrote four messages"
    before = fingerprint()
    opened()[0].close()
    assert fingerprint() == before, "reading (and extending the catalog) changed nothing"
    assert query_one(fresh_url, "SELECT count(*) FROM information_schema.tables") == tables_before

    execute(fresh_url, "TRUNCATE message_store.messages")  # rewritten by another program
    _write(fresh_url, 3, 10, "c")
    source, calls = opened()
    assert source._catalog.rebuilds == 1 and source.count_streams() == 3
    assert [s.stream_id for s in source.streams()] == ["thing-c0", "thing-c1", "thing-c2"]
    source.close()

    # The last message the catalog counted is rewritten: the guard notices.
    execute(
        fresh_url,
        "UPDATE message_store.messages SET stream_name = 'other-1' WHERE global_position ="
        " (SELECT max(global_position) FROM message_store.messages)",
    )
    source, _ = opened()
    assert source._catalog.rebuilds == 1 and source.stream_info("other-1") is not None
    source.close()


def test_reading_everything_leaves_the_store_unchanged(messagedb_url: str) -> None:
    fingerprint = schema_fingerprint(messagedb_url, "message_store")
    before = fingerprint()
    with open_source(messagedb_url + ACTOR) as source:
        for info in source.streams(limit=1000):
            list(source.read_stream(info.stream_id, backwards=True))
        list(source.read_all(filter=EventFilter(actor="u-ops-01")))
        source.event_histogram(60)
        source.verify()
    assert fingerprint() == before


# --- the CLI as a user types it ------------------------------------------------------------
def _cli(*args: str) -> object:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_cli_commands(messagedb_url: str) -> None:
    longest = MDB["interesting"]["longest_account_stream"]["stream_name"]
    streams = _cli("streams", messagedb_url, "--type", "account", "--all", "--json")
    assert isinstance(streams, list) and len(streams) == 127
    assert {s["stream_type"] for s in streams} == {"account"}
    events = _cli("events", messagedb_url + ACTOR, longest, "--json")
    assert isinstance(events, list) and events[0]["version"] == 1
    assert events[0]["metadata"]["messagedb"]["position"] == 0
    state = _cli("state", messagedb_url, longest, "--version", "2", "--json")
    assert isinstance(state, dict) and state["version"] == 2 and state["stream_id"] == longest
    report = _cli("verify", messagedb_url, "--json")
    assert isinstance(report, dict) and report["ok"] and "no hash chain" in report["reason"]


def test_cli_prints_nothing_on_stderr(messagedb_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "EVENTSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    for args in (
        ["streams", messagedb_url, "--all", "--json"],
        ["verify", messagedb_url, "--json"],
    ):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "eventscope"), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr
