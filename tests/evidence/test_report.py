"""Audit reports: content agrees with `state`/`blame`/`events` at the same moment, HTML is
well-formed and self-contained, and hostile stored strings stay inert."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from eventscope.demo_data import build_fixture_store
from eventscope.domain.engine import Engine
from eventscope.domain.evidence import render_report
from eventscope.store import EventStore, NewEvent

from tests.evidence.conftest import run

STREAM = "account-000005"
AT = "2026-04-15T00:00:00Z"
DOMAIN = ("--domain", "eventscope.domain.demo")


def section(markdown: str, title: str) -> str:
    """The body of one `## title` section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, title
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """Cells of a GFM table (header and separator dropped), splitting on unescaped |."""
    rows = []
    for line in text.strip().splitlines()[2:]:
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([c.strip() for c in cells])
    return rows


def unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def xml_tree(document: str) -> ET.Element:
    return ET.fromstring(document.split("\n", 1)[1])  # drop <!DOCTYPE html>


def test_markdown_report_matches_state_blame_and_events_at_a_date(demo_db: str) -> None:
    code, out, err = run("report", demo_db, STREAM, "--at", AT, *DOMAIN)
    assert code == 0, err
    state = orjson.loads(run("state", demo_db, STREAM, "--at", AT, *DOMAIN, "--json")[1])
    version = state["version"]
    assert 0 < version < orjson.loads(run("state", demo_db, STREAM, "--json")[1])["version"]
    assert f"at version {version}" in out.splitlines()[0]

    block = section(out, "State")
    body = block.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    assert orjson.loads(body) == state["state"]

    blame = orjson.loads(
        run("blame", demo_db, STREAM, "--version", str(version), *DOMAIN, "--json")[1]
    )
    rows = table_rows(section(out, "Field blame"))
    assert len(rows) == len(blame)
    for row, entry in zip(rows, blame, strict=True):
        assert unescape_md(row[0]) == ".".join(entry["path"])
        assert orjson.loads(unescape_md(row[1])) == entry["value"]
        if entry["version"] == 0:
            assert row[2] == "initial state"
        else:
            assert row[2] == f"v{entry['version']} @{entry['position']}"
            assert (row[3], unescape_md(row[5]), row[6]) == (
                entry["event_type"],
                entry["actor"],
                entry["recorded_at"],
            )

    events = orjson.loads(run("events", demo_db, STREAM, "--json")[1])[:version]
    rows = table_rows(section(out, f"Events up to version {version}"))
    assert len(rows) == version
    for row, event in zip(rows, events, strict=True):
        assert (int(row[0]), int(row[1])) == (event["version"], event["position"])
        assert unescape_md(row[4]) == event["metadata"]["actor"]
        assert unescape_md(row[5]) == event["metadata"]["correlation_id"]
        assert (row[6], row[7]) == (event["occurred_at"], event["recorded_at"])
        assert orjson.loads(unescape_md(row[8])) == event["data"]
        assert row[9] == event["hash"]

    upcasts = table_rows(section(out, "Schema upcasts applied"))
    stored_v1 = [
        e for e in events if e["schema_version"] == 1 and e["event_type"] == "MoneyDeposited"
    ]
    assert {int(r[1]) for r in upcasts} >= {e["position"] for e in stored_v1}
    assert "**OK**: 400 events verified." in section(out, "Hash chain")
    assert run("digest", demo_db)[1].strip() in section(out, "Hash chain")


def test_report_names_stale_snapshots_and_broken_chains(tmp_path: Path) -> None:
    db = tmp_path / "tampered.db"
    manifest = build_fixture_store(db, tamper=True)
    stale = next(a for a in manifest["anomalies"] if a["kind"] == "stale_snapshot")
    bad = next(a for a in manifest["anomalies"] if a["kind"] == "tampered_event")
    code, out, err = run("report", str(db), stale["stream_id"], *DOMAIN)
    assert code == 0, err
    claims = table_rows(section(out, "Snapshot and projection consistency"))
    row = next(r for r in claims if f"snapshot at version {stale['version']} " in unescape_md(r[0]))
    assert row[1] == "DIFFERS" and stale["field"] in unescape_md(row[2])
    assert f"**BROKEN** at position {bad['position']}" in section(out, "Hash chain")
    code, html, _ = run("report", str(db), stale["stream_id"], *DOMAIN, "--format", "html")
    root = xml_tree(html)  # the DIFFERS rows (with <br/> between differences) stay well-formed
    assert [s.text for s in root.iter("span") if s.get("class") == "bad"].count("BROKEN") == 1
    assert "DIFFERS" in [s.text for s in root.iter("span")]


