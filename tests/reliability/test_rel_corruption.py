"""Corruption (reliability.md test 9): flipped bytes and truncation in *copies* of a store
file, of its write-ahead log, and of a JSON Lines export, read through the CLI exactly as
a user would (CliRunner for the whole matrix, real subprocesses for a sample).

For every damaged copy, whatever the damage:
* never a traceback -- exit 0, 1 (chain broken) or 2 (one sentence on stderr);
* never a silent change -- if `verify` says ok, the history it vouches for is the
  original one or a prefix of it, and `verify --against` the digest kept outside names
  the first missing position; `events` printing successfully prints the original events;
* never a silent repair -- reading leaves the damaged files byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import ANY, EventStore, NewEvent
from reliability_support import figure

BATCHES = 6
PER_BATCH = 500
TAIL = 300  # events committed into the WAL last
STREAM = "acct-007"


def _append(store: EventStore, batch: int, count: int) -> None:
    store.append_streams(
        [
            (
                f"acct-{i % 20:03d}",
                [NewEvent("Deposited", {"amount": i, "batch": batch, "memo": "m" * 40})],
                ANY,
                "acct",
            )
            for i in range(count)
        ]
    )


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A checkpointed store file, the same store with every page still in its WAL, a
    JSON Lines export of it, and the truth about each (digests, chain hashes, outputs)."""
    folder = tmp_path_factory.mktemp("originals")
    db = folder / "store.db"
    store = EventStore.open(db)
    for batch in range(BATCHES):
        _append(store, batch, PER_BATCH)
    # A reader transaction pins the WAL so the copy keeps its frames (nothing checkpointed).
    pin = sqlite3.connect(db)
    pin.execute("BEGIN")
    pin.execute("SELECT COUNT(*) FROM events").fetchone()
    _append(store, 99, TAIL)
    wal_copy = folder / "wal" / "store.db"
    wal_copy.parent.mkdir()
    shutil.copy(db, wal_copy)
    shutil.copy(f"{db}-wal", f"{wal_copy}-wal")
    pin.close()
    digest = str(store.head_digest())
    hashes = {0: "00" * 32} | {e.position: e.hash for e in store.read_all()}
    store.close()  # checkpoints: db alone now holds everything
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    runner = CliRunner()
    export = folder / "export.jsonl"
    assert runner.invoke(main, ["export", str(db), "--jsonl", str(export)]).exit_code == 0
    events_json = runner.invoke(main, ["events", str(db), STREAM, "--json"]).stdout
    return {
        "db": db,
        "wal": wal_copy,
        "export": export,
        "digest": digest,
        "hashes": hashes,
        "events_json": events_json,
        "total": BATCHES * PER_BATCH + TAIL,
    }


def _damage(source: Path, target: Path, *, flip: int | None = None, cut: int | None = None):
    data = bytearray(source.read_bytes())
    if flip is not None:
        data[flip] ^= 0xFF
    if cut is not None:
        data = data[:cut]
    target.write_bytes(bytes(data))


def _fingerprint(*paths: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths if path.exists()
    }


