"""The committed Message DB and Emmett histories hold what their writers say they hold.

These histories were written by the real software (tests/fixtures/foreign/regenerate.sh);
the adapters are tested against them. So the fixtures themselves are checked here: that
each loads on a fresh server or copy, that its totals agree with its writer's manifest,
and that every trap planted on purpose (NULL payloads, sequence gaps, refused appends, a
catalog running ahead of its events, hostile strings, integers beyond 2^53) is really
there -- a regeneration that lost one would otherwise weaken the adapter tests silently.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.fixtures.foreign.committed import (
    EMMETT_PG_DUMP,
    EMMETT_SQLITE_FILE,
    FOREIGN,
    MESSAGEDB_DUMP,
    manifest,
)
from tests.fixtures.foreign.pg import fresh_database, settle_transaction_ids

MAX_FIXTURE_BYTES = 2_500_000


def rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).fetchall())
    finally:
        engine.dispose()


def one(url: str, sql: str, **params: Any) -> Any:
    (row,) = rows(url, sql, **params)
    return row


# --- the committed files ---------------------------------------------------------------
@pytest.mark.parametrize("path", [MESSAGEDB_DUMP, EMMETT_PG_DUMP, EMMETT_SQLITE_FILE])
def test_fixture_is_committed_small_and_alone(path: Path) -> None:
    assert path.is_file()
    assert path.stat().st_size < MAX_FIXTURE_BYTES
    for side in ("-wal", "-shm", "-journal"):
        assert not Path(f"{path}{side}").exists(), f"{path.name}{side} must not be committed"


@pytest.mark.parametrize("dump", [MESSAGEDB_DUMP, EMMETT_PG_DUMP])
def test_dumps_need_no_roles(dump: Path) -> None:
    """Owners and grants were left out, so a dump loads on any server without creating
    the cluster-wide role `message_store` (or any other)."""
    text = dump.read_text(encoding="utf-8")
    assert "OWNER TO" not in text
    assert "\nGRANT " not in text


def test_regenerate_script_parses() -> None:
    result = subprocess.run(
        ["bash", "-n", str(FOREIGN / "regenerate.sh")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- Message DB --------------------------------------------------------------------------
MDB = manifest("messagedb")


@pytest.mark.postgres
class TestMessageDb:
    def test_schema_is_what_the_installer_made(self, messagedb_url: str) -> None:
        columns = {
            r.column_name: (r.data_type, r.is_nullable)
            for r in rows(
                messagedb_url,
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = 'message_store' AND table_name = 'messages'",
            )
        }
        assert columns == {
            "global_position": ("bigint", "NO"),
            "position": ("bigint", "NO"),
            "time": ("timestamp without time zone", "NO"),
            "stream_name": ("text", "NO"),
            "type": ("text", "NO"),
            "data": ("jsonb", "YES"),
            "metadata": ("jsonb", "YES"),
            "id": ("uuid", "NO"),
        }
        # The npm package is 1.3.1; its database/VERSION.txt and this function say 1.3.0.
        version = one(messagedb_url, "SELECT message_store.message_store_version() AS v").v
        assert version == "1.3.0"

    def test_totals_match_the_manifest(self, messagedb_url: str) -> None:
        t = one(
            messagedb_url,
            "SELECT count(*) AS messages, count(DISTINCT stream_name) AS streams,"
            " min(global_position) AS min_gp, max(global_position) AS max_gp,"
            " count(*) FILTER (WHERE data IS NULL) AS null_data,"
            " count(*) FILTER (WHERE metadata IS NULL) AS null_metadata"
            " FROM message_store.messages",
        )
        totals = MDB["totals"]
        assert (t.messages, t.streams, t.min_gp, t.max_gp) == (
            totals["messages"],
            totals["streams"],
            totals["min_gp"],
            totals["max_gp"],
        )
        assert t.messages > 3000 and t.streams > 300
        assert (t.null_data, t.null_metadata) == (totals["null_data"], totals["null_metadata"])
        categories = rows(
            messagedb_url,
            "SELECT split_part(stream_name, '-', 1) AS category,"
            " count(DISTINCT stream_name) AS streams, count(*) AS messages"
            " FROM message_store.messages GROUP BY 1 ORDER BY 1",
        )
        assert [tuple(r) for r in categories] == [
            (c["category"], c["streams"], c["messages"]) for c in MDB["categories"]
        ]

    def test_null_data_and_metadata_rows(self, messagedb_url: str) -> None:
        null_data = rows(
            messagedb_url,
            "SELECT stream_name, position, global_position, type FROM message_store.messages"
            " WHERE data IS NULL ORDER BY global_position",
        )
        assert [tuple(r) for r in null_data] == [
            (n["stream_name"], n["position"], n["global_position"], n["type"])
            for n in MDB["null_data"]
        ]
        null_meta = rows(
            messagedb_url,
            "SELECT DISTINCT split_part(stream_name, '-', 1) AS c FROM message_store.messages"
            " WHERE metadata IS NULL ORDER BY 1",
        )
        assert [r.c for r in null_meta] == MDB["null_metadata_streams"]
        assert "account:command+position" in MDB["null_metadata_streams"]

    def test_global_position_has_the_rolled_back_gaps(self, messagedb_url: str) -> None:
        present = {
            r.global_position
            for r in rows(messagedb_url, "SELECT global_position FROM message_store.messages")
        }
        missing = set(range(1, max(present) + 1)) - present
        rolled_back = {gp for rb in MDB["rolled_back"] for gp in rb["global_positions"]}
        assert rolled_back and rolled_back <= missing
        assert len(missing) == MDB["totals"]["gaps"] == len(rolled_back) + 1  # + duplicate id
        assert max(missing) < max(present), "the gaps sit inside the history, not at its end"

    def test_positions_are_zero_based_and_contiguous(self, messagedb_url: str) -> None:
        broken = rows(
            messagedb_url,
            "SELECT stream_name FROM message_store.messages GROUP BY stream_name"
            " HAVING min(position) <> 0 OR max(position) <> count(*) - 1",
        )
        assert broken == []

    def test_refused_writes_left_no_trace(self, messagedb_url: str) -> None:
        assert len(MDB["refused_writes"]) == 3
        for refused in MDB["refused_writes"]:
            assert refused["error"].startswith("Wrong expected version")
            version = one(
                messagedb_url,
                "SELECT max(position) AS v FROM message_store.messages WHERE stream_name = :s",
                s=refused["stream_name"],
            ).v
            assert version is not None and version != refused["expected_version"]

    def test_stream_name_grammar_cases(self, messagedb_url: str) -> None:
        names = {r.stream_name for r in rows(messagedb_url, _DISTINCT_STREAMS)}
        assert MDB["interesting"]["category_only_stream"] in names
        assert "-" not in MDB["interesting"]["category_only_stream"]
        assert set(MDB["interesting"]["position_streams"]) <= names
        assert set(MDB["interesting"]["snapshot_streams"]) <= names
        assert any(n.startswith("account:command-") for n in names)

    def test_causation_points_at_the_message_it_names(self, messagedb_url: str) -> None:
        """Every causationMessageGlobalPosition names a real message whose stream name and
        position agree with causationMessageStreamName/Position."""
        checked = one(
            messagedb_url,
            "SELECT count(*) AS n,"
            " count(*) FILTER (WHERE c.global_position IS NULL"
            "   OR c.stream_name <> m.metadata->>'causationMessageStreamName'"
            "   OR c.position <> (m.metadata->>'causationMessagePosition')::bigint) AS bad"
            " FROM message_store.messages m LEFT JOIN message_store.messages c"
            "   ON c.global_position = (m.metadata->>'causationMessageGlobalPosition')::bigint"
            " WHERE m.metadata ? 'causationMessageGlobalPosition'",
        )
        assert checked.n > 2000 and checked.bad == 0

    def test_a_correlation_trace_spans_several_streams(self, messagedb_url: str) -> None:
        first = MDB["interesting"]["first_transfer"]
        trace = rows(
            messagedb_url,
            "SELECT DISTINCT stream_name FROM message_store.messages"
            " WHERE metadata->>'correlationStreamName' = :c OR stream_name = :c",
            c=first["correlation_stream_name"],
        )
        streams = {r.stream_name for r in trace}
        assert {
            first["correlation_stream_name"],
            first["withdrawal_account"],
            first["deposit_account"],
            "account:command-" + first["withdrawal_account"].removeprefix("account-"),
        } <= streams
        replies = one(
            messagedb_url,
            "SELECT count(*) AS n FROM message_store.messages"
            " WHERE metadata->>'replyStreamName' = :c",
            c=first["correlation_stream_name"],
        ).n
        assert replies >= 2

    def test_actor_is_properties_user_id(self, messagedb_url: str) -> None:
        assert MDB["actor_key"] == "properties.userId"
        with_actor = one(
            messagedb_url,
            "SELECT count(*) AS n FROM message_store.messages"
            " WHERE metadata->'properties'->>'userId' IS NOT NULL",
        ).n
        assert with_actor > 3000

    def test_hostile_strings_survive_verbatim(self, messagedb_url: str) -> None:
        for planted in (v for k, v in MDB["hostile"].items() if k.startswith("account_holder")):
            got = one(
                messagedb_url,
                "SELECT data->>'customerName' AS v FROM message_store.messages"
                " WHERE global_position = :g",
                g=planted["global_position"],
            ).v
            assert got == planted["value"]
        assert "\x1b" in MDB["hostile"]["account_holder_1"]["value"]
        hostile_name = MDB["hostile"]["stream_name"]["stream_name"]
        assert (
            one(
                messagedb_url,
                "SELECT count(*) AS n FROM message_store.messages WHERE stream_name = :s",
                s=hostile_name,
            ).n
            == 1
        )

    def test_integers_beyond_double_precision_are_exact(self, messagedb_url: str) -> None:
        big = MDB["big_integers"]
        event = one(
            messagedb_url,
            "SELECT data::text AS raw FROM message_store.messages WHERE global_position = :g",
            g=big["global_position"],
        )
        assert json.loads(event.raw)["amount"] == 2**53 + 1
        command = one(
            messagedb_url,
            "SELECT data->'ledgerReference' AS v FROM message_store.messages"
            " WHERE stream_name = :s AND data ? 'ledgerReference'",
            s=big["command_stream"],
        )
        assert command.v == 2**64 + 5

    def test_time_has_no_zone_and_was_recorded_quickly(self, messagedb_url: str) -> None:
        span = one(
            messagedb_url,
            "SELECT extract(epoch FROM max(time) - min(time)) AS s FROM message_store.messages",
        ).s
        assert span < 600  # seconds of recording for months of business time in data.time


_DISTINCT_STREAMS = "SELECT DISTINCT stream_name FROM message_store.messages"


# --- Emmett PostgreSQL ---------------------------------------------------------------------
EPG = manifest("emmett-postgresql")


@pytest.mark.postgres
class TestEmmettPostgres:
    def test_totals_match_the_manifest(self, emmett_pg_url: str) -> None:
        t = one(
            emmett_pg_url,
            "SELECT count(*) AS messages, count(*) FILTER (WHERE message_kind = 'E') AS events,"
            " count(*) FILTER (WHERE message_kind = 'C') AS commands,"
            " count(DISTINCT stream_id) AS streams, max(global_position) AS max_gp"
            " FROM emt_messages",
        )
        totals = EPG["totals"]
        assert (t.messages, t.events, t.commands, t.streams, t.max_gp) == (
            totals["messages"],
            totals["events"],
            totals["commands"],
            totals["streams"],
            totals["max_gp"],
        )
        assert t.events > 2000 and t.commands > 0 and t.streams > 300

    def test_column_types(self, emmett_pg_url: str) -> None:
        types = {
            r.column_name: (r.data_type, r.is_nullable)
            for r in rows(
                emmett_pg_url,
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = 'emt_messages'",
            )
        }
        assert types["transaction_id"] == ("xid8", "NO")
        assert types["global_position"] == ("bigint", "YES")
        assert types["created"] == ("timestamp with time zone", "NO")
        assert types["message_kind"] == ("character varying", "NO")
        assert types["stream_position"] == ("bigint", "NO")

    def test_history_is_settled_for_emmetts_reader(self, emmett_pg_url: str) -> None:
        counts = one(
            emmett_pg_url,
            "SELECT count(*) AS total, count(*) FILTER"
            " (WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())) AS settled"
            " FROM emt_messages",
        )
        assert counts.settled == counts.total

    def test_global_position_has_the_rolled_back_gap(self, emmett_pg_url: str) -> None:
        t = one(
            emmett_pg_url,
            "SELECT max(global_position) - min(global_position) + 1 - count(*) AS gaps"
            " FROM emt_messages",
        )
        assert t.gaps == EPG["totals"]["gaps"] == len(EPG["rolled_back_appends"]) == 1

    def test_catalog_agrees_with_the_messages(self, emmett_pg_url: str) -> None:
        """On PostgreSQL a refused append leaves emt_streams untouched (unlike SQLite)."""
        disagree = rows(
            emmett_pg_url,
            "SELECT s.stream_id FROM emt_streams s JOIN emt_messages m USING (stream_id)"
            " GROUP BY s.stream_id, s.stream_position"
            " HAVING s.stream_position <> max(m.stream_position)"
            "   OR count(*) <> max(m.stream_position)",
        )
        assert disagree == []
        assert len(EPG["refused_appends"]) == 2

    def test_commands_share_streams_and_positions_with_events(self, emmett_pg_url: str) -> None:
        kinds = rows(
            emmett_pg_url,
            "SELECT string_agg(message_kind, '' ORDER BY stream_position) AS k"
            " FROM emt_messages WHERE stream_id LIKE 'checkout-%' GROUP BY stream_id",
        )
        assert kinds and all(r.k == "CECE" for r in kinds)

    def test_one_append_one_transaction(self, emmett_pg_url: str) -> None:
        split = rows(
            emmett_pg_url,
            "SELECT transaction_id::text FROM emt_messages GROUP BY transaction_id"
            " HAVING count(DISTINCT created) > 1 OR count(DISTINCT stream_id) > 1",
        )
        assert split == []
        assert EPG["totals"]["transactions"] < EPG["totals"]["messages"]

    def test_metadata_is_the_users_only(self, emmett_pg_url: str) -> None:
        keys = {
            r.k
            for r in rows(
                emmett_pg_url,
                "SELECT DISTINCT jsonb_object_keys(message_metadata) AS k FROM emt_messages",
            )
        }
        assert keys == {"correlationId", "causationId", "userId"}
        versions = {
            r.v
            for r in rows(
                emmett_pg_url, "SELECT DISTINCT message_schema_version AS v FROM emt_messages"
            )
        }
        assert versions == {"1"}

    def test_processors_checkpoints_lag_behind_the_head(self, emmett_pg_url: str) -> None:
        processors = {
            r.processor_id: r.last_processed_checkpoint
            for r in rows(
                emmett_pg_url,
                "SELECT processor_id, last_processed_checkpoint FROM emt_processors",
            )
        }
        assert processors == {
            p["processor_id"]: p["last_processed_checkpoint"] for p in EPG["processors"]
        }
        assert all(len(c) == 19 and c.isdigit() for c in processors.values())
        head = EPG["totals"]["max_gp"]
        assert 0 < int(processors["cart-analytics"]) < head
        assert int(processors["email-notifications"]) == 120

    def test_pongo_read_model_agrees_with_the_events(self, emmett_pg_url: str) -> None:
        """Every cart event goes through the inline projection, so each document's
        `_version` counts its stream's events; `data._version` is the same as a string."""
        disagree = rows(
            emmett_pg_url,
            "SELECT r._id FROM shopping_carts_summary r"
            " JOIN (SELECT stream_id, count(*) AS n FROM emt_messages GROUP BY 1) m"
            "   ON m.stream_id = r._id"
            " WHERE r._version <> m.n OR r.data->>'_version' <> r._version::text",
        )
        assert disagree == []
        assert (
            one(emmett_pg_url, "SELECT count(*) AS n FROM shopping_carts_summary").n
            == EPG["totals"]["read_model_rows"]
        )
        projections = {r.name for r in rows(emmett_pg_url, "SELECT name FROM emt_projections")}
        assert projections == {"shopping_carts_summary", "client_shopping_summary"}

    def test_big_integers_and_hostile_strings(self, emmett_pg_url: str) -> None:
        ledger = rows(
            emmett_pg_url,
            "SELECT message_data::text AS raw FROM emt_messages WHERE stream_id = :s",
            s=EPG["interesting"]["stream_without_dash"],
        )
        first = json.loads(ledger[0].raw)
        assert first["serialNumber"] == str(2**53 + 1)  # a bigint becomes a JSON string
        assert first["checksum"] == 2**53 + 2
        actor = one(
            emmett_pg_url,
            "SELECT message_metadata->>'userId' AS v FROM emt_messages WHERE stream_id = :s",
            s=EPG["hostile"]["stream_id"],
        ).v
        assert actor == EPG["hostile"]["actor"] and "\x1b" in actor
        stream_type = one(
            emmett_pg_url,
            "SELECT stream_type FROM emt_streams WHERE stream_id = :s",
            s=EPG["interesting"]["stream_without_dash"],
        ).stream_type
        assert stream_type == "emt:unknown"

    def test_a_correlation_trace_spans_several_streams(self, emmett_pg_url: str) -> None:
        first = EPG["interesting"]["first_checkout"]
        streams = {
            r.stream_id
            for r in rows(
                emmett_pg_url,
                "SELECT DISTINCT stream_id FROM emt_messages"
                " WHERE message_metadata->>'correlationId' = :c",
                c=first["correlation_id"],
            )
        }
        assert streams == set(first["streams"])
        orphans = one(
            emmett_pg_url,
            "SELECT count(*) AS n FROM emt_messages m WHERE m.message_metadata ? 'causationId'"
            " AND NOT EXISTS (SELECT 1 FROM emt_messages c"
            "   WHERE c.message_id = m.message_metadata->>'causationId')",
        ).n
        assert orphans <= len(EPG["refused_appends"]) + len(EPG["rolled_back_appends"])