def test_html_report_is_well_formed_self_contained_and_agrees(demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, _, err = run(
        "report", demo_db, STREAM, "--at", AT, *DOMAIN, "--format", "html", "-o", str(target)
    )
    assert code == 0, err
    document = target.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>")
    root = xml_tree(document)  # raises on any unclosed or misnested tag
    assert root.tag == "html"
    assert not root.findall(".//script") and not root.findall(".//link")
    assert not [e for e in root.iter() if e.get("src") or e.get("href")]
    assert "@media print" in root.find("./head/style").text
    state = orjson.loads(run("state", demo_db, STREAM, "--at", AT, *DOMAIN, "--json")[1])
    assert orjson.loads(root.find(".//pre").text) == state["state"]
    # and it refuses to overwrite without --force
    code, _, err = run("report", demo_db, STREAM, "--format", "html", "-o", str(target))
    assert code != 0 and "already exists" in err
    assert target.read_text(encoding="utf-8") == document


HOSTILE = {
    "note": "<script>alert(1)</script></pre><img src=x onerror=alert(2)>",
    "esc": "\x1b[31mred\x1b]8;;http://evil\x07link",
    "bidi": "abc\u202edcba",
    "fence": "```\n# heading\n| a | b |\n[click](javascript:alert(3))",
    "c1": "\x9b2J",
}


@pytest.fixture
def hostile_db(tmp_path: Path) -> str:
    path = tmp_path / "hostile.db"
    store = EventStore.open(path)
    store.append(
        "acct-<b>1|x",
        [
            NewEvent(
                "Opened",
                dict(HOSTILE),
                {"actor": "<i>mallory</i>\x1b[2J", "correlation_id": "c|`1`"},
            ),
            NewEvent("Noted", {"note": "&amp; </td></tr></table>"}, {"actor": "x\u202e"}),
        ],
        stream_type="acct<script>",
    )
    store.close()
    return str(path)


def _no_raw_controls(text: str) -> None:
    for char in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert char not in text, repr(char)


def test_hostile_strings_are_inert_in_html(hostile_db: str) -> None:
    code, out, err = run("report", hostile_db, "acct-<b>1|x", "--format", "html")
    assert code == 0, err
    _no_raw_controls(out)
    root = xml_tree(out)
    tags = {element.tag for element in root.iter()}
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "pre",
                    "table", "thead", "tbody", "tr", "th", "td", "span", "code", "br"}  # fmt: skip
    assert not [e for e in root.iter() if e.get("onerror") or e.get("src")]
    text = "".join(root.itertext())
    assert "<script>alert(1)</script>" in text and "\\u001b[31mred" in text and "\\u202e" in text
    assert "<i>mallory</i>\\x1b[2J" in text  # actors are not JSON: escaped as \\x1b

    class Balance(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in ("meta", "br"):
                self.stack.append(tag)

        def handle_startendtag(self, tag: str, attrs: object) -> None:
            pass  # <meta/>, <br/>: nothing to balance

        def handle_endtag(self, tag: str) -> None:
            assert self.stack.pop() == tag

    parser = Balance()
    parser.feed(out)
    assert parser.stack == []


def test_hostile_strings_are_inert_in_markdown(hostile_db: str) -> None:
    code, out, err = run("report", hostile_db, "acct-<b>1|x")
    assert code == 0, err
    _no_raw_controls(out)
    # the state block is not closed early by the payload's backticks
    block = section(out, "State").strip()
    fence = block.split("\n", 1)[0].removesuffix("json")
    assert len(fence) > 3 and block.endswith("\n" + fence)
    state = orjson.loads(block[len(fence) + 4 : -len(fence)])
    assert state == {**HOSTILE, "note": "&amp; </td></tr></table>"}  # JSON escapes round-trip
    # outside that literal block, every < & [ ` | from the data is backslash-escaped
    # the hash-chain section is static text (commands in backticks), not data
    outside = out.replace(block, "").replace(section(out, "Hash chain"), "")
    assert "</td>" in block
    for char in "<&`[":
        assert not re.search(rf"(?<!\\){re.escape(char)}", outside), char
    # tables keep their shape: payload pipes are escaped
    rows = table_rows(section(out, "Events up to version 2"))
    assert [len(r) for r in rows] == [10, 10]
    assert unescape_md(rows[0][4]) == "<i>mallory</i>\\x1b[2J"


def test_python_api_for_the_explorer(demo_db: str) -> None:
    from eventscope.store import open_source

    source = open_source(demo_db, read_only=True)
    try:
        engine = Engine(source)
        markdown = render_report(engine, STREAM, version=3, verify_chain=False)
        html = render_report(engine, STREAM, version=3, fmt="html", verify_chain=False)
    finally:
        source.close()
    assert markdown.startswith(f"# Audit report: {STREAM} at version 3")
    assert "_Not verified for this report._" in markdown
    assert xml_tree(html).find(".//h1").text == f"Audit report: {STREAM} at version 3"


def test_report_user_mistakes_are_one_sentence(demo_db: str) -> None:
    for args in (
        ("report", demo_db, "no-such-stream"),
        ("report", demo_db, STREAM, "--version", "999"),
        ("report", demo_db, STREAM, "--version", "2", "--at", AT),
        ("report", demo_db, STREAM, "--at", "yesterday-ish"),
    ):
        code, out, err = run(*args)
        assert code == 2 and out == "", args
        assert err.startswith("eventscope: ") and err.count("\n") == 1, err
