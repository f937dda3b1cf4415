"""Issue 14: every projection checkpoint is shown with its position and its lag against
the head, on the committed foreign fixtures (tests/fixtures/foreign/*), through the CLI
a user types (`eventscope checkpoints URL [--json]`).

Lag is events stored after the checkpoint (positions have gaps on Marten and Axon), so
each expectation is the fixture's own fact or an independent count of the rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import open_source

from tests.fixtures.foreign.eventuous import facts as eventuous_facts
from tests.fixtures.foreign.marten import facts as marten_facts

pytestmark = pytest.mark.postgres


def lags(location: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["checkpoints", location, "--json"])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in orjson.loads(result.stdout)}


def events_after(location: str, position: int) -> int:
    with open_source(location) as source:
        return sum(1 for _ in source.read_all(position))


def test_eventuous_checkpoints_with_lag(eventuous_database: str) -> None:
    rows = lags(eventuous_database)
    assert rows[eventuous_facts.CAUGHT_UP_CHECKPOINT]["lag_events"] == 0
    lagging = rows[eventuous_facts.LAGGING_CHECKPOINT]
    assert lagging["lag_events"] == eventuous_facts.LAGGING_BY_EVENTS
    assert lagging["head"] > lagging["position"] > 0
    assert rows[eventuous_facts.UNSTARTED_CHECKPOINT]["position"] == 0
    text = CliRunner().invoke(main, ["checkpoints", eventuous_database]).stdout
    assert text.splitlines()[0].split() == ["CHECKPOINT", "POSITION", "HEAD", "LAG", "(EVENTS)"]
    line = next(x for x in text.splitlines() if x.startswith(eventuous_facts.LAGGING_CHECKPOINT))
    assert line.split()[1:] == [
        str(lagging["position"]),
        str(lagging["head"]),
        str(eventuous_facts.LAGGING_BY_EVENTS),
    ]


def test_marten_shards_count_events_not_seq_ids(marten_database: str) -> None:
    rows = lags(marten_database)
    assert set(rows) == set(marten_facts.PROJECTIONS)
    assert rows["ShipmentBoard:All"]["lag_events"] == 0
    for name, behind_in_seq_ids in marten_facts.PROJECTIONS.items():
        row = rows[name]
        assert row["head"] - row["position"] == behind_in_seq_ids
        assert row["lag_events"] == events_after(marten_database, row["position"])
        assert row["lag_events"] <= behind_in_seq_ids  # seq_id has gaps


def test_emmett_processors_with_lag(emmett_pg_url: str, emmett_sqlite_path: Path) -> None:
    for location in (emmett_pg_url, str(emmett_sqlite_path)):
        rows = lags(location)
        assert rows, location
        for row in rows.values():
            assert row["lag_events"] == events_after(location, row["position"])
        assert any(row["lag_events"] > 0 for row in rows.values()), location


def test_axon_tokens_with_lag(axon_oid_database: str) -> None:
    rows = lags(axon_oid_database)
    assert rows["com.example.bank.NewProcessor"]["position"] == 0
    for row in rows.values():
        assert row["lag_events"] == events_after(axon_oid_database, row["position"])
    current = rows["com.example.giftcard.GiftCardProjection[0]"]
    older = rows["com.example.giftcard.GiftCardProjection[1]"]
    assert older["lag_events"] > current["lag_events"]


def test_a_source_without_checkpoints_says_so(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text('{"stream_id": "a-1", "version": 1, "event_type": "Opened", "data": {}}\n')
    result = CliRunner().invoke(main, ["checkpoints", str(path)])
    assert result.exit_code == 0 and "no projection checkpoints" in result.stdout
    assert CliRunner().invoke(main, ["checkpoints", str(path), "--json"]).stdout.strip() == "[]"


async def test_the_consistency_screen_lists_checkpoints_with_lag(eventuous_database: str) -> None:
    from eventscope.explorer.app import make_app
    from support.textual import screen_text, settle, wait_for_workers

    app = make_app(eventuous_database)
    for size in ((160, 48), (80, 24)):
        async with app.run_test(size=size) as pilot:
            await wait_for_workers(app)
            await pilot.press("k")
            await settle(app, pilot)
            screen = app.screen
            by_name = {lag.name: lag for lag in screen.checkpoint_lags}
            assert by_name[eventuous_facts.LAGGING_CHECKPOINT].lag_events == 400
            text = screen_text(app).replace("\n", "").replace(" ", "")
            assert f"{eventuous_facts.LAGGING_CHECKPOINT}at" in text
            assert f"{eventuous_facts.LAGGING_BY_EVENTS}eventsbehind" in text
            assert f"{eventuous_facts.CAUGHT_UP_CHECKPOINT}at" in text and "caughtup" in text
        app = make_app(eventuous_database)
