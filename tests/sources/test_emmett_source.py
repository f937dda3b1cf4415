"""Emmett's stores, written by the real emmett-postgresql 0.42.0 and emmett-sqlite 0.38.5
(the committed fixtures), read by eventscope: the mapping, commands left out, the
SQLite catalog that runs ahead of its events, PostgreSQL's settled-rows rule with a real
concurrent transaction, checkpoints with their lag, Pongo read models, detection, the
store unchanged, and the CLI and explorer as a user would run them."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from contract_sources import file_fingerprint, schema_fingerprint
from eventscope.store import EventFilter, open_source
from eventscope.store.sources.emmett.source import EmmettSource
from sqlalchemy.pool import NullPool

from tests.fixtures.foreign.committed import EMMETT_PG_DUMP, manifest
from tests.fixtures.foreign.pg import loaded_dump, settle_transaction_ids

EPG = manifest("emmett-postgresql")
ESQ = manifest("emmett-sqlite")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_source(emmett_sqlite_path: Path) -> Iterator[EmmettSource]:
    with open_source(str(emmett_sqlite_path)) as source:
        assert isinstance(source, EmmettSource)
        yield source


@pytest.fixture
def pg_source(emmett_pg_url: str) -> Iterator[EmmettSource]:
    with open_source(emmett_pg_url) as source:
        assert isinstance(source, EmmettSource)
        yield source


# --- mapping -------------------------------------------------------------------------------
def test_sqlite_mapping(sqlite_source: EmmettSource) -> None:
    first = next(sqlite_source.read_all())
    assert dataclasses.replace(first) == first  # the slot-built record equals the dataclass
    assert (first.position, first.version, first.stream_type) == (1, 1, "bank_account")
    assert first.event_type == "AccountOpened" and first.data["currency"] == "EUR"
    assert first.event_id == "f6ca999b-50db-4e73-bf3c-f7cf78b77a62"
    # Emmett's own keys (streamPosition is the index in the batch) are not shown.
    assert set(first.metadata) == {
        "correlationId",
        "userId",
        "correlation_id",
        "emmett_stream_position",
    }
    assert first.correlation_id == "307b1a87-b8c2-41c4-a2cc-b664836b78e9"
    assert first.recorded_at.isoformat() == "2026-12-04T04:16:10+00:00"
    assert first.schema_version == 1  # SQLite's message_schema_version is no schema version
    ledger = list(sqlite_source.read_stream(ESQ["big_integers"]["stream_id"]))
    assert ledger[0].stream_type == "emt:unknown"
    assert any(e.data.get("checksum") == 2**53 + 2 for e in ledger)
    assert any(e.data.get("reference") == str(2**53 + 1) for e in ledger)


@pytest.mark.postgres
def test_postgres_mapping(pg_source: EmmettSource) -> None:
    events = list(pg_source.read_all())
    assert len(events) == EPG["totals"]["events"] == pg_source.event_count()
    positions = [e.position for e in events]
    assert positions == sorted(set(positions)) and positions[-1] <= EPG["totals"]["max_gp"]
    ledger = list(pg_source.read_stream(EPG["interesting"]["stream_without_dash"]))
    assert ledger[0].data["serialNumber"] == str(2**53 + 1)
    assert ledger[0].data["checksum"] == 2**53 + 2
    assert ledger[0].stream_type == "emt:unknown" and ledger[0].schema_version == 1
    hostile = list(pg_source.read_stream(EPG["hostile"]["stream_id"]))
    assert hostile and hostile[0].metadata["userId"] == EPG["hostile"]["actor"]


@pytest.mark.postgres
def test_the_correlation_trace_follows_emmetts_metadata(pg_source: EmmettSource) -> None:
    first = EPG["interesting"]["first_checkout"]
    traced = list(pg_source.read_all(filter=EventFilter(correlation_id=first["correlation_id"])))
    assert {e.stream_id for e in traced} <= set(first["streams"])
    assert len({e.stream_id for e in traced}) >= 3
    ids = {e.event_id for e in pg_source.read_all()}
    caused = [e for e in traced if e.causation_id is not None]
    assert caused and all(isinstance(e.causation_id, str) for e in caused)
    assert any(e.causation_id in ids for e in caused)  # causation is a message id


# --- commands ------------------------------------------------------------------------------
@pytest.mark.postgres
def test_commands_are_left_out_and_counted(pg_source: EmmettSource) -> None:
    checkout = next(s for s in pg_source.streams(stream_type="checkout", limit=1))
    events = list(pg_source.read_stream(checkout.stream_id))
    # C E C E: the commands are not shown; the events are versions 1 and 2 (the domain
    # engine needs contiguous versions) and keep Emmett's stream positions in metadata.
    assert [e.version for e in events] == [1, 2]
    assert [e.metadata["emmett_stream_position"] for e in events] == [2, 4]
    assert (checkout.version, checkout.event_count) == (2, 2)
    assert list(pg_source.read_stream(checkout.stream_id, 2, 2)) == events[1:]
    assert list(pg_source.read_stream(checkout.stream_id, backwards=True)) == events[::-1]
    assert pg_source.event_at(events[1].position) == events[1]
    by_position = {
        e.position: e for e in pg_source.read_all(filter=EventFilter(stream_type="checkout"))
    }
    assert by_position[events[1].position] == events[1]
    commands = EPG["totals"]["commands"]
    assert pg_source.claims.commands() == commands
    assert f"{commands} command(s)" in pg_source.left_out()
    report = pg_source.verify()
    assert report.ok and report.checked == EPG["totals"]["events"]
    assert f"{commands} command(s) stored among the events were left out" in (report.reason or "")


def test_sqlite_commands_are_left_out(sqlite_source: EmmettSource) -> None:
    assert sqlite_source.event_count() == ESQ["totals"]["events"]
    assert sqlite_source.claims.commands() == ESQ["totals"]["commands"]
    assert sqlite_source.count_streams() < ESQ["totals"]["streams"] + 1


# --- the catalog running ahead -------------------------------------------------------------
def test_sqlite_catalog_runs_ahead_and_is_not_believed(sqlite_source: EmmettSource) -> None:
    (ahead,) = ESQ["catalog_ahead_of_events"]
    info = sqlite_source.stream_info(ahead["stream_id"])
    assert info is not None
    assert info.version == ahead["last_event_position"] == info.event_count
    assert info.version < ahead["catalog_position"]  # the phantom version is never shown
    events = list(sqlite_source.read_stream(ahead["stream_id"]))
    assert events[-1].version == ahead["last_event_position"]
    (claim,) = sqlite_source.catalog_disagreements()
    assert (claim.stream_id, claim.catalog_position, claim.last_position) == (
        ahead["stream_id"],
        ahead["catalog_position"],
        ahead["last_event_position"],
    )
    report = sqlite_source.verify()
    assert report.ok and "stream catalog (a derived claim) disagrees for 1" in (report.reason or "")
    (hole,) = ESQ["stream_position_holes"]
    holed = sqlite_source.stream_info(hole["stream_id"])
    assert holed is not None and holed.version == holed.event_count == hole["events"]
    events = list(sqlite_source.read_stream(hole["stream_id"]))
    assert [e.version for e in events] == list(range(1, hole["events"] + 1))
    assert events[-1].metadata["emmett_stream_position"] == hole["max_position"]
    assert list(sqlite_source.read_stream(hole["stream_id"], 30, 40)) == events[29:]
    assert sqlite_source.event_at(events[-1].position) == events[-1]


@pytest.mark.postgres
def test_postgres_catalog_agrees(pg_source: EmmettSource) -> None:
    assert pg_source.catalog_disagreements() == []


# --- checkpoints and read models -----------------------------------------------------------
@pytest.mark.postgres
def test_processor_checkpoints_with_lag(pg_source: EmmettSource) -> None:
    checkpoints = pg_source.checkpoints()
    head = pg_source.head_position()
    assert head == EPG["totals"]["max_gp"]
    assert {name: (value, head - value) for name, value in checkpoints.items()} == {
        p["processor_id"]: (int(p["last_processed_checkpoint"]), p["lag"])
        for p in EPG["processors"]
    }


def test_sqlite_subscription_checkpoint_with_lag(sqlite_source: EmmettSource) -> None:
    (sub,) = ESQ["subscriptions"]
    assert sqlite_source.checkpoints() == {sub["subscription_id"]: sub["last_processed_position"]}
    assert sqlite_source.head_position() - sub["last_processed_position"] == sub["lag"]


@pytest.mark.postgres
def test_pongo_read_models_are_stored_claims(pg_source: EmmettSource) -> None:
    names = pg_source.projection_names()
    assert {"shopping_carts_summary", "client_shopping_summary"} <= set(names)
    assert {p["processor_id"] for p in EPG["processors"]} <= set(names)
    keys: list[str] = []
    after = None
    while page := pg_source.projection_rows("shopping_carts_summary", after=after, limit=100):
        keys.extend(r.key for r in page)
        after = page[-1].key
    assert len(keys) == EPG["totals"]["read_model_rows"] == len(set(keys))
    row = pg_source.projection_row("shopping_carts_summary", keys[0])
    assert row is not None and row.document["_id"] == keys[0]
    last = list(pg_source.read_stream(keys[0]))[-1]
    assert row.position == last.position  # the message at the row's _version
    assert pg_source.projection_row("shopping_carts_summary", "no such key") is None


# --- settled rows --------------------------------------------------------------------------
@pytest.fixture
def scratch_pg_url(pg_url: str) -> Iterator[str]:
    """A database of its own holding the Emmett dump, for tests that append."""
    with loaded_dump(pg_url, EMMETT_PG_DUMP, prefix="es_emmett_scratch") as url:
        settle_transaction_ids(url)
        yield url


def _append(conn: Any, stream_id: str) -> list[int]:
    result = conn.exec_driver_sql(
        "SELECT success, global_positions FROM emt_append_to_stream(%s::text[], %s::jsonb[], "
        "%s::jsonb[], ARRAY['1'], ARRAY['Noted'], ARRAY['E'], %s, 'note', 0, 'emt:default')",
        ([str(uuid.uuid4())], ['{"n": 1}'], ["{}"], stream_id),
    ).one()
    assert result.success
    return list(result.global_positions)


def _xid_of_open_transaction(conn: Any) -> int:
    return int(conn.exec_driver_sql("SELECT pg_current_xact_id()::text").scalar_one())


@pytest.mark.postgres
def test_rows_behind_an_open_transaction_are_not_shown(scratch_pg_url: str) -> None:
    """T1 appends and stays open; T2 appends after it and commits. T2's row is committed
    but not settled (T1's lower transaction id is still in flight, and T1's row may get
    a lower position), so eventscope shows neither until T1 ends."""
    engine = sa.create_engine(scratch_pg_url, poolclass=NullPool)
    with open_source(scratch_pg_url) as source:
        head = source.head_position()
        first = engine.connect()
        try:
            first.begin()
            (slow,) = _append(first, "note-slow")
            slow_xid = _xid_of_open_transaction(first)
            with engine.begin() as second:
                (fast,) = _append(second, "note-fast")
            assert fast > slow
            with engine.connect() as plain:  # plain MVCC already shows the committed row
                seen = plain.exec_driver_sql(
                    "SELECT count(*) FROM emt_messages WHERE stream_id = 'note-fast'"
                ).scalar_one()
                assert seen == 1
            assert list(source.read_stream("note-fast")) == []
            assert source.event_at(fast) is None
            assert source.head_position() == head
            assert [e for e in source.read_all(head) if e.stream_id.startswith("note-")] == []
            first.commit()
        finally:
            first.close()
        _wait_until_settled(engine, slow_xid + 1)
        shown = [e.stream_id for e in source.read_all(head)]
        assert shown == ["note-slow", "note-fast"]
    engine.dispose()


def _wait_until_settled(engine: sa.Engine, xid: int, timeout_s: float = 60.0) -> None:
    """Wait for the server's snapshot xmin to pass `xid` (a state, polled; bounded)."""
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while True:
            xmin = int(
                conn.exec_driver_sql(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
                ).scalar_one()
            )
            conn.rollback()
            if xmin > xid:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"another session keeps a transaction older than {xid} open")
            time.sleep(0.02)


