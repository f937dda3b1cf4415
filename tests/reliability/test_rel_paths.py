"""Output paths (reliability.md test 20): `eventscope export` never overwrites, follows a
symlink, or writes outside the intended folder without `--force`, and a write is atomic:
a failure part-way leaves the old file (or nothing) and no temporary file behind.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.atomic_file import OutputRefused, atomic_output, check_output_path
from eventscope.explorer.cli import main
from eventscope.store import ANY, EventStore, NewEvent
from reliability_support import figure


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "store.db"
    path.parent.mkdir()
    store = EventStore.open(path)
    store.append_streams(
        [
            (f"acct-{n % 7}", [NewEvent("Deposited", {"n": n, "memo": "m" * 300})], ANY, "acct")
            for n in range(4000)
        ]
    )
    store.close()
    return path


def _export(source: Path, target: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export", str(source), "--jsonl", str(target), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stderr


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_export_targets_that_exist_or_are_links_are_refused_without_force(
    history: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside" / "precious.txt"
    outside.parent.mkdir()
    outside.write_text("do not touch")
    existing = out / "existing.jsonl"
    existing.write_text("old export")
    link_out = out / "link.jsonl"
    link_out.symlink_to(outside)
    dangling = out / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "outside" / "nothing-here")
    refused = {
        "existing file": (existing, "already exists"),
        "symlink to a file outside": (link_out, "symbolic link"),
        "dangling symlink": (dangling, "symbolic link"),
        "directory": (out, "directory"),
        "missing folder": (out / "no" / "such" / "x.jsonl", "does not exist"),
        "device file": (Path("/dev/null"), "already exists"),
        "the source itself": (history, "evidence"),
    }
    before = {p: _digest(p) for p in (existing, outside, history)}
    for label, (target, words) in refused.items():
        status, stderr = _export(history, target)
        assert status == 2, (label, status, stderr)
        lines = [line for line in stderr.strip().splitlines() if line]
        assert words in lines[-1] and "Traceback" not in stderr, (label, stderr)
        if label != "directory":  # (click itself refuses a directory, with its usage line)
            assert len(lines) == 1 and lines[0].startswith("eventscope: "), (label, stderr)
    assert {p: _digest(p) for p in before} == before  # nothing written anywhere
    assert not dangling.exists() and link_out.is_symlink()
    assert _leftovers(out) == []
    # With --force: the existing file is replaced, and a symlink to a regular file keeps
    # being a symlink while its target is replaced (never renamed over the link itself).
    assert _export(history, existing, "--force")[0] == 0
    assert _export(history, link_out, "--force")[0] == 0
    assert link_out.is_symlink() and outside.read_bytes().count(b"\n") == 4000
    lines = existing.read_bytes().splitlines()
    assert len(lines) == 4000 and orjson.loads(lines[-1])["position"] == 4000
    assert _export(history, history, "--force")[0] == 2  # never onto the evidence itself
    assert _digest(history) == before[history]
    figure(
        "paths/export",
        f"{len(refused)} unsafe export targets refused with one sentence (existing, symlink "
        "out, dangling link, directory, missing folder, /dev/null, the source); --force "
        "replaces a link's regular target, never the link; 0 bytes written elsewhere",
    )


def test_targets_outside_the_intended_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    escape_link = folder / "escape"
    escape_link.symlink_to(tmp_path)  # a folder link that leads out
    for target in (
        folder / ".." / "x.jsonl",
        tmp_path / "x.jsonl",
        escape_link / "x.jsonl",
    ):
        with pytest.raises(OutputRefused, match="outside"):
            check_output_path(target, within=folder)
    assert check_output_path(folder / "ok.jsonl", within=folder) == folder / "ok.jsonl"
    assert check_output_path(folder / ".." / "x.jsonl", within=folder, force=True)


def test_a_failure_part_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.jsonl"
    target.write_bytes(b"the previous export\n")
    with pytest.raises(RuntimeError), atomic_output(target, force=True) as stream:
        stream.write(b"half of a new export\n" * 1000)
        raise RuntimeError("the source failed part-way")
    assert target.read_bytes() == b"the previous export\n"
    assert _leftovers(tmp_path) == []
    fresh = tmp_path / "fresh.jsonl"
    with pytest.raises(RuntimeError), atomic_output(fresh) as stream:
        stream.write(b"partial")
        raise RuntimeError("boom")
    assert not fresh.exists() and _leftovers(tmp_path) == []


def test_an_export_that_fails_on_a_damaged_store_leaves_nothing(
    history: Path, tmp_path: Path
) -> None:
    """A damaged page part-way through the events makes the read fail mid-export: the
    command says so in one sentence and the target is neither created nor half-written."""
    damaged = tmp_path / "damaged.db"
    data = bytearray(history.read_bytes())
    page = 4096
    # The page that holds event 2000's row, found by its payload, so the damage is always
    # on a page the export reads (a page of an index the scan never touches, or random
    # bytes that happened to form a plausible page, were once read without an error).
    found = bytes(data).find(b'"n":2000}')
    assert found > 0, "the history's event 2000 is not stored where the test expects"
    middle = found // page * page
    data[middle : middle + page] = random.Random(18).randbytes(page)
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "partial.jsonl"
    status, stderr = _export(damaged, target)
    assert status == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert not target.exists() and _leftovers(out) == []
    old = out / "old.jsonl"
    old.write_text("old\n")
    assert _export(damaged, old, "--force")[0] == 2
    assert old.read_text() == "old\n" and _leftovers(out) == []
