"""Issue 13: building Message DB's stream catalog (the first open) shows a progress bar
on stderr when stderr is a terminal, and nothing when it is a pipe (so `--json` and
scripts stay clean). Run as a user would: the real CLI in a subprocess, stderr on a
pseudo-terminal, a fresh cache folder so the catalog is built."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from eventscope.explorer.cli.common import PREPARING

pytestmark = pytest.mark.postgres


def run_cli(args: list[str], cache: Path, *, tty: bool) -> tuple[bytes, bytes]:
    env = {**os.environ, "EVENTSCOPE_CACHE_DIR": str(cache), "COLUMNS": "120"}
    command = [str(Path(sys.executable).parent / "eventscope"), *args]
    if not tty:
        done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)
        return done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        out_path = cache.with_suffix(".out")
        out_file = out_path.open("wb")
        child = subprocess.Popen(command, env=env, stdout=out_file, stderr=slave)
        out_file.close()
        os.close(slave)
        stderr = bytearray()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            stderr.extend(chunk)
        assert child.wait(timeout=120) == 0, bytes(stderr)
        return out_path.read_bytes(), bytes(stderr)
    finally:
        os.close(master)


def test_the_first_catalog_build_shows_progress_on_a_terminal_only(
    messagedb_url: str, tmp_path: Path
) -> None:
    stdout, stderr = run_cli(["streams", messagedb_url, "--json"], tmp_path / "a", tty=True)
    assert PREPARING.encode() in stderr
    assert re.search(rb"[0-9,]+/[0-9,]+ events", stderr), stderr  # the source reported
    assert orjson.loads(stdout)  # stdout is still exactly the JSON
    piped_out, piped_err = run_cli(["streams", messagedb_url, "--json"], tmp_path / "b", tty=False)
    assert PREPARING.encode() not in piped_err and b"\x1b" not in piped_err  # no bar
    assert orjson.loads(piped_out) == orjson.loads(stdout)