# --- detection and read-only ---------------------------------------------------------------
@pytest.mark.postgres
def test_detected_on_postgresql(emmett_pg_url: str) -> None:
    for location, fmt in (
        (emmett_pg_url, None),
        (f"{emmett_pg_url}?schema=public", None),
        (f"emmett:{emmett_pg_url}", None),
        (emmett_pg_url, "emmett"),
    ):
        with open_source(location, format=fmt) as source:
            assert source.describe().kind == "emmett-postgresql"
            assert source.describe().has_hash_chain is False


def test_detected_in_a_sqlite_file(emmett_sqlite_path: Path) -> None:
    path = str(emmett_sqlite_path)
    for location, fmt in ((path, None), (f"emmett:{path}", None), (path, "emmett")):
        with open_source(location, format=fmt) as source:
            assert source.describe().kind == "emmett-sqlite"


def test_sqlite_file_unchanged(emmett_sqlite_path: Path) -> None:
    fingerprint = file_fingerprint(emmett_sqlite_path)
    before = fingerprint()
    with open_source(str(emmett_sqlite_path)) as source:
        list(source.read_all())
        source.streams()
        source.verify()
        source.checkpoints()
        source.event_histogram(60)
    assert fingerprint() == before


@pytest.mark.postgres
def test_postgres_tables_unchanged(emmett_pg_url: str) -> None:
    fingerprint = schema_fingerprint(emmett_pg_url, "public")
    before = fingerprint()
    with open_source(emmett_pg_url) as source:
        list(source.read_all())
        source.streams()
        source.verify()
        source.projection_rows("shopping_carts_summary")
        with source.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.exec_driver_sql("DELETE FROM emt_messages")
    assert fingerprint() == before


