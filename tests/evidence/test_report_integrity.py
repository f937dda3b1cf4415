"""Issue 12 §2: a report puts the integrity verdict first, marks every altered event's
row, and never advises keeping a digest of a broken chain; on both backends, and for a
source without a chain it says integrity is not proven."""

from __future__ import annotations

import pytest
from eventscope.store import NO_STREAM, NewEvent

from tests.evidence.conftest import run


def _source(store_factory) -> str:
    if store_factory.backend == "sqlite":
        return store_factory.location
    return f"{store_factory.location}?schema={store_factory.open_options['schema']}"


@pytest.fixture
def ledger(store_factory):
    store = store_factory()
    store.append(
        "acct-1",
        [NewEvent("Noted", {"n": i}, {"actor": "clerk"}) for i in range(6)],
        expected_version=NO_STREAM,
        stream_type="account",
    )
    store.close()
    return store_factory


def _rows(markdown: str, title: str) -> list[list[str]]:
    part = markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in part.splitlines()
        if line.startswith("|") and not line.startswith("| ---") and "---" not in line
    ][1:]


def test_broken_chain_first_every_altered_row_marked_no_digest_advice(ledger) -> None:
    for position in (2, 5):
        ledger.raw_execute(
            "UPDATE events SET data = :d WHERE position = :p", {"d": '{"n":-1}', "p": position}
        )
    code, out, err = run("report", _source(ledger), "acct-1", "--no-access-log")
    assert code == 0, err
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Hash chain" and headings.index("## State") > 0
    chain = out.split("## Hash chain\n", 1)[1].split("\n## ", 1)[0]
    assert "**BROKEN** at position 2: 2 bad position(s)" in chain
    assert "Keep this digest" not in out and "Head digest" not in out
    events = _rows(out, "Events up to version 6")
    marked = [int(row[1]) for row in events if row[9].startswith("LINK BROKEN: ")]
    assert marked == [2, 5]
    code, html, _ = run("report", _source(ledger), "acct-1", "--format", "html", "--no-access-log")
    assert html.index("<h2>Hash chain</h2>") < html.index("<h2>State</h2>")
    assert "Keep this digest" not in html and html.count("LINK BROKEN: ") == 2


def test_a_sound_chain_still_gets_the_digest_advice(ledger) -> None:
    code, out, _ = run("report", _source(ledger), "acct-1", "--no-access-log")
    assert code == 0 and "**OK**: 6 events verified." in out and "Keep this digest" in out
    assert "LINK BROKEN" not in out


def test_a_source_without_a_chain_is_not_proven(tmp_path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(
        "".join(
            f'{{"stream_id": "acct-1", "version": {v}, "event_type": "Noted", '
            f'"data": {{"n": {v}}}, "recorded_at": "2026-03-01T09:00:0{v}Z"}}\n'
            for v in range(1, 4)
        )
    )
    code, out, err = run("report", str(path), "acct-1", "--no-access-log")
    assert code == 0, err
    chain = out.split("## Hash chain\n", 1)[1].split("\n## ", 1)[0]
    assert "**NOT PROVEN**" in chain and "integrity cannot be proven" in chain
    assert "positions strictly increasing" in chain and "Keep this digest" not in out
