"""The access log: exports record who took what; the log is hash-chained, so an edited,
removed or reordered entry is named, and a cut tail is caught against a digest."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from eventscope.domain.evidence.access_log import read_entries, record_access, verify_access_log
from eventscope.domain.evidence.errors import EvidenceError

from tests.evidence.conftest import run


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log.jsonl"
    monkeypatch.setenv("EVENTSCOPE_ACCESS_LOG", str(path))
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def test_exports_are_recorded_and_the_log_verifies(demo_db: str, log: Path, tmp_path: Path) -> None:
    assert run("report", demo_db, "account-000001", "--version", "3")[0] == 0
    assert (
        run("bundle", demo_db, "--stream", "account-000002", "-o", str(tmp_path / "c.zip"))[0] == 0
    )
    assert run("report", demo_db, "account-000001", "--no-access-log")[0] == 0
    entries = list(read_entries(log))
    assert [(e["seq"], e["action"], e["stream"]) for e in entries] == [
        (1, "report-md", "account-000001"),
        (2, "bundle", "account-000002"),
    ]
    events = orjson.loads(run("events", demo_db, "account-000001", "--json")[1])
    assert entries[0]["positions"] == [events[0]["position"], events[2]["position"]]
    assert entries[0]["source"].endswith("demo.db") and entries[0]["actor"]
    code, out, _ = run("access-log", "verify", "--json")
    assert code == 0 and orjson.loads(out)["checked"] == 2
    assert "account-000002" in run("access-log", "show")[1]


def _filled(log: Path, n: int = 5) -> None:
    for i in range(n):
        record_access("ann", "view", "demo.db", f"acct-{i}", [i], path=log)


@pytest.mark.parametrize("offset", [3, 40, 120, -70, -2])
def test_one_byte_edit_names_the_entry(log: Path, offset: int) -> None:
    _filled(log)
    data = lines(log)
    edited = bytearray(data[2])
    edited[offset] ^= 0x01
    data[2] = bytes(edited)
    log.write_bytes(b"\n".join(data) + b"\n")
    result = verify_access_log(log)
    assert not result.ok and result.first_bad_seq == 3, result


def test_removed_and_reordered_entries_are_named(log: Path) -> None:
    _filled(log)
    data = lines(log)
    log.write_bytes(b"\n".join(data[:1] + data[2:]) + b"\n")
    assert verify_access_log(log).first_bad_seq == 2
    log.write_bytes(b"\n".join([data[0], data[2], data[1], *data[3:]]) + b"\n")
    assert verify_access_log(log).first_bad_seq == 2


def test_cut_tail_is_caught_against_a_digest_through_the_cli(log: Path) -> None:
    _filled(log)
    code, digest, _ = run("access-log", "digest")
    assert code == 0 and digest.startswith("5:")
    log.write_bytes(b"\n".join(lines(log)[:3]) + b"\n")
    assert run("access-log", "verify")[0] == 0  # a shorter log is still a valid chain...
    code, out, _ = run("access-log", "verify", "--against", digest.strip())
    assert code == 1 and "BROKEN at entry 4" in out  # ...but not the one kept outside


def test_concurrent_writers_never_interleave(log: Path) -> None:
    def write(worker: int) -> None:
        for i in range(20):
            record_access(f"w{worker}", "view", "demo.db", None, [i], path=log)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = verify_access_log(log)
    assert result.ok and result.checked == 120


def test_damaged_last_line_is_refused_and_left_alone(log: Path) -> None:
    _filled(log, 2)
    log.write_bytes(log.read_bytes()[:-5])
    before = log.read_bytes()
    with pytest.raises(EvidenceError, match="damaged"):
        record_access("ann", "view", "demo.db", path=log)
    assert log.read_bytes() == before


def test_unwritable_log_warns_but_the_report_is_written(
    demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("EVENTSCOPE_ACCESS_LOG", str(blocker / "log.jsonl"))
    target = tmp_path / "r.md"
    code, _, err = run("report", demo_db, "account-000001", "-o", str(target))
    assert code == 0 and target.read_text().startswith("# Audit report")
    assert "warning: cannot write the access log" in err
