"""Issue 12 §3: a JSON Lines event without recorded_at/occurred_at is shown with unknown
times (JSON null, "unknown"), never as 1970-01-01 or a neighbour's date; it keeps its
place in position order (the stand-in time is for ordering and filters only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.explorer.app import make_app
from eventscope.explorer.cli import main
from eventscope.store import open_source
from support.textual import screen_text, settle, wait_until


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "times.jsonl"
    path.write_text(
        '{"stream_id": "acct-1", "event_type": "Opened", "data": {}}\n'
        '{"stream_id": "acct-1", "event_type": "Noted", "data": {}, '
        '"recorded_at": "2026-03-01T10:00:00Z"}\n'
        '{"stream_id": "acct-1", "event_type": "Closed", "data": {}}\n'
    )
    return path


def test_the_source_marks_the_times_unknown_and_keeps_the_order(log: Path) -> None:
    with open_source(str(log)) as source:
        events = list(source.read_stream("acct-1"))
    assert [e.event_type for e in events] == ["Opened", "Noted", "Closed"]
    assert [e.times_unknown for e in events] == [
        ("recorded_at", "occurred_at"),
        (),
        ("recorded_at", "occurred_at"),
    ]


def test_the_cli_says_unknown(log: Path) -> None:
    as_json = json.loads(CliRunner().invoke(main, ["events", str(log), "acct-1", "--json"]).stdout)
    assert [(e["recorded_at"], e["occurred_at"]) for e in as_json] == [
        (None, None),
        ("2026-03-01T10:00:00.000000Z", "2026-03-01T10:00:00.000000Z"),
        (None, None),
    ]
    text = CliRunner().invoke(main, ["events", str(log), "acct-1"]).stdout
    assert "1970" not in text
    rows = text.splitlines()[1:]
    assert rows[0].split()[3] == "unknown" and rows[2].split()[3] == "unknown"


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_the_explorer_says_unknown(log: Path, size) -> None:
    app = make_app(str(log))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.open_stream("acct-1", 3)
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TimelineScreen")
        await settle(app, pilot)
        if size[1] < 30:
            await pilot.press("p")
        await wait_until(pilot, lambda: "unknown (not recorded by the source)" in screen_text(app))
        text = screen_text(app)
        assert "1970" not in text and "2026-03-01 10:00" not in text.split("recorded at")[1][:40]