# --- Emmett SQLite ---------------------------------------------------------------------------
ESQ = manifest("emmett-sqlite")


@pytest.fixture
def emmett_sqlite(emmett_sqlite_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{emmett_sqlite_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


class TestEmmettSqlite:
    def test_committed_file_is_checkpointed_in_wal_mode(self) -> None:
        header = EMMETT_SQLITE_FILE.read_bytes()[:100]
        assert header[:16] == b"SQLite format 3\x00"
        assert (header[18], header[19]) == (2, 2), "written in WAL mode, as Emmett leaves it"

    def test_totals_match_the_manifest(self, emmett_sqlite: sqlite3.Connection) -> None:
        t = emmett_sqlite.execute(
            "SELECT count(*) AS messages, sum(message_kind = 'E') AS events,"
            " sum(message_kind = 'C') AS commands, count(DISTINCT stream_id) AS streams,"
            " max(global_position) AS max_gp FROM emt_messages"
        ).fetchone()
        totals = ESQ["totals"]
        assert tuple(t) == (
            totals["messages"],
            totals["events"],
            totals["commands"],
            totals["streams"],
            totals["max_gp"],
        )
        assert t["events"] > 2000 and t["streams"] > 300
        assert t["max_gp"] == t["messages"], "rowid positions: a rollback leaves no gap"

    def test_catalog_runs_ahead_of_the_events(self, emmett_sqlite: sqlite3.Connection) -> None:
        ahead = emmett_sqlite.execute(
            "SELECT s.stream_id, s.stream_position AS catalog, max(m.stream_position) AS last"
            " FROM emt_streams s JOIN emt_messages m ON m.stream_id = s.stream_id"
            " GROUP BY s.stream_id HAVING s.stream_position > max(m.stream_position)"
        ).fetchall()
        assert [tuple(r) for r in ahead] == [
            (a["stream_id"], a["catalog_position"], a["last_event_position"])
            for a in ESQ["catalog_ahead_of_events"]
        ]
        assert len(ahead) == 1

    def test_a_stream_has_a_hole_in_stream_position(
        self, emmett_sqlite: sqlite3.Connection
    ) -> None:
        hole = ESQ["interesting"]["stream_position_hole"]["stream_id"]
        positions = [
            r[0]
            for r in emmett_sqlite.execute(
                "SELECT stream_position FROM emt_messages WHERE stream_id = ?"
                " ORDER BY stream_position",
                (hole,),
            )
        ]
        missing = sorted(set(range(1, positions[-1] + 1)) - set(positions))
        assert len(missing) == 2, "two refused appends each advanced emt_streams by one"
        assert missing[-1] == positions[-1] - 1

    def test_partitions_disagree(self, emmett_sqlite: sqlite3.Connection) -> None:
        streams = {
            r[0] for r in emmett_sqlite.execute("SELECT DISTINCT partition FROM emt_streams")
        }
        messages = {
            r[0] for r in emmett_sqlite.execute("SELECT DISTINCT partition FROM emt_messages")
        }
        assert (streams, messages) == ({"[object Object]"}, {"emt:default"})

    def test_schema_version_and_metadata_position_are_batch_arithmetic(
        self, emmett_sqlite: sqlite3.Connection
    ) -> None:
        """message_schema_version is the stream version before the append and
        metadata.streamPosition the index in the batch: they add up to stream_position."""
        bad = emmett_sqlite.execute(
            "SELECT count(*) FROM emt_messages WHERE stream_position <>"
            " CAST(message_schema_version AS INTEGER)"
            " + CAST(json_extract(message_metadata, '$.streamPosition') AS INTEGER)"
        ).fetchone()[0]
        assert bad == 0
        keys = {
            r[0]
            for r in emmett_sqlite.execute(
                "SELECT DISTINCT j.key FROM emt_messages, json_each(message_metadata) j"
            )
        }
        assert keys == {
            "streamName",
            "messageId",
            "streamPosition",
            "correlationId",
            "causationId",
            "userId",
        }

    def test_created_is_utc_text_with_second_resolution(
        self, emmett_sqlite: sqlite3.Connection
    ) -> None:
        created = [r[0] for r in emmett_sqlite.execute("SELECT created FROM emt_messages")]
        assert all(len(c) == 19 and c[10] == " " for c in created)
        assert len(set(created)) < len(created) / 10

    def test_subscription_checkpoint_lags(self, emmett_sqlite: sqlite3.Connection) -> None:
        (sub,) = emmett_sqlite.execute(
            "SELECT subscription_id, last_processed_position FROM emt_subscriptions"
        ).fetchall()
        assert tuple(sub) == (
            "statement-mailer",
            ESQ["subscriptions"][0]["last_processed_position"],
        )
        seen = ESQ["interesting"]["consumer"]["messages_seen"]
        assert sub[1] < seen < ESQ["totals"]["max_gp"]

    def test_read_model_and_traps(self, emmett_sqlite: sqlite3.Connection) -> None:
        assert (
            emmett_sqlite.execute("SELECT count(*) FROM account_balances").fetchone()[0]
            == ESQ["totals"]["read_model_rows"]
        )
        raw = emmett_sqlite.execute(
            "SELECT message_data FROM emt_messages WHERE stream_id = 'audit_log'"
            " ORDER BY stream_position LIMIT 1"
        ).fetchone()[0]
        assert json.loads(raw)["reference"] == str(2**53 + 1)
        assert json.loads(raw)["checksum"] == 2**53 + 2
        holder = ESQ["hostile"]["holder_1"]
        got = emmett_sqlite.execute(
            "SELECT json_extract(message_data, '$.holder') FROM emt_messages"
            " WHERE stream_id = ? AND stream_position = 1",
            (holder["stream_id"],),
        ).fetchone()[0]
        assert got == holder["value"] and "\x1b" in got
        assert (
            emmett_sqlite.execute(
                "SELECT stream_type FROM emt_streams WHERE stream_id = 'audit_log'"
            ).fetchone()[0]
            == "emt:unknown"
        )

    def test_a_correlation_trace_spans_several_streams(
        self, emmett_sqlite: sqlite3.Connection
    ) -> None:
        first = ESQ["interesting"]["first_transfer"]
        streams = {
            r[0]
            for r in emmett_sqlite.execute(
                "SELECT DISTINCT stream_id FROM emt_messages"
                " WHERE json_extract(message_metadata, '$.correlationId') = ?",
                (first["correlation_id"],),
            )
        }
        assert streams == set(first["streams"])


@pytest.mark.postgres
def test_settling_moves_the_server_past_xids_from_the_future(pg_url: str) -> None:
    """A dump written on an older server carries xids this server has not reached yet
    (a fresh CI cluster); after settling, Emmett's reader sees those rows as committed."""
    with fresh_database(pg_url, prefix="es_settle") as url:
        engine = sa.create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                future = int(conn.exec_driver_sql("SELECT pg_current_xact_id()::text").scalar_one())
                future += 300
                conn.exec_driver_sql("CREATE TABLE emt_messages (transaction_id xid8)")
                conn.exec_driver_sql(
                    "CREATE TABLE emt_processors (last_processed_transaction_id xid8)"
                )
                conn.exec_driver_sql(f"INSERT INTO emt_messages VALUES ('{future - 100}')")
                conn.exec_driver_sql(f"INSERT INTO emt_processors VALUES ('{future}')")
            settle_transaction_ids(url)
            with engine.connect() as conn:
                xmin = int(
                    conn.exec_driver_sql(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
                    ).scalar_one()
                )
            assert xmin > future
        finally:
            engine.dispose()
