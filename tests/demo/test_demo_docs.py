"""The guided tour in README.md quotes real output of the default demo: run
its `eventscope diff` commands on a fresh default build and compare, and check that the
ids it names are the ones the manifest plants -- so the README cannot drift."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo_data import DEFAULT_EVENTS, DEFAULT_SEED, build_demo
from explorer.cli import main

DOC = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("tour") / "demo.db"
    return path, build_demo(path, DEFAULT_EVENTS, DEFAULT_SEED)


def quoted_diff_commands(text: str) -> list[tuple[str, list[str]]]:
    """[(command, expected output lines)] for every `$ eventscope diff` in console blocks."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        lines = block.strip().splitlines()
        for index, line in enumerate(lines):
            if line.startswith("$ eventscope diff "):
                expected = []
                for following in lines[index + 1 :]:
                    if following.startswith("$ "):
                        break
                    expected.append(following)
                out.append((line[2:], expected))
    return out


def test_the_tour_quotes_real_output(default_demo) -> None:
    path, _manifest = default_demo
    commands = quoted_diff_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) == 2
    for command, expected in commands:
        args = [str(path) if arg == "demo.db" else arg for arg in shlex.split(command)[1:]]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == expected, command


def test_the_tour_names_the_planted_ids(default_demo) -> None:
    _path, manifest = default_demo
    text = DOC.read_text(encoding="utf-8")
    by_kind: dict[str, list[dict]] = {}
    for item in manifest["anomalies"]:
        by_kind.setdefault(item["kind"], []).append(item)
    (burst,) = by_kind["burst_before_freeze"]
    assert f"`{burst['stream_id']}`" in text
    assert f"{burst['movements']} withdrawals and transfers out" in text
    corrections = {item["stream_id"]: item for item in by_kind["backdated_correction"]}
    quoted = re.search(r"on\n?\s*`(account-\d+)` corrects", text)
    assert quoted is not None and quoted.group(1) in corrections
    assert f"position {corrections[quoted.group(1)]['position']}" in text
