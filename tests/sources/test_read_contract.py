"""The read half of the store contract, run against every source.

Two kinds of check (see `sources_helpers`):
* `assert_read_contract`: what any source must satisfy on its own (ordering, paging,
  catalog rows agreeing with the events, filters agreeing with a Python filter);
* `read_battery` equality: two sources holding the same history give the same answer to
  every read question -- the native store is the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sources_helpers import (
    assert_read_contract,
    build_native,
    es_postgres_env,
    es_sqlite_env,
    read_battery,
    reference_history,
    require_es_postgres,
    sha256_of,
    write_dogs,
    write_jsonl_by_hand,
)

from store import EventStore, open_source
from store.eventsourcing_source import EventsourcingSource
from store.importing import import_history
from store.jsonl_export import write_jsonl
from store.jsonl_source import JsonlSource


def test_jsonl_written_by_another_program_answers_like_the_native_store(tmp_path: Path) -> None:
    history = reference_history()
    native = build_native(tmp_path / "native.db", history)
    path = tmp_path / "history.jsonl"
    write_jsonl_by_hand(path, history)
    before = sha256_of(path)
    with JsonlSource.open(path) as jsonl:
        # Hand-written lines carry no chain, so compare everything but the hash.
        assert read_battery(jsonl, with_hash=False) == read_battery(native, with_hash=False)
        assert_read_contract(jsonl)
    native.close()
    assert sha256_of(path) == before


def test_an_export_answers_exactly_like_its_native_store_hashes_included(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    path = tmp_path / "export.jsonl"
    with open(path, "wb") as out:
        write_jsonl(native, out)
    with open_source(str(path)) as jsonl:
        assert jsonl.describe().kind == "jsonl"
        assert jsonl.describe().has_hash_chain
        assert read_battery(jsonl) == read_battery(native)
        assert jsonl.head_digest() == native.head_digest()
    native.close()


def test_native_store_satisfies_the_read_contract(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    assert_read_contract(native)
    native.close()


def test_empty_jsonl_export_is_an_empty_history(tmp_path: Path) -> None:
    native = EventStore.open(str(tmp_path / "empty.db"))
    path = tmp_path / "empty.jsonl"
    with open(path, "wb") as out:
        assert write_jsonl(native, out) == 0
    with open_source(str(path)) as jsonl:
        assert read_battery(jsonl) == read_battery(native)
        assert jsonl.verify().ok
    native.close()


def test_eventsourcing_sqlite_store_satisfies_the_contract_and_matches_its_import(
    tmp_path: Path,
) -> None:
    db = tmp_path / "dogs.sqlite"
    write_dogs(es_sqlite_env(db), 40, snapshot_every=7)
    before = sha256_of(db)
    with EventsourcingSource.open(db) as source:
        assert_read_contract(source)
        # The same history imported natively must answer every question the same way
        # (positions, ids, times, payloads) -- only the native hash chain is extra.
        target = EventStore.open(str(tmp_path / "imported.db"))
        # One event per append: see the catalog test below for multi-stream batches.
        report = import_history(source, target, batch_events=1)
        assert report.appended == source.event_count() and report.clamped == 0
        assert read_battery(source, with_hash=False) == read_battery(target, with_hash=False)
        target.close()
    assert sha256_of(db) == before


@pytest.mark.postgres
def test_eventsourcing_postgres_store_satisfies_the_contract_and_matches_its_import(
    tmp_path: Path, pg_url: str, pg_schema: str
) -> None:
    require_es_postgres()
    write_dogs(es_postgres_env(pg_url, pg_schema), 40, snapshot_every=7)
    with open_source(f"{pg_url}?schema={pg_schema}") as source:
        assert source.describe().kind == "eventsourcing-postgresql"
        assert_read_contract(source)
        target = EventStore.open(str(tmp_path / "imported.db"))
        import_history(source, target, batch_events=1)
        assert read_battery(source, with_hash=False) == read_battery(target, with_hash=False)
        target.close()


def test_batched_import_keeps_each_streams_own_last_recorded_at(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    target = EventStore.open(str(tmp_path / "imported.db"))
    import_history(native, target, batch_events=1000)
    for info in native.streams(limit=100):
        assert target.stream_info(info.stream_id) == info
    native.close()
    target.close()
