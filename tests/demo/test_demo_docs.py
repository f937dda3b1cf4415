"""The guided tour in README.md quotes real output of the default demo: run
its `eventscope diff` commands on a fresh default build and compare, and check that the
ids it names are the ones the manifest plants -- so the README cannot drift."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventscope.demo_data import DEFAULT_EVENTS, DEFAULT_SEED, build_demo
from eventscope.explorer.cli import main

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
    assert len(commands) == 3
    for command, expected in commands:
        args = [str(path) if arg == "demo.db" else arg for arg in shlex.split(command)[1:]]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        # A snapshot's created_at is when the demo was built: compare the rest of its line.
        assert _undated(result.output.splitlines()) == _undated(expected), command


def _undated(lines: list[str]) -> list[str]:
    return [
        re.sub(r" at \S+Z$", " at <created_at>", line)
        if line.startswith("snapshot written by")
        else line
        for line in lines
    ]


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


def test_the_backdated_correction_as_of_business_time(default_demo) -> None:
    """The named case: on 30 March 00:00 (business time) account-000320 had seen its
    opening, a deposit, a transfer in and the backdated correction of 27 March -- not
    the withdrawal of 30 March 13:07 or anything later, although their versions are
    lower than the correction's."""
    path, _manifest = default_demo
    args = ["state", str(path), "account-000320", "--at", "2026-03-30T00:00:00Z"]
    result = CliRunner().invoke(main, [*args, "--axis", "occurred", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["state"]["balance_cents"] == 131720
    assert printed["applied_versions"] == [1, 2, 7, 3]
    assert printed["version"] == 7
    # As known on 1 April the correction (recorded 2 April) was not known yet.
    result = CliRunner().invoke(
        main, [*args, "--axis", "occurred", "--known-at", "2026-04-01T00:00:00Z", "--json"]
    )
    assert json.loads(result.stdout)["applied_versions"] == [1, 2, 3]
    text = DOC.read_text(encoding="utf-8")
    assert "131720" in text and "--axis occurred" in text


def test_first_divergence_names_the_cause_on_the_default_demo(default_demo) -> None:
    """The tour's stale snapshot of account-000169 (v20, written by bank-2.1 which ignored
    FeeCharged): the cause is the first FeeCharged, v8; the projection row of
    account-000402 missed the planted deposit."""
    from eventscope.domain import Engine
    from eventscope.domain.demo import DOMAIN
    from eventscope.domain.divergence import projection_cause, snapshot_cause
    from eventscope.store import EventStore

    path, manifest = default_demo
    with EventStore.open(str(path), read_only=True) as store:
        engine = Engine(store, DOMAIN)
        finding = snapshot_cause(engine, "account-000169")
        assert (finding.found, finding.version) == ("cause", 8)
        assert "first wrong snapshot is v20" in finding.sentence
        assert "bank-2.1" in finding.sentence
        missed = next(a for a in manifest["anomalies"] if a["kind"] == "projection_missed_event")
        found = projection_cause(engine, missed["projection"], missed["key"])
        assert found.found == "cause" and missed["position"] in found.candidates
