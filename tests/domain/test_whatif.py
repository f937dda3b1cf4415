"""What-if: `eventscope what-if` against a plain reference fold, the aggregate's refusals,
read models over a changed history, and the guarantee that the source is only read."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from domain_helpers import PAYLOADS
from eventscope.domain.diff import apply_diff
from eventscope.domain.engine import Engine
from eventscope.domain.errors import DomainError
from eventscope.domain.whatif import LEFT_OUT, Insertion, WhatIf, WhatIfEdits
from eventscope.explorer.cli import main
from eventscope.store import EventStore, NewEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whatif_helpers import (
    PLUGIN,
    changed_history,
    reference_merge,
    reference_tally,
)

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_store(path: Path, streams: dict[str, tuple[str, list[NewEvent]]]) -> str:
    store = EventStore.open(path, synchronous="NORMAL")
    try:
        for stream_id, (stream_type, events) in streams.items():
            if events:
                store.append(stream_id, events, stream_type=stream_type)
    finally:
        store.close()
    return str(path)


def _edit_args(
    skips: set[int], replacements: dict[int, Any], inserts: list[tuple[int, Any]]
) -> list[str]:
    args: list[str] = []
    for version in sorted(skips):
        args += ["--skip", str(version)]
    for after, (kind, _data) in inserts:
        args += ["--insert-after", str(after), "--event-type", kind]
    for version in replacements:
        args += ["--replace", str(version)]
    for _after, (_kind, data) in inserts:
        args += ["--data", orjson.dumps(data).decode()]
    for data in replacements.values():
        args += ["--data", orjson.dumps(data).decode()]
    return args


@st.composite
def edits_for(
    draw: Any, n: int, inserted: Any, replacing: Any
) -> tuple[set[int], dict[int, Any], list]:
    versions = st.integers(1, n)
    skips = draw(st.sets(versions, max_size=3))
    replacements = draw(
        st.dictionaries(versions.filter(lambda v: v not in skips), replacing, max_size=2)
    )
    inserts = draw(st.lists(st.tuples(st.integers(0, n), inserted), max_size=3))
    return skips, replacements, inserts


# --- the property: generic fold -----------------------------------------------------------
@PROPERTY
@given(history=st.lists(PAYLOADS, min_size=1, max_size=20), data=st.data())
def test_what_if_agrees_with_a_reference_fold_on_random_histories(
    tmp_path_factory: pytest.TempPathFactory, history: list[dict[str, Any]], data: Any
) -> None:
    n = len(history)
    skips, replacements, inserts = data.draw(
        edits_for(n, st.tuples(st.just("Noted"), PAYLOADS), PAYLOADS)
    )
    upto = data.draw(st.none() | st.integers(0, n))
    other = [NewEvent("Noted", {"a": 1})]  # another stream: must not leak into the answer
    path = tmp_path_factory.mktemp("whatif") / "h.db"
    db = write_store(
        path,
        {
            "s-1": ("thing", [NewEvent("Changed", d) for d in history]),
            "s-2": ("thing", other),
        },
    )
    args = ["what-if", db, "s-1", *_edit_args(skips, replacements, inserts), "--json"]
    if upto is not None:
        args += ["--version", str(upto)]
    code, out, err = run(*args)
    assert code == 0, err
    got = orjson.loads(out)

    actual: dict[str, Any] = {}
    for payload in history[: n if upto is None else upto]:
        actual = reference_merge(actual, payload)
    changed = changed_history(
        history,
        skips,
        replacements,
        [(after, d) for after, (_k, d) in inserts],
        upto,
    )
    expected: dict[str, Any] = {}
    for _version, payload in changed:
        expected = reference_merge(expected, payload)

    assert set(got) == {"stream_id", "actual", "what_if", "diff"}
    assert got["stream_id"] == "s-1"
    assert got["actual"] == {"version": n if upto is None else upto, "state": actual}
    assert got["what_if"]["state"] == expected
    assert got["what_if"]["hypothetical"] is True
    assert got["what_if"]["version"] == len(changed)
    assert got["what_if"]["rejected"] == []
    # The diff is `eventscope diff`'s shape and turns the actual state into the what-if.
    for entry in got["diff"]:
        assert set(entry) == {"path", "op", "before", "after"}
    entries = [_entry(e) for e in got["diff"]]
    assert apply_diff(actual, entries) == expected


def _entry(item: dict[str, Any]) -> Any:
    from eventscope.domain.diff import DiffEntry

    return DiffEntry(tuple(item["path"]), item["op"], item["before"], item["after"])


# --- the property: an aggregate with rules ------------------------------------------------
TALLY_EVENTS = st.one_of(
    st.tuples(st.just("Added"), st.integers(1, 5)),
    st.tuples(st.just("Taken"), st.integers(1, 6)),
)


def _tally_event(kind: str, value: Any) -> tuple[str, dict[str, Any]]:
    return kind, ({"label": value} if kind == "Started" else {"n": value})


@PROPERTY
@given(moves=st.lists(TALLY_EVENTS, min_size=0, max_size=15), data=st.data())
def test_what_if_refuses_what_the_aggregate_would_have_refused(
    tmp_path_factory: pytest.TempPathFactory, moves: list[tuple[str, int]], data: Any
) -> None:
    # A valid recorded history: started, then only moves the rules accepted.
    history: list[tuple[str, Any]] = [("Started", "t")]
    count = 0
    for kind, n in moves:
        if kind == "Taken" and n > count:
            continue
        count += n if kind == "Added" else -n
        history.append((kind, n))
    n = len(history)
    skips, replacements, inserts = data.draw(edits_for(n, TALLY_EVENTS, TALLY_EVENTS))
    upto = data.draw(st.none() | st.integers(0, n))
    path = tmp_path_factory.mktemp("tally") / "t.db"
    events = [NewEvent(k, _tally_event(k, v)[1]) for k, v in history]
    db = write_store(path, {"tally-1": ("tally", events)})

    args: list[str] = []
    for version in sorted(skips):
        args += ["--skip", str(version)]
    for after, (kind, _v) in inserts:
        args += ["--insert-after", str(after), "--event-type", kind]
    for version in replacements:
        args += ["--replace", str(version)]
    for _after, (kind, value) in inserts:
        args += ["--data", orjson.dumps(_tally_event(kind, value)[1]).decode()]
    for version, (_kind, value) in replacements.items():
        # A replacement keeps the stored type: give it a payload of that type.
        stored = history[version - 1][0]
        payload = {"label": "r"} if stored == "Started" else {"n": value}
        replacements[version] = (stored, payload["label"] if stored == "Started" else value)
        args += ["--data", orjson.dumps(payload).decode()]
    cli = ["what-if", db, "tally-1", *args, "--domain", "whatif_helpers:PLUGIN", "--json"]
    if upto is not None:
        cli += ["--version", str(upto)]
    code, out, err = run(*cli)
    assert code == 0, err
    got = orjson.loads(out)

    changed = changed_history(history, skips, replacements, inserts, upto)
    firsts = [*skips, *replacements, *(after + 1 for after, _e in inserts)]
    first_index = (min(firsts) - 1) if firsts else len(changed) + 1
    expected, refused = reference_tally(changed, first_index)
    actual, _ = reference_tally([(None, e) for e in history[: n if upto is None else upto]], n + 1)

    assert got["actual"]["state"] == actual
    assert got["what_if"]["state"] == expected
    assert got["what_if"]["version"] == len(changed) - len(refused)
    assert [r["version"] for r in got["what_if"]["rejected"]] == [changed[i][0] for i in refused]
    assert len(err.splitlines()) == len(refused)  # one sentence per refused event


# --- unit tests on the engine -------------------------------------------------------------
@pytest.fixture
def tally_db(tmp_path: Path) -> str:
    events = [
        NewEvent("Started", {"label": "jar"}),
        NewEvent("Added", {"n": 5}),
        NewEvent("Taken", {"n": 3}),
        NewEvent("Added", {"n": 1}),
        NewEvent("Taken", {"n": 2}),
    ]
    return write_store(tmp_path / "tally.db", {"tally-1": ("tally", events)})


def _engine(db: str) -> tuple[Engine, EventStore]:
    store = EventStore.open(db, read_only=True)
    return Engine(store, PLUGIN), store


def test_skipping_a_deposit_names_the_first_refused_event(tally_db: str) -> None:
    engine, store = _engine(tally_db)
    try:
        what_if = WhatIf(engine, "tally-1", WhatIfEdits(skips=frozenset({2})))
        result = what_if.result()
        assert result.actual.state == {"label": "jar", "count": 1, "moves": 4}
        # Without the 5 added at v2, taking 3 at v3 is refused; then 1 added, 2 refused.
        assert [(r.version, r.event_type, r.reason) for r in result.rejected] == [
            (3, "Taken", "only 0 left, 3 taken"),
            (5, "Taken", "only 1 left, 2 taken"),
        ]
        assert result.what_if.state == {"label": "jar", "count": 1, "moves": 1}
        assert result.applied_version == 2
        # The explorer's rows: same versions, tombstones in place, each saying why.
        assert [what_if.entry(v).kind for v in range(1, 6)] == [
            "kept",
            "skipped",
            "refused",
            "kept",
            "refused",
        ]
        assert what_if.entry(2).reason == LEFT_OUT
        assert "only 0 left" in (what_if.entry(3).reason or "")
        assert what_if.timeline.length == 5
        labels = what_if.labels()
        assert labels[0] == "skip v2" and "Tally refuses Taken (v3)" in labels[1]
    finally:
        store.close()


def test_an_inserted_event_shifts_rows_and_is_judged_too(tally_db: str) -> None:
    engine, store = _engine(tally_db)
    try:
        edits = WhatIfEdits(
            inserts=(Insertion(1, "Taken", {"n": 9}), Insertion(5, "Added", {"n": 10}))
        )
        what_if = WhatIf(engine, "tally-1", edits)
        assert what_if.length == 7
        assert what_if.entry(2).kind == "refused" and what_if.entry(2).after == 1
        assert what_if.entry(7).kind == "inserted"
        assert what_if.display_version(1) == 2  # up to v1: the insertion after v1 counts
        assert what_if.original_version(3) == 2
        record = next(what_if.source.read_stream("tally-1", 7, 7))
        assert record.metadata["what_if"] == "inserted" and record.hash == ""
        assert what_if.result().what_if.state == {"label": "jar", "count": 11, "moves": 5}
        assert what_if.result(version=3).what_if.state["count"] == 2
    finally:
        store.close()


def test_edits_are_checked_against_the_stream_and_the_event_classes(tally_db: str) -> None:
    engine, store = _engine(tally_db)
    try:
        cases = [
            (WhatIfEdits(skips=frozenset({6})), "out of range"),
            (WhatIfEdits(skips=frozenset({2}), replacements={2: {"n": 1}}), "both skipped"),
            (WhatIfEdits(inserts=(Insertion(-1, "Added", {"n": 1}),)), "inserted after"),
            (WhatIfEdits(inserts=(Insertion(1, "Added", {"n": "x"}),)), "not a valid Added"),
            (WhatIfEdits(replacements={2: {"m": 1}}), "replacement of v2 is not a valid Added"),
            (WhatIfEdits(inserts=(Insertion(1, " ", {}),)), "needs an event type"),
        ]
        for edits, message in cases:
            with pytest.raises(DomainError, match=message):
                WhatIf(engine, "tally-1", edits)
    finally:
        store.close()


def test_a_projection_over_the_changed_history(tmp_path: Path) -> None:
    from domain_helpers import PLUGIN as LEDGER_PLUGIN

    def events() -> list[NewEvent]:
        return [
            NewEvent("Opened", {"owner": "ann"}),
            NewEvent("Credited", {"amount": 10, "currency": "EUR"}, schema_version=2),
            NewEvent("Debited", {"amount": 4}),
        ]

    db = write_store(tmp_path / "l.db", {"L-1": ("ledger", events()), "L-2": ("ledger", events())})
    store = EventStore.open(db, read_only=True)
    try:
        engine = Engine(store, LEDGER_PLUGIN)
        edits = WhatIfEdits(skips=frozenset({3}), inserts=(Insertion(1, "Debited", {"amount": 1}),))
        what_if = WhatIf(engine, "L-1", edits)
        documents = what_if.projection_state("balances").documents
        assert documents["L-1"] == {"owner": "ann", "balance": 9, "events": 3}
        assert documents["L-2"] == {"owner": "ann", "balance": 6, "events": 3}  # untouched
        real = engine.projection_state("balances").documents
        assert real["L-1"] == {"owner": "ann", "balance": 6, "events": 3}
        # As of the position of L-1's first event, the insertion after it already counts.
        first = next(store.read_stream("L-1")).position
        early = what_if.projection_state("balances", first).documents["L-1"]
        assert early == {"owner": "ann", "balance": -1, "events": 2}
    finally:
        store.close()


def test_cli_what_if_text_and_mistakes(tally_db: str) -> None:
    code, out, err = run(
        "what-if", tally_db, "tally-1", "--skip", "2", "--domain", "whatif_helpers:PLUGIN"
    )
    assert code == 0
    assert out.startswith("WHAT-IF (hypothetical, not evidence): tally-1")
    assert "1 difference (actual -> what-if)" in out and "~ moves: 4 -> 1" in out
    assert err.count("Tally refuses Taken") == 2
    mistakes = [
        (["--skip", "9"], "out of range"),
        (["--insert-after", "1"], "one --event-type per --insert-after"),
        (["--insert-after", "1", "--event-type", "Added"], "one --data per"),
        (["--replace", "2", "--data", "[1]"], "must be a JSON object"),
        (["--replace", "2", "--data", "{oops"], "is not JSON"),
        (["--version", "-1"], "--version must be"),
    ]
    for extra, message in mistakes:
        code, out, err = run(
            "what-if", tally_db, "tally-1", *extra, "--domain", "whatif_helpers:PLUGIN"
        )
        assert code != 0 and out == ""
        assert message in err and "Traceback" not in err, (extra, err)
        assert len(err.strip().splitlines()) == 1
    code, _out, err = run("what-if", tally_db, "nope", "--skip", "1")
    assert code == 2 and "no stream 'nope'" in err


def test_what_if_never_changes_the_source(tmp_path: Path) -> None:
    events = [NewEvent("Started", {"label": "jar"}), NewEvent("Added", {"n": 5})]
    db = write_store(tmp_path / "ev.db", {"tally-1": ("tally", events)})
    before = _tree_digest(tmp_path)
    mtime = (tmp_path / "ev.db").stat().st_mtime_ns
    code, _out, err = run(
        "what-if",
        db,
        "tally-1",
        "--skip",
        "1",
        "--insert-after",
        "2",
        "--event-type",
        "Taken",
        "--replace",
        "2",
        "--data",
        '{"n": 1}',
        "--data",
        '{"n": 4}',
        "--domain",
        "whatif_helpers:PLUGIN",
        "--json",
    )
    assert code == 0, err
    after = _tree_digest(tmp_path)
    assert after["ev.db"] == before["ev.db"], "the what-if changed the store file"
    assert (tmp_path / "ev.db").stat().st_mtime_ns == mtime
    # SQLite's read-only WAL reader may leave an empty -wal and a -shm index beside the
    # file (it cannot remove them without writing); neither may hold content.
    extra = set(after) - set(before)
    assert extra <= {"ev.db-wal", "ev.db-shm"}, extra
    if "ev.db-wal" in extra:
        assert (tmp_path / "ev.db-wal").stat().st_size == 0


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


def test_guards_agree_with_the_recorded_demo_history(tmp_path: Path) -> None:
    """The demo's per-event rules accept every event the demo recorded (the generator
    runs the same rule functions), so a what-if refusal is always caused by the edit."""
    from eventscope.demo_data import build_fixture_store
    from eventscope.domain.demo import DOMAIN

    build_fixture_store(tmp_path / "demo.db")
    store = EventStore.open(tmp_path / "demo.db", read_only=True)
    try:
        checked = 0
        for info in store.streams(limit=1000):
            aggregate = DOMAIN.aggregate_for(info.stream_type)
            assert aggregate is not None and aggregate.has_checks()
            state = aggregate.initial_state()
            for record in store.read_stream(info.stream_id):
                data = DOMAIN.registry.decode(record).data
                assert data is not None
                assert aggregate.refusal(state, record.event_type, data) is None, record
                state = aggregate.fold(state, record.event_type, data)
                checked += 1
        assert checked == store.event_count()
    finally:
        store.close()


def test_demo_what_if_without_a_deposit(tmp_path: Path) -> None:
    """On the demo domain: skipping an account's opening leaves every later movement
    refused with the account rule's own sentence."""
    from eventscope.demo_data import build_fixture_store
    from eventscope.explorer.engine_factory import build_engine

    build_fixture_store(tmp_path / "demo.db")
    store = EventStore.open(tmp_path / "demo.db", read_only=True)
    try:
        engine = build_engine(store)
        result = WhatIf(engine, "account-000001", WhatIfEdits(skips=frozenset({1}))).result()
        assert result.rejected and result.applied_version == 0
        assert result.rejected[0].version == 2
        assert "not open" in result.rejected[0].reason
        assert result.what_if.state["status"] == "none"
    finally:
        store.close()


