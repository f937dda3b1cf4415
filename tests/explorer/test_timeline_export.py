"""The timeline's export action writes the same audit report as `eventscope report`,
atomically, never over an existing file, and notes it in the access log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.explorer.screens.export_report import ExportReportScreen
from eventscope.explorer.screens.timeline import TimelineScreen
from support.timeline_stores import ACCOUNT, build_store, open_app, settle

SIZE = (160, 48)


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVENTSCOPE_ACCESS_LOG", str(tmp_path / "access.jsonl"))
    return build_store(tmp_path / "store.db")


async def _export(app, pilot, target: Path) -> None:
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(app.screen, ExportReportScreen)
    field = app.screen.query_one("#export-input")
    field.value = str(target)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_export_writes_the_report_at_the_slider_version(store_path: Path, tmp_path: Path):
    before = hashlib.sha256(store_path.read_bytes()).hexdigest()
    target = tmp_path / "case" / "report.md"
    target.parent.mkdir()
    app = open_app(store_path, stream=ACCOUNT, version=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        await _export(app, pilot, target)
        assert isinstance(app.screen, TimelineScreen)
    written = target.read_text()
    expected = CliRunner().invoke(
        main, ["report", str(store_path), ACCOUNT, "--version", "3", "--no-access-log"]
    )
    assert expected.exit_code == 0, expected.output
    # Same content as the command (the report's creation-time line may differ).
    strip = lambda text: [line for line in text.splitlines() if "generated" not in line.lower()]  # noqa: E731
    assert strip(written) == strip(expected.output.rstrip("\n"))
    assert (
        written.startswith(f"# Audit report: {ACCOUNT} at version 3") and len(strip(written)) > 20
    )
    entries = [json.loads(line) for line in (tmp_path / "access.jsonl").read_text().splitlines()]
    assert entries[-1]["action"] == "report-md" and entries[-1]["stream"] == ACCOUNT
    assert hashlib.sha256(store_path.read_bytes()).hexdigest() == before


async def test_export_refuses_an_existing_file_and_keeps_it(store_path: Path, tmp_path: Path):
    target = tmp_path / "report.html"
    target.write_text("keep me")
    app = open_app(store_path, stream=ACCOUNT, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _export(app, pilot, target)
        assert isinstance(app.screen, ExportReportScreen)  # still asking
        error = str(app.screen.query_one("#export-error").render())
        assert "already exists" in error
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)
    assert target.read_text() == "keep me"


async def test_export_dialog_refuses_the_source_side_files_that_do_not_exist_yet(
    store_path: Path, tmp_path: Path
):
    """The dialog goes through the one output rule: a `-journal` or a manifest beside the
    store is evidence even before it exists (writing it would plant a side file)."""
    app = open_app(store_path, stream=ACCOUNT, version=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for target in (Path(f"{store_path}-journal"), Path(f"{store_path}.manifest.json")):
            assert not target.exists()
            await _export(app, pilot, target)
            assert isinstance(app.screen, ExportReportScreen)  # still asking
            assert "evidence being read" in str(app.screen.query_one("#export-error").render())
            assert not target.exists()
        await pilot.press("escape")
        await pilot.pause()
