"""Issue 12 §3: a JSON Lines file's malformed lines are never skipped silently -- every
command says so once on stderr (count and first line numbers), and the explorer's status
bar shows "N malformed lines skipped", at 160x48 and 80x24."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.explorer.app import make_app
from eventscope.explorer.cli import main
from support.textual import screen_text, settle, wait_until

WARNING = (
    "eventscope: warning: 2 malformed lines skipped (lines 3, 6); `eventscope verify` lists them"
)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    lines = [
        json.dumps(
            {
                "stream_id": "acct-1",
                "version": version,
                "event_type": "Noted",
                "data": {"n": version},
                "recorded_at": f"2026-03-01T09:00:0{version}Z",
            }
        )
        for version in range(1, 5)
    ]
    lines.insert(2, "{not json")
    lines.insert(5, '["an array, not an event"]')
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["streams"],
        ["streams", "--json"],
        ["events", "{path}", "acct-1"],
        ["state", "{path}", "acct-1"],
        ["verify"],
        ["report", "{path}", "acct-1", "--no-access-log"],
    ],
    ids=lambda c: " ".join(c),
)
def test_every_command_warns_once(log: Path, command: list[str]) -> None:
    args = [part.replace("{path}", str(log)) for part in command]
    if "{path}" not in command:
        args.insert(1, str(log))
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines().count(WARNING) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_the_status_bar_says_lines_were_skipped(log: Path, size) -> None:
    app = make_app(str(log))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await wait_until(pilot, lambda: "2 malformed lines skipped" in screen_text(app))


@pytest.mark.parametrize(
    ("first", "ext"),
    [("{not json", ".jsonl"), ("garbage, not an object", ".jsonl"), ("{truncated", ".log")],
)
def test_a_malformed_first_line_is_skipped_not_a_reason_to_refuse(
    tmp_path: Path, first: str, ext: str
) -> None:
    """Malformed lines are skipped wherever they are: the first one too (detection looks
    past it), with the same warning and every good event shown."""
    good = [
        json.dumps(
            {
                "stream_id": "acct-1",
                "version": version,
                "event_type": "Noted",
                "data": {"n": version},
                "recorded_at": f"2026-03-01T09:00:0{version}Z",
            }
        )
        for version in (1, 2)
    ]
    path = tmp_path / f"history{ext}"
    path.write_text("\n".join([first, *good]) + "\n")
    result = CliRunner().invoke(main, ["state", str(path), "acct-1", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 2
    assert "1 malformed line skipped (line 1)" in result.stderr


def test_a_file_with_no_event_object_in_its_first_lines_is_still_refused(tmp_path: Path) -> None:
    """Looking past a bad first line must not make any text file a history."""
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(["{nope"] * 3 + ['  {"indented": 1}', "[1, 2]", "text"]) + "\n")
    result = CliRunner().invoke(main, ["streams", str(path)])
    assert result.exit_code != 0
    assert "is not a history eventscope can read" in result.stderr