def test_inserted_events_get_the_same_ids_every_run(tally_db: str) -> None:
    engine, store = _engine(tally_db)
    try:
        edits = WhatIfEdits(inserts=(Insertion(2, "Added", {"n": 1}),))
        ids = {
            next(WhatIf(engine, "tally-1", edits).source.read_stream("tally-1", 3, 3)).event_id
            for _ in range(2)
        }
        assert len(ids) == 1 and uuid.UUID(ids.pop())
    finally:
        store.close()


def test_a_report_carries_the_what_if_last_and_marked_hypothetical(
    tally_db: str, tmp_path: Path
) -> None:
    import xml.etree.ElementTree as ElementTree

    base = ["report", tally_db, "tally-1", "--domain", "whatif_helpers:PLUGIN", "--no-access-log"]
    code, plain, err = run(*base)
    assert code == 0, err
    assert "what-if" not in plain.lower()
    code, text, err = run(*base, "--what-if-skip", "2")
    assert code == 0, err
    heading = text.index("## Hypothetical (what-if) -- NOT EVIDENCE")
    assert heading > text.index("## Hash chain")  # after all of the evidence
    section = text[heading:]
    assert "Tally refuses Taken (v3): only 0 left, 3 taken" in section
    assert "| moves | changed | 4 | 1 |" in section
    assert text[:heading].rstrip() == plain.rstrip().replace(
        _generated_line(plain), _generated_line(text)
    )
    out = tmp_path / "r.html"
    code, _, err = run(*base, "--what-if-skip", "2", "--format", "html", "-o", str(out))
    assert code == 0, err
    page = out.read_text()
    ElementTree.fromstring(page.split("\n", 1)[1])  # well-formed, as every report is
    assert '<section class="hypothetical">' in page and "NOT EVIDENCE" in page
    code, _, err = run(*base, "--what-if-replace", "2")
    assert code == 2 and "one --what-if-data per" in err


def _generated_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("| Generated |"))
