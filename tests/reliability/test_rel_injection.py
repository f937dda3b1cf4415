"""Injection through filters (reliability.md test 19), on SQLite and PostgreSQL.

Every text a user can filter on -- event type, stream type, stream id, stream-id prefix,
correlation id, actor, the keyset cursor `after`, projection names and keys -- is probed
with quotes, `%`, `_`, backslashes, SQL fragments and Unicode. Each probe must match
exactly the rows whose field equals it literally (the model is plain Python string
comparison), and the store must be unchanged afterwards.

A static check keeps SQL text free of user data: ruff's S608 rule is enabled for the
project, and no `execute(f"...")` style call exists in `store/` beyond a reviewed list.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.explorer.widgets.filter_bar import BrowserFilter, parse_filter
from eventscope.store import ANY, EventFilter, NewEvent
from reliability_support import figure

ROOT = Path(__file__).resolve().parents[2]

NASTY = [
    "plain",
    "o'brien",
    "''",
    'say "hi"',
    "100%",
    "%",
    "_",
    "a_c",
    "abc",
    "a%c",
    "back\\slash",
    "\\",
    "\\%",
    "x'; DROP TABLE events; --",
    "' OR '1'='1",
    '") OR 1=1 --',
    "ünïcødé",
    "日本語",
    "emoji 😀",
    "ß",
    "SS",
    "tab\there",
    "[*]",
    "$1",
    ":name",
    "?",
    "%s",
]
# Probes that are not stored anywhere but look like patterns matching stored values.
PATTERNS = ["a_", "a%", "%c", "_bc", "*", ".*", "o'%", "100\\%", "ABC", "Plain", "ss"]


@pytest.fixture
def nasty_store(store_factory):
    store = store_factory()
    batches = []
    for n, text in enumerate(NASTY):
        events = [
            NewEvent(
                text,  # event type
                {"n": n, "text": text},
                {"actor": text, "correlation_id": text},
            ),
            NewEvent("Plain", {"n": n}, {"actor": "nobody", "correlation_id": f"c-{n}"}),
        ]
        batches.append((f"s-{text}", events, ANY, text))  # stream id and stream type
    store.append_streams(batches)
    store.put_projection_rows(
        "proj-" + NASTY[1], [(text, {"text": text}, n + 1) for n, text in enumerate(NASTY)], 5
    )
    return store_factory, store


def _fingerprint(store) -> tuple:
    return (
        store.head_digest(),
        store.count_streams(),
        [(s.stream_id, s.version) for s in store.streams(limit=1000)],
        store.projection_names(),
    )


def test_every_filter_field_matches_literally(nasty_store) -> None:
    store_factory, store = nasty_store
    before = _fingerprint(store)
    everything = list(store.read_all())
    streams = store.streams(limit=1000)
    probes = NASTY + PATTERNS
    checks = 0
    for probe in probes:
        filters = {
            "event_types": EventFilter(event_types=[probe]),
            "stream_type": EventFilter(stream_type=probe),
            "stream_id": EventFilter(stream_id=f"s-{probe}"),
            "stream_prefix": EventFilter(stream_prefix=f"s-{probe}"),
            "correlation_id": EventFilter(correlation_id=probe),
            "actor": EventFilter(actor=probe),
        }
        model = {
            "event_types": lambda e, p=probe: e.event_type == p,
            "stream_type": lambda e, p=probe: e.stream_type == p,
            "stream_id": lambda e, p=probe: e.stream_id == f"s-{p}",
            "stream_prefix": lambda e, p=probe: e.stream_id.startswith(f"s-{p}"),
            "correlation_id": lambda e, p=probe: e.correlation_id == p,
            "actor": lambda e, p=probe: e.actor == p,
        }
        for name, flt in filters.items():
            expected = [e.position for e in everything if model[name](e)]
            got = [e.position for e in store.read_all(filter=flt)]
            assert got == expected, (name, probe, got, expected)
            assert store.count_events(flt) == len(expected), (name, probe)
            checks += 2
        expected_streams = [s.stream_id for s in streams if s.stream_id.startswith(f"s-{probe}")]
        got_streams = [s.stream_id for s in store.streams(prefix=f"s-{probe}", limit=1000)]
        assert got_streams == expected_streams, probe
        assert store.count_streams(prefix=f"s-{probe}") == len(expected_streams)
        by_type = [s.stream_id for s in streams if s.stream_type == probe]
        assert [s.stream_id for s in store.streams(stream_type=probe, limit=1000)] == by_type
        after = [s.stream_id for s in streams if s.stream_id > f"s-{probe}"]
        assert [s.stream_id for s in store.streams(after=f"s-{probe}", limit=1000)] == after
        info = store.stream_info(f"s-{probe}")
        assert (info is not None) == (probe in NASTY)
        row = store.projection_row("proj-" + NASTY[1], probe)
        assert (row is not None and row.document == {"text": probe}) or probe not in NASTY
        assert store.projection_row("proj-%", probe) is None
        checks += 7
    assert _fingerprint(store) == before  # nothing changed, every table still there
    assert store.verify().ok
    figure(
        f"injection/filters/{store_factory.backend}",
        f"{len(probes)} hostile probes x {checks // len(probes)} filter/lookup checks = "
        f"{checks} checks: all literal matches; store unchanged, chain verifies",
    )


def test_the_cli_and_the_filter_bar_pass_filters_literally(nasty_store) -> None:
    store_factory, store = nasty_store
    source = store_factory.location
    if store_factory.backend == "postgres":
        source = f"{source}?schema={store_factory.open_options['schema']}"
    for probe in ["%", "_", "a_c", "o'brien", "\\", "x'; DROP TABLE events; --"]:
        result = CliRunner().invoke(main, ["streams", source, "--prefix", f"s-{probe}", "--json"])
        assert result.exit_code == 0, result.output
        listed = [row["stream_id"] for row in orjson.loads(result.stdout)]
        assert listed == [s.stream_id for s in store.streams(prefix=f"s-{probe}", limit=1000)]
        assert all(stream.startswith(f"s-{probe}") for stream in listed)
        result = CliRunner().invoke(main, ["events", source, f"s-{probe}", "--json"])
        assert result.exit_code == 0
        assert [e["event_type"] for e in orjson.loads(result.stdout)] == [probe, "Plain"]
    # The explorer's one-line filter: quoted values travel literally to the source.
    parsed = parse_filter("actor:\"o'brien\" event:'100%'")
    assert isinstance(parsed, BrowserFilter)
    assert (parsed.actor, parsed.event_types) == ("o'brien", ("100%",))
    assert store.count_events(parsed.to_event_filter()) == 0  # no event is both
    parsed = parse_filter("corr:'x'\"'\"'; DROP TABLE events; --'")
    assert parsed.correlation_id == "x'; DROP TABLE events; --"
    assert store.count_events(parsed.to_event_filter()) == 1
    assert store.head_position() == 2 * len(NASTY)


# --- static: no SQL built from strings in store/ ------------------------------------------
# Each reviewed f-string SQL call in store/ and why it is safe (names, never user data).
REVIEWED = {
    'connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")': "a module constant",
    'connection.execute(f"PRAGMA synchronous = {synchronous}")': "FULL/NORMAL/EXTRA only",
    'connection.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")': "a module constant",
    'connection.execute(f"PRAGMA table_info({quote_identifier(table)})")': "a table name, quoted",
    'conn.exec_driver_sql(f"SELECT rowid FROM {quote_identifier(table)} LIMIT 0")': "a listed table name, quoted",
    'db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")': "a module constant",
    'self._db.execute(f"{_INFO_SELECT} WHERE stream_id = ?"': "a module constant; a parameter",
    'self._db.execute(f"SELECT COUNT(*) FROM streams{clause}", params)': "fixed clauses, parameters",
    "conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS \"{schema}\"')": "validated identifier",
}
CALL = re.compile(r"""(?:execute|exec_driver_sql|executemany|text)\(\s*f["']""")


def test_no_sql_is_built_from_f_strings_in_the_store() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lint = config["tool"]["ruff"]["lint"]
    assert "S608" in lint["select"]  # ruff's "SQL built from strings" rule is on ...
    for pattern, ignored in lint.get("per-file-ignores", {}).items():
        assert not ("S608" in ignored and pattern.startswith("store")), pattern  # ... for store/
    found = []
    for path in sorted((ROOT / "store").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if CALL.search(line):
                call = line.strip().split("  #")[0]
                found.append((f"{path.name}:{number}", call))
    unreviewed = [
        (where, call) for where, call in found if not any(known in call for known in REVIEWED)
    ]
    assert not unreviewed, f"SQL built with an f-string, not reviewed: {unreviewed}"
    figure(
        "injection/static",
        f"S608 enabled for store/; {len(found)} f-string SQL calls in store/, all in the "
        "reviewed list (PRAGMA constants, quoted table names, validated schema name)",
    )
