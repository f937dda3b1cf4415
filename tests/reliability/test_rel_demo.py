"""The demo as a guest: it labels what it builds, and it leaves nothing behind.

* Store labels (`store_labels`), which carry the demo's ``eventscope.demo`` marker, work
  the same on SQLite and PostgreSQL, read-only sessions read them and cannot write them,
  and a store made before the table existed has none.
* A demo build killed with SIGTERM or SIGHUP removes its ``.NAME.building-PID`` store
  and exits 128 + the signal; what a SIGKILL leaves is removed by the next build; a demo
  larger than the free disk is refused before anything is written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.demo_data import build_demo
from eventscope.domain.demo import DEMO_LABEL, built_by_demo
from eventscope.explorer.cli import main
from eventscope.store import NewEvent, ReadOnlyError
from reliability_support import figure

from tests.conftest import StoreFactory

EVENTSCOPE = str(Path(sys.executable).parent / "eventscope")


def test_store_labels_are_written_once_and_read_everywhere(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.append("account-1", [NewEvent("Opened", {"balance": 1})], stream_type="account")
    assert store.label(DEMO_LABEL) is None and not built_by_demo(store)
    store.set_label(DEMO_LABEL, '{"generator_version": "1"}')
    store.set_label(DEMO_LABEL, '{"generator_version": "2"}')  # one value per key
    reader = store_factory(read_only=True)
    assert reader.label(DEMO_LABEL) == '{"generator_version": "2"}' and built_by_demo(reader)
    with pytest.raises(ReadOnlyError):
        reader.set_label("eventscope.other", "x")
    # A store made before labels existed: no table, no label, no error.
    store_factory.raw_execute("DROP TABLE store_labels")
    assert store_factory(read_only=True).label(DEMO_LABEL) is None


def _building(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".building-" in p.name)


def _start_build(db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EVENTSCOPE, "demo", "--db", str(db), "--events", "400000", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_until_building(process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 120
    while not _building(folder):  # waiting for the state the test asserts on
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_demo_builds_leave_nothing_behind(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    for sig in (signal.SIGTERM, signal.SIGHUP):
        process = _start_build(db)
        _wait_until_building(process, tmp_path)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 128 + sig, (sig, process.returncode, stderr)
        assert b"Traceback" not in stderr
        assert _building(tmp_path) == [] and not db.exists(), sig
    process = _start_build(db)
    _wait_until_building(process, tmp_path)
    os.killpg(process.pid, signal.SIGKILL)  # the build and its simulating child
    process.communicate(timeout=60)
    leftovers = _building(tmp_path)
    assert leftovers, "a SIGKILL cannot be cleaned up by the process itself"
    build_demo(db, 400)  # the next build removes what the dead one left
    assert _building(tmp_path) == [] and built_by_demo_file(db)
    figure(
        "demo/killed-builds",
        f"SIGTERM and SIGHUP: temporary store removed, exit 143/129; SIGKILL left "
        f"{len(leftovers)} file(s), removed by the next build",
    )


def built_by_demo_file(db: Path) -> bool:
    from eventscope.store import open_source

    source = open_source(db)
    try:
        return built_by_demo(source)
    finally:
        source.close()


def test_a_running_build_of_another_process_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    alive = tmp_path / f".demo.db.building-{os.getppid()}"  # a live process's build
    alive.write_bytes(b"in progress")
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: no such process
    dead = [tmp_path / f".demo.db.building-{dead_pid}{s}" for s in ("", "-wal", "-shm")]
    for path in dead:
        path.write_bytes(b"left by a SIGKILL")
    build_demo(db, 400)
    assert alive.exists() and not any(path.exists() for path in dead)


def test_a_demo_larger_than_the_disk_is_refused_before_writing(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    too_many = min(free // 1_000 + 1, 50_000_000)
    for events in (too_many, 50_000_001):
        result = CliRunner().invoke(
            main, ["demo", "--db", str(tmp_path / "x.db"), "--events", str(events)]
        )
        assert result.exit_code == 2, result.output
        last = result.stderr.strip().splitlines()[-1]
        assert "Traceback" not in result.output and ("free" in last or "range" in last), last
    assert list(tmp_path.iterdir()) == []