class Outcomes:
    """Counts what the CLI said about each damaged copy (for the figures)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def run(self, args: list[str]) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, args)
        # Exit codes only; an uncaught exception would be the traceback a user sees.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
        assert "Traceback" not in result.stderr
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("eventscope: "), result.stderr
        return result.exit_code, result.stdout, result.stderr

    def check_store(self, path: Path, truth: dict) -> str:
        """verify / events / streams on one damaged copy; returns the verdict."""
        status, out, _ = self.run(["verify", str(path), "--json"])
        if status == 2:
            verdict = "refused"
        elif status == 1:
            verdict = "broken"
            report = orjson.loads(out)
            assert report["ok"] is False and report["first_bad_position"] is not None
        else:
            report = orjson.loads(out)
            position, head_hash = report["head"].split(":")
            # ok means: exactly the original history, or a prefix of it ...
            assert truth["hashes"][int(position)] == head_hash, report
            if int(position) == truth["total"]:
                verdict = "intact"
            else:
                # ... and the digest kept outside exposes the missing tail.
                status, out, _ = self.run(
                    ["verify", str(path), "--json", "--against", truth["digest"]]
                )
                assert status == 1, out
                assert orjson.loads(out)["first_bad_position"] == int(position) + 1
                verdict = "prefix-caught-by-digest"
        status, out, _ = self.run(["events", str(path), STREAM, "--json"])
        if status == 0 and verdict == "intact":
            assert out == truth["events_json"], "events printed from a damaged file differ"
        self.run(["streams", str(path)])
        self.counts[verdict] += 1
        return verdict


def _db_offsets(size: int) -> list[int]:
    rng = random.Random(9)
    header = [0, 5, 16, 18, 21, 28, 40, 44, 56, 92, 96]  # magic, page size, counters, ...
    pages = [4096 * n + k for n in (1, 2, 3) for k in (0, 8, 100, 2000)]
    return header + pages + sorted(rng.sample(range(4096, size), 24))


def test_damaged_store_files_are_reported_never_silently_read_or_repaired(
    originals: dict, tmp_path: Path
) -> None:
    source: Path = originals["db"]
    size = source.stat().st_size
    outcomes = Outcomes()
    cases = [("flip", offset) for offset in _db_offsets(size)]
    cases += [("cut", length) for length in (0, 50, 100, 4096, 8192, size // 2, size - 1)]
    for kind, at in cases:
        folder = tmp_path / f"{kind}-{at}"
        folder.mkdir()
        copy = folder / "store.db"
        _damage(source, copy, **({"flip": at} if kind == "flip" else {"cut": at}))
        before = _fingerprint(copy)
        outcomes.check_store(copy, originals)
        assert _fingerprint(copy) == before, f"{kind} at {at}: reading changed the file"
        assert not Path(f"{copy}-wal").exists() or Path(f"{copy}-wal").stat().st_size == 0
    assert outcomes.counts["broken"] + outcomes.counts["refused"] >= len(cases) // 3
    figure(
        "corruption/database",
        f"{len(cases)} damaged copies ({len(cases) - 7} byte flips, 7 truncations): "
        f"{outcomes.counts['broken']} chain broken (exit 1), {outcomes.counts['refused']} "
        f"refused with one sentence (exit 2), {outcomes.counts['intact']} read intact "
        f"(identical events), {outcomes.counts['prefix-caught-by-digest']} prefixes caught "
        "by --against; 0 tracebacks, 0 silent changes, 0 files modified",
    )


def test_damaged_write_ahead_logs_never_pass_as_the_full_history(
    originals: dict, tmp_path: Path
) -> None:
    """SQLite ignores WAL frames from the first bad checksum on: the store then reads as
    an earlier, consistent state. That must show as a prefix of the true history that the
    digest kept outside exposes -- never as different events, never by rewriting files."""
    source: Path = originals["wal"]
    wal = Path(f"{source}-wal")
    size = wal.stat().st_size
    frame = 24 + 4096
    rng = random.Random(10)
    flips = [0, 8, 16, 24, 32, 24 + 100, frame + 24 + 3000, size // 2, size - 10]
    flips += sorted(rng.sample(range(32, size), 12))
    cuts = [0, 31, 32 + frame * 3 + 7, size // 3, size // 2, size - 1]
    outcomes = Outcomes()
    cases = [("flip", at) for at in flips] + [("cut", at) for at in cuts]
    for kind, at in cases:
        folder = tmp_path / f"{kind}-{at}"
        folder.mkdir()
        copy = folder / "store.db"
        shutil.copy(source, copy)
        _damage(wal, Path(f"{copy}-wal"), **({"flip": at} if kind == "flip" else {"cut": at}))
        before = _fingerprint(copy, Path(f"{copy}-wal"))
        outcomes.check_store(copy, originals)
        after = _fingerprint(copy, Path(f"{copy}-wal"))
        assert after == before, f"{kind} at {at}: reading changed the database or its WAL"
    figure(
        "corruption/wal",
        f"{len(cases)} damaged WAL copies ({len(flips)} flips, {len(cuts)} truncations): "
        f"{outcomes.counts['prefix-caught-by-digest']} read as an earlier state and caught "
        f"by --against, {outcomes.counts['broken']} chain broken, "
        f"{outcomes.counts['refused']} refused, {outcomes.counts['intact']} intact; "
        "0 tracebacks, 0 silent changes, 0 files modified",
    )


def test_a_damaged_write_ahead_log_is_reported_even_without_a_digest(
    originals: dict, tmp_path: Path
) -> None:
    copy = tmp_path / "store.db"
    shutil.copy(originals["wal"], copy)
    wal = Path(f"{originals['wal']}-wal")
    _damage(wal, Path(f"{copy}-wal"), flip=wal.stat().st_size // 2)
    """SQLite shows the earlier state; `verify` must still say the WAL lost commits."""
    before = _fingerprint(copy, Path(f"{copy}-wal"))
    status, out, _ = Outcomes().run(["verify", str(copy), "--json"])
    assert status == 1, out
    report = orjson.loads(out)
    assert "write-ahead log is damaged" in report["reason"]
    position = report["first_bad_position"] - 1
    assert originals["hashes"][position] == report["head"].split(":")[1]
    assert _fingerprint(copy, Path(f"{copy}-wal")) == before


def test_damaged_exports_are_reported_never_silently_read(originals: dict, tmp_path: Path) -> None:
    export: Path = originals["export"]
    data = export.read_bytes()
    line_ends = [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
    rng = random.Random(11)
    flips = sorted(rng.sample(range(len(data)), 30)) + [0, len(data) - 2]
    # (Cutting only the final newline changes nothing a reader sees, so len - 2.)
    cuts = [1, len(data) // 2, len(data) - 2, line_ends[len(line_ends) // 2]]
    outcomes = Outcomes()
    for kind, at in [("flip", at) for at in flips] + [("cut", at) for at in cuts]:
        copy = tmp_path / f"{kind}-{at}.jsonl"
        _damage(export, copy, **({"flip": at} if kind == "flip" else {"cut": at}))
        before = _fingerprint(copy)
        status, out, _ = outcomes.run(["verify", str(copy), "--json"])
        if status == 0:
            report = orjson.loads(out)
            position, head_hash = report["head"].split(":")
            assert originals["hashes"][int(position)] == head_hash
            start = data.rfind(b"\n", 0, at) + 1
            context = (kind, at, data[start : at + 1][-160:])
            assert int(position) < originals["total"], context
            assert kind == "cut" and at in line_ends, context
            status, out, _ = outcomes.run(
                ["verify", str(copy), "--json", "--against", originals["digest"]]
            )
            assert status == 1 and orjson.loads(out)["first_bad_position"] == int(position) + 1
            outcomes.counts["prefix-caught-by-digest"] += 1
        else:
            outcomes.counts["broken" if status == 1 else "refused"] += 1
            if status == 1:
                report = orjson.loads(out)
                assert report["ok"] is False
                assert report["first_bad_position"] is not None or report["malformed"] > 0
        outcomes.run(["events", str(copy), STREAM])
        assert _fingerprint(copy) == before
    total = len(flips) + len(cuts)
    assert outcomes.counts["broken"] + outcomes.counts["refused"] == total - 1
    figure(
        "corruption/jsonl-export",
        f"{total} damaged exports ({len(flips)} flips, {len(cuts)} truncations): "
        f"{outcomes.counts['broken']} reported broken (position or malformed line), "
        f"{outcomes.counts['refused']} refused, {outcomes.counts['prefix-caught-by-digest']} "
        "clean cut at a line end caught by --against; 0 tracebacks, 0 files modified",
    )


def test_a_real_process_on_damaged_files_prints_one_sentence_not_a_traceback(
    originals: dict, tmp_path: Path
) -> None:
    """The same through the installed `eventscope` script: what a user's shell sees."""
    cases: list[tuple[Path, int]] = []
    cut = tmp_path / "cut.db"
    _damage(originals["db"], cut, cut=originals["db"].stat().st_size // 2)
    cases.append((cut, 2))
    header = tmp_path / "header.db"
    _damage(originals["db"], header, flip=0)
    cases.append((header, 2))
    page = tmp_path / "page.db"
    data = originals["db"].read_bytes()
    _damage(originals["db"], page, flip=data.index(b'"amount":234,"batch":3') + 10)
    cases.append((page, 1))
    jsonl = tmp_path / "cut.jsonl"
    _damage(originals["export"], jsonl, cut=originals["export"].stat().st_size // 2)
    cases.append((jsonl, 1))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for path, expected in cases:
        before = _fingerprint(path)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "eventscope"), "verify", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert done.returncode == expected, (path.name, done.returncode, done.stderr)
        assert "Traceback" not in done.stderr
        if expected == 2:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert done.stderr.startswith("eventscope: ") and "damaged" in done.stderr
        else:
            assert done.stdout.startswith("BROKEN at position ") or "malformed" in done.stdout
        assert _fingerprint(path) == before