# --- the CLI, as a user types it -----------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-c", "from eventscope.explorer.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _cli_battery(location: str, stream_id: str) -> None:
    streams = _cli("streams", location, "--all", "--json")
    assert streams.returncode == 0 and streams.stderr == "", streams.stderr
    events = _cli("events", location, stream_id, "--json")
    assert events.returncode == 0 and events.stderr == "", events.stderr
    state = _cli("state", location, stream_id, "--json")
    assert state.returncode == 0 and state.stderr == "", state.stderr
    verify = _cli("verify", location, "--json")
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    report = orjson.loads(verify.stdout)
    assert report["ok"] is True and "no hash chain" in report["reason"]
    assert "left out" in report["reason"]


@pytest.mark.postgres
def test_cli_on_postgresql_prints_no_warnings(emmett_pg_url: str) -> None:
    _cli_battery(emmett_pg_url, EPG["interesting"]["raced_stream"])


def test_cli_on_sqlite(emmett_sqlite_path: Path) -> None:
    before = hashlib.sha256(emmett_sqlite_path.read_bytes()).hexdigest()
    _cli_battery(str(emmett_sqlite_path), ESQ["catalog_ahead_of_events"][0]["stream_id"])
    assert hashlib.sha256(emmett_sqlite_path.read_bytes()).hexdigest() == before
