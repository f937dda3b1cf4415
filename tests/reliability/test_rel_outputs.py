"""Output paths that would destroy evidence or the machine (reliability.md test 20).

* `report`, `bundle` and `export` never write the store they read, its `-wal`, `-shm`,
  `-journal`, its demo manifest, a JSON Lines source or the access log -- with or
  without `--force`, however the path is spelled, whether the side file exists yet or
  not. The explorer's report dialog follows the same rule.
* `--force` never renames over a non-regular file: `/dev/null` stays a device, a symlink
  stays a symlink (its regular target is replaced), a FIFO is written through.
* A full disk, a name too long, a folder under /proc or /sys, `events > /dev/full`: one
  sentence each, exit status 2, and no file or temporary file left behind.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.cli import main
from eventscope.store import NewEvent, open_source
from reliability_support import figure

STREAM = "account-000001"


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVENTSCOPE_ACCESS_LOG", str(tmp_path / "log" / "access.jsonl"))
    (tmp_path / "log").mkdir()
    folder = tmp_path / "case"
    folder.mkdir()
    build_fixture_store(folder / "bank.db")
    return folder / "bank.db"


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stderr


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _writers(source: Path, target: Path) -> dict[str, list[str]]:
    return {
        "report": ["report", str(source), STREAM, "-o", str(target)],
        "report-html": ["report", str(source), STREAM, "--format", "html", "-o", str(target)],
        "bundle": ["bundle", str(source), "--stream", STREAM, "-o", str(target)],
        "export": ["export", str(source), "--jsonl", str(target)],
    }


def test_no_command_writes_over_the_source_or_its_side_files(demo: Path, tmp_path: Path) -> None:
    folder = demo.parent
    live = open_source(demo, read_only=False)  # keeps a -wal with committed events alive
    live.append(STREAM, [NewEvent("Noted", {"n": n}) for n in range(74)])  # type: ignore[attr-defined]
    assert Path(f"{demo}-wal").stat().st_size > 0
    (folder / "alias.db").symlink_to(demo)
    os.link(demo, folder / "hard.db")
    jsonl = tmp_path / "history.jsonl"
    assert _run(["export", str(demo), "--jsonl", str(jsonl)])[0] == 0
    access_log = Path(os.environ["EVENTSCOPE_ACCESS_LOG"])
    targets = {
        "the store": demo,
        "its -wal (holding 74 committed events)": Path(f"{demo}-wal"),
        "its -shm": Path(f"{demo}-shm"),
        "its -journal (not there yet)": Path(f"{demo}-journal"),
        "its demo manifest": Path(f"{demo}.manifest.json"),
        "a symlink to it": folder / "alias.db",
        "a hard link to it": folder / "hard.db",
        "the store spelled with ..": folder / ".." / "case" / "bank.db",
        "the access log": access_log,
    }
    before, jsonl_before = _fingerprint(folder), jsonl.read_bytes()
    log_before = access_log.read_bytes() if access_log.exists() else b""
    tried = 0
    for label, target in targets.items():
        for name, args in _writers(demo, target).items():
            for extra in ([], ["--force"]):
                status, stderr = _run(args + extra)
                tried += 1
                assert status == 2, (label, name, extra, stderr)
                assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
                if extra:  # the refusal that --force cannot lift
                    assert "evidence being read" in stderr, (label, name, stderr)
    for name, args in _writers(jsonl, jsonl).items():  # a JSON Lines source
        for extra in ([], ["--force"]):
            status, stderr = _run(args + extra)
            tried += 1
            assert status == 2 and "evidence being read" in stderr, (name, stderr)
    for target in (Path(f"{jsonl}-wal"), jsonl):  # import into a source's file or side file
        status, stderr = _run(["import", str(jsonl), "--db", str(target)])
        tried += 1
        assert status == 2 and "evidence being read" in stderr, stderr
    assert _fingerprint(folder) == before and jsonl.read_bytes() == jsonl_before
    assert (access_log.read_bytes() if access_log.exists() else b"") == log_before
    live.close()  # type: ignore[attr-defined]
    reopened = open_source(demo)
    assert reopened.stream_info(STREAM).version >= 74 and reopened.verify().ok
    reopened.close()
    figure(
        "outputs/evidence",
        f"{tried}/{tried} writes onto the source, its -wal/-shm/-journal, manifest, links, "
        "a JSON Lines source or the access log refused (with and without --force); 0 bytes "
        "changed, the 74 events in the -wal kept",
    )


def test_force_never_renames_over_a_device_a_symlink_or_a_fifo(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # A character device: written through, still a device afterwards.
    assert _run(["report", str(demo), STREAM, "-o", "/dev/null", "--force"])[0] == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # A symlink to a device (what /dev/stdout is): the link stays a link.
    to_device = out / "stdout-like"
    to_device.symlink_to("/dev/null")
    assert _run(["report", str(demo), STREAM, "-o", str(to_device), "--force"])[0] == 0
    assert to_device.is_symlink() and os.readlink(to_device) == "/dev/null"
    # A symlink to a regular file: its target is replaced, the link is kept.
    kept = out / "kept.md"
    kept.write_text("old report")
    link = out / "link.md"
    link.symlink_to(kept)
    assert _run(["report", str(demo), STREAM, "-o", str(link), "--force"])[0] == 0
    assert link.is_symlink() and kept.read_text().startswith("# Audit report")
    # A FIFO: written through to the reader, not replaced by a file.
    fifo = out / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert _run(["report", str(demo), STREAM, "-o", str(fifo), "--force"])[0] == 0
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and received[0].startswith(b"# Audit report")
    # A dangling link or a directory: refused.
    dangling = out / "dangling"
    dangling.symlink_to(out / "nothing")
    for target in (dangling, out):
        status, stderr = _run(["report", str(demo), STREAM, "-o", str(target), "--force"])
        assert status == 2 and "Traceback" not in stderr, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "dangling",
        "kept.md",
        "link.md",
        "pipe",
        "stdout-like",
    ]
    help_text = " ".join(CliRunner().invoke(main, ["report", "--help"]).output.split())
    assert "symlink's target" in help_text and "written through" in help_text
    figure(
        "outputs/force",
        "--force: /dev/null stayed a device, 2 symlinks stayed links, a FIFO was written "
        "through, a dangling link and a folder were refused",
    )


def test_os_errors_while_writing_are_one_sentence_and_leave_nothing(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    cases = {
        "disk full": ("/dev/full", "disk is full"),
        "name too long": (str(out / ("n" * 300 + ".md")), "too long"),
        "under /proc": ("/proc/eventscope-report.md", "cannot write"),
        "under /proc/self": ("/proc/self/eventscope.md", "cannot write"),
    }
    if Path("/sys").is_dir():
        cases["under /sys"] = ("/sys/eventscope-report.md", "cannot write")
    tried = 0
    for label, (target, words) in cases.items():
        for name, args in _writers(demo, Path(target)).items():
            status, stderr = _run([*args, "--force"])
            tried += 1
            lines = stderr.strip().splitlines()
            assert status == 2 and len(lines) == 1 and words in lines[0], (label, name, stderr)
    assert list(out.iterdir()) == []
    # stdout on a full disk, through a real process (the interpreter's own exit flush).
    for args in (["events", str(demo), STREAM], ["streams", str(demo), "--json"]):
        with open("/dev/full", "wb") as full:
            done = subprocess.run(
                [str(Path(sys.executable).parent / "eventscope"), *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=120,
            )
        tried += 1
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == "eventscope: cannot write the output: the disk is full"
    figure(
        "outputs/os-errors",
        f"{tried}/{tried} failed writes (disk full, name too long, /proc, /sys, stdout on "
        "/dev/full) ended in one sentence and exit 2; 0 files left",
    )
