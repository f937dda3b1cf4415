"""`eventscope open`: user mistakes end as one sentence before Textual starts; in a real
terminal (tmux) a deep link lands on the timeline and quitting leaves the shell clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from support.shell_store import build_store

EVENTSCOPE = Path(sys.executable).with_name("eventscope")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("cli") / "shell.db")


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--version", "3"], "--version needs --stream"),
        (["--stream", "account-9999"], "there is no stream 'account-9999' in this source"),
        (["--stream", "account-0004", "--version", "99"], "--version 99 is past its end"),
        (["--domain", "no_such_module_xyz"], "no_such_module_xyz"),
        ([], "the explorer needs a terminal"),
    ],
)
def test_mistakes_are_one_sentence(store: Path, args: list[str], sentence: str) -> None:
    result = CliRunner().invoke(main, ["open", str(store), *args])
    assert result.exit_code == 2, result.output
    assert sentence in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_is_one_sentence(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["open", str(tmp_path / "nope.db")])
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "nope.db").exists()  # opening read-only never creates a store


def test_no_argument_without_a_terminal_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2 and "the explorer needs a terminal" in result.stderr
    assert not any(tmp_path.rglob("*.db"))


def run_in_tmux(command: str) -> str:
    """Start `command` in a 160x48 tmux pane. COLUMNS/LINES are cleared: tmux can hand a
    session 80x24 values from a non-interactive caller, and Textual obeys them."""
    command = f"unset COLUMNS LINES; {command}"
    session = f"es-cli-{uuid.uuid4().hex[:8]}"
    size = ["-x", "160", "-y", "48"]
    argv = ["tmux", "new-session", "-d", "-s", session, *size, command + "; exec cat"]
    for attempt in range(5):  # a tmux server that is just exiting refuses new sessions
        if subprocess.run(argv, capture_output=True).returncode == 0:
            return session
        time.sleep(0.2 * (attempt + 1))
    subprocess.run(argv, check=True)
    return session


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_no_argument_builds_the_demo_with_progress_then_opens_it(tmp_path: Path) -> None:
    session = run_in_tmux(f"XDG_DATA_HOME={tmp_path} {EVENTSCOPE}; echo EXITED=$?")
    seen: list[str] = []

    def screen() -> str:
        text = subprocess.run(
            ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True
        ).stdout
        seen.append(text)
        return text

    try:
        deadline = time.monotonic() + 120
        while "READ-ONLY" not in screen() or "account-0" not in seen[-1]:
            assert time.monotonic() < deadline and "EXITED=" not in seen[-1], seen[-1]
            time.sleep(0.05)  # polling a real terminal
        assert any("building the demo store" in text for text in seen)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        while "EXITED=0" not in screen():
            assert time.monotonic() < deadline, seen[-1]
            time.sleep(0.05)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert list(tmp_path.rglob("demo.db"))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_deep_link_in_a_real_terminal_and_clean_quit(store: Path) -> None:
    command = f"{EVENTSCOPE} open {store} --stream account-0004 --version 3; echo EXITED=$?"
    session = run_in_tmux(command)

    def screen() -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True
        ).stdout

    def wait_for(text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.05)  # polling a real terminal, not synchronising threads
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    try:
        shown = wait_for("v 3 / ")
        assert "timeline account-0004" in shown
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        after = wait_for("EXITED=0")
        # The alternate screen is gone: nothing of the UI is left in the pane.
        assert "timeline account-0004" not in after and "READ-ONLY" not in after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
