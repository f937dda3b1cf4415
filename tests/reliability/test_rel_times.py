"""Times at the edge of the calendar (issue: hostile input, times).

`9999-12-31T23:59:59-01:00` is a valid ISO 8601 time whose UTC form is in year 10000, and
`0001-01-01T00:00:00+01:00` one in year 0: Python raises OverflowError converting them.
Every command that takes a time answers with one sentence (exit 2), the explorer's
time prompts and filter bar say so in place and keep running, and an explorer that does
end on an error exits non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.app import make_app
from eventscope.explorer.cli import app_commands, main
from eventscope.store import NewEvent
from reliability_support import figure
from support.textual import wait_for_workers

from tests.conftest import StoreFactory

OVERFLOWING = ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")
EDGES = ("9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z")
STREAM = "acct-1"


def _location(factory: StoreFactory) -> str:
    if factory.backend == "sqlite":
        return factory.location
    return f"{factory.location}?schema={factory.open_options['schema']}"


def _commands(source: str, moment: str, out: Path) -> list[list[str]]:
    return [
        ["state", source, STREAM, "--at", moment],
        ["state", source, STREAM, "--at", moment, "--axis", "occurred", "--json"],
        ["report", source, STREAM, "--at", moment, "--no-access-log"],
        ["report", source, STREAM, "--at", moment, "--axis", "occurred", "--no-access-log"],
        ["bundle", source, "--stream", STREAM, "--at", moment, "-o", str(out), "--no-access-log"],
    ]


def test_overflowing_times_are_one_sentence_in_every_command(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = store_factory()
    store.append(STREAM, [NewEvent("Opened", {"balance": 1})], stream_type="acct")
    source = _location(store_factory)
    tried = 0
    for moment in OVERFLOWING:
        for args in _commands(source, moment, tmp_path / "case.zip"):
            result = CliRunner().invoke(main, args)
            tried += 1
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args,
                repr(result.exception),
            )
            lines = result.stderr.strip().splitlines()
            assert result.exit_code == 2 and len(lines) == 1, (args, result.stderr)
            assert "outside the years 1 to 9999" in lines[0], lines
    for moment in EDGES:  # the last and first representable instants are fine
        for args in _commands(source, moment, tmp_path / f"edge-{tried}.zip"):
            result = CliRunner().invoke(main, args)
            tried += 1
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args,
                repr(result.exception),
            )
            assert "Traceback" not in result.output and result.exit_code in (0, 2), args
    assert not (tmp_path / "case.zip").exists()
    figure(
        f"times/cli/{store_factory.backend}",
        f"{tried}/{tried} state/report/bundle runs at the calendar's edges: overflowing "
        "times one sentence (exit 2), the edges themselves answered",
    )


async def test_overflowing_times_in_the_explorer_are_refused_in_place(tmp_path: Path) -> None:
    db = tmp_path / "bank.db"
    build_fixture_store(db)
    app = make_app(str(db), stream="account-000001")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for_workers(app)
        await pilot.pause()
        for key in ("t", "w"):  # the timeline's time jump, then the world's
            if key == "w":
                await pilot.press("w")
                await wait_for_workers(app)
                await pilot.pause()
                await pilot.press("t")
            else:
                await pilot.press("t")
            for moment in OVERFLOWING:
                await pilot.pause()
                field: Any = app.screen.query_one("Input")
                field.value = moment
                await pilot.press("enter")
                await wait_for_workers(app)
                await pilot.pause()
                assert app.is_running and app.return_code is None, (key, moment)
                assert app.screen.query("Input"), (key, moment)  # still asking
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    from eventscope.explorer.widgets.filter_bar import FilterError, parse_filter

    for moment in OVERFLOWING:  # the browser's filter bar, `since:` and `until:`
        for key in ("since", "until"):
            with pytest.raises(FilterError, match="not a time"):
                parse_filter(f"{key}:{moment}")
    assert app.return_code in (0, None)


class _CrashingApp:
    """Stands in for the Textual app at the CLI seam: ends with Textual's error code."""

    return_code = 1

    def run(self) -> None:
        return None


def test_an_explorer_that_ends_on_an_error_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "bank.db"
    build_fixture_store(db)
    monkeypatch.setattr(app_commands, "_interactive", lambda: True)
    monkeypatch.setattr("eventscope.explorer.app.make_app", lambda **_: _CrashingApp())
    result = CliRunner().invoke(main, ["open", str(db)])
    assert result.exit_code == 1, result.output
    assert "stopped on an internal error" in result.stderr
