"""`eventscope export` and `eventscope import` through the CLI: identical round trips,
a chain that verifies, idempotent imports, atomic refuse-by-default exports."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from eventscope.explorer.cli import main
from eventscope.store import EventStore, open_source
from eventscope.store.foreign import derived_event_id
from sources_helpers import (
    build_native,
    es_sqlite_env,
    event_view,
    reference_history,
    sha256_of,
    write_dogs,
    write_jsonl_by_hand,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def views(store: object) -> list[dict]:
    return [event_view(e) for e in store.read_all()]  # type: ignore[attr-defined]


def test_native_to_jsonl_to_native_is_identical_and_verifies(tmp_path: Path) -> None:
    original = build_native(tmp_path / "a.db", reference_history())
    expected = views(original)
    digest = original.head_digest()
    original.close()
    before = sha256_of(tmp_path / "a.db")

    result = run("export", str(tmp_path / "a.db"), "--jsonl", str(tmp_path / "a.jsonl"))
    assert result.exit_code == 0, result.output
    assert f"exported {len(expected)} events to {tmp_path / 'a.jsonl'}" in result.stderr
    assert sha256_of(tmp_path / "a.db") == before  # exporting never touches the source
    lines = (tmp_path / "a.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {k: v for k, v in view.items() if k != "decode_error"} for view in expected
    ]

    result = run("import", str(tmp_path / "a.jsonl"), "--db", str(tmp_path / "b.db"), "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["appended"] == len(expected)
    copy = EventStore.open(str(tmp_path / "b.db"), read_only=True)
    # Same ids, versions, payloads, times -- and so the same positions and chain.
    assert views(copy) == expected
    assert copy.verify(against=digest).ok
    copy.close()

    again = run("import", str(tmp_path / "a.jsonl"), "--db", str(tmp_path / "b.db"), "--json")
    assert again.exit_code == 0, again.output
    assert orjson.loads(again.stdout) == {
        "read": len(expected),
        "appended": 0,
        "already_present": len(expected),
        "clamped": 0,
        "undecodable": 0,
        "renamed_ids": 0,
    }
    with open_source(str(tmp_path / "b.db")) as copy:
        assert views(copy) == expected


def test_a_jsonl_without_ids_imports_once_however_often_it_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps({"stream_id": f"s-{i % 2}", "event_type": "E", "data": {"i": i}}) + b"\n"
            for i in range(6)
        )
    )
    for _ in range(3):
        result = run("import", str(path), "--db", str(tmp_path / "t.db"))
        assert result.exit_code == 0, result.output
    with open_source(str(tmp_path / "t.db")) as store:
        events = list(store.read_all())
        assert [(e.stream_id, e.version, e.data["i"]) for e in events] == [
            ("s-0", 1, 0),
            ("s-1", 1, 1),
            ("s-0", 2, 2),
            ("s-1", 2, 3),
            ("s-0", 3, 4),
            ("s-1", 3, 5),
        ]
        assert events[0].event_id == derived_event_id("s-0", 1)
        assert store.verify().ok


def test_hand_written_jsonl_imports_with_its_times_and_ids(tmp_path: Path) -> None:
    history = reference_history(25)
    write_jsonl_by_hand(tmp_path / "h.jsonl", history)
    result = run("import", str(tmp_path / "h.jsonl"), "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    with open_source(str(tmp_path / "t.db")) as store:
        events = list(store.read_all())
    assert [e.event_id for e in events] == [h.event_id for h in history]
    assert [e.recorded_at for e in events] == [h.recorded_at for h in history]
    assert [e.occurred_at for e in events] == [h.occurred_at for h in history]
    assert [e.data for e in events] == [h.data for h in history]


def test_importing_different_events_under_the_same_ids_stops_with_one_sentence(
    tmp_path: Path,
) -> None:
    first = tmp_path / "first.jsonl"
    second = tmp_path / "second.jsonl"
    line = {"stream_id": "s-1", "event_type": "E", "event_id": str(derived_event_id("x", 1))}
    first.write_bytes(orjson.dumps({**line, "data": {"v": 1}}) + b"\n")
    second.write_bytes(orjson.dumps({**line, "data": {"v": 2}}) + b"\n")
    assert run("import", str(first), "--db", str(tmp_path / "t.db")).exit_code == 0
    result = run("import", str(second), "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "eventscope: the target already holds events of stream 's-1' that differ"
    )
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    with open_source(str(tmp_path / "t.db")) as store:
        assert [e.data for e in store.read_all()] == [{"v": 1}]


def test_earlier_recorded_times_are_clamped_and_non_uuid_ids_renamed(tmp_path: Path) -> None:
    t = datetime(2026, 5, 1, tzinfo=UTC)
    lines = [
        {
            "stream_id": "s-1",
            "event_type": "E",
            "data": {},
            "event_id": "evt-1",
            "recorded_at": t.isoformat(),
        },
        {
            "stream_id": "s-1",
            "event_type": "E",
            "data": {},
            "event_id": "evt-2",
            "recorded_at": (t - timedelta(hours=1)).isoformat(),
        },
    ]
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    result = run("import", str(path), "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    assert "1 events had a recorded_at earlier than an event before them" in result.stderr
    assert "2 events had ids that are not UUIDs" in result.stderr
    with open_source(str(tmp_path / "t.db")) as store:
        second = list(store.read_all())[1]
    assert second.recorded_at == t  # the store's time never goes back...
    assert second.occurred_at == t - timedelta(hours=1)  # ...the original time is kept
    assert second.metadata == {"source_event_id": "evt-2"}
    again = run("import", str(path), "--db", str(tmp_path / "t.db"), "--json")
    assert orjson.loads(again.stdout)["appended"] == 0


def test_an_eventsourcing_store_imports_with_its_times_and_a_verifying_chain(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app.sqlite"
    dogs = write_dogs(es_sqlite_env(app), 25)
    before = sha256_of(app)
    result = run("import", str(app), "--db", str(tmp_path / "t.db"))
    assert result.exit_code == 0, result.output
    assert sha256_of(app) == before
    with open_source(str(app)) as source, open_source(str(tmp_path / "t.db")) as store:
        assert store.verify().ok
        assert store.count_streams() == len(dogs)
        mine = [(e.stream_id, e.version, e.data, e.recorded_at) for e in store.read_all()]
        theirs = [(e.stream_id, e.version, e.data, e.recorded_at) for e in source.read_all()]
        assert mine == theirs


def test_export_refuses_to_overwrite_without_force_and_replaces_atomically(
    tmp_path: Path,
) -> None:
    build_native(tmp_path / "a.db", reference_history(5)).close()
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"precious\n")
    result = run("export", str(tmp_path / "a.db"), "--jsonl", str(target))
    assert result.exit_code == 2
    assert result.stderr == f"eventscope: {target} already exists; use --force to replace it\n"
    assert target.read_bytes() == b"precious\n"

    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"keep me\n")
    link = tmp_path / "link.jsonl"
    os.symlink(elsewhere, link)
    result = run("export", str(tmp_path / "a.db"), "--jsonl", str(link))
    assert result.exit_code == 2 and "is a symbolic link" in result.stderr
    result = run("export", str(tmp_path / "a.db"), "--jsonl", str(link), "--force")
    assert result.exit_code == 0, result.output
    # --force never renames over the link: its regular target is replaced, the link stays.
    assert link.is_symlink() and len(elsewhere.read_bytes().splitlines()) == 5

    result = run("export", str(tmp_path / "a.db"), "--jsonl", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert len(target.read_bytes().splitlines()) == 5
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_export_onto_its_own_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl_by_hand(path, reference_history(3))
    before = sha256_of(path)
    result = run("export", str(path), "--jsonl", str(path), "--force")
    assert result.exit_code == 2 and "part of the evidence being read" in result.stderr
    assert sha256_of(path) == before


def test_exporting_a_missing_source_writes_nothing(tmp_path: Path) -> None:
    result = run("export", str(tmp_path / "nope.db"), "--jsonl", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    assert result.stderr == f"eventscope: there is no file at {tmp_path / 'nope.db'}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_import_into_a_postgres_store(tmp_path: Path, pg_url: str, pg_schema: str) -> None:
    write_jsonl_by_hand(tmp_path / "h.jsonl", reference_history(12))
    target = f"{pg_url}?schema={pg_schema}"
    for appended in (12, 0):
        result = run("import", str(tmp_path / "h.jsonl"), "--db", target, "--json")
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.stdout)["appended"] == appended
    with open_source(target) as store:
        assert store.describe().kind == "native-postgresql"
        assert store.event_count() == 12 and store.verify().ok


@pytest.mark.parametrize("batch_events", [1, 3, 5000])
def test_import_in_batches_into_a_target_holding_part_of_it(
    tmp_path: Path, store_factory, batch_events: int
) -> None:
    """The importer reads the target's stream versions a batch at a time (not per
    stream); with streams spanning batches, and half the history already in the target,
    the result must be the same as one import into an empty store, on both backends
    (PostgreSQL writes with COPY)."""
    from eventscope.store.native.importing import import_history

    history = reference_history(60)
    write_jsonl_by_hand(tmp_path / "half.jsonl", history[:30])
    write_jsonl_by_hand(tmp_path / "all.jsonl", history)
    target = store_factory()
    with open_source(str(tmp_path / "half.jsonl")) as half:
        first = import_history(half, target, batch_events=batch_events)
    with open_source(str(tmp_path / "all.jsonl")) as whole:
        second = import_history(whole, target, batch_events=batch_events)
    assert (first.appended, second.appended, second.already_present) == (30, 30, 30)
    reference = EventStore.open(tmp_path / "reference.db")
    with open_source(str(tmp_path / "all.jsonl")) as whole:
        import_history(whole, reference)
    assert [event_view(e) for e in target.read_all()] == views(reference)
    assert target.stream_versions(["acct-1", "order-3", "nope"]) == {
        "acct-1": reference.stream_info("acct-1").version,
        "order-3": reference.stream_info("order-3").version,
    }
    assert target.verify().ok
    reference.close()
