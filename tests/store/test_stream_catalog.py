"""The shared stream catalog (`store.sql.stream_catalog`) on a plain SQLite events table:
built once, extended from the last position, rebuilt when the source is rewritten, kept
in the cache folder and never in the source."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventscope.store.sql import sqlite as sqlite_sql
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.stream_catalog import CatalogSource, StreamCatalog, as_datetime

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SELECTABLE = (
    "SELECT gp AS global_position, name AS stream, pos + 1 AS version, at AS recorded,"
    " kind AS stream_type FROM events"
)


def write(path: Path, rows: list[tuple[int, str, int, int]]) -> None:
    """(global position, stream, 0-based position, seconds after T0) rows."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS events (gp INTEGER PRIMARY KEY, name TEXT, pos INT,"
            " at TEXT, kind TEXT)"
        )
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
            [
                (gp, name, pos, (T0 + timedelta(seconds=s)).isoformat(), name.split("-")[0])
                for gp, name, pos, s in rows
            ],
        )
    db.close()


@pytest.fixture
def source_path(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    write(path, [(1, "a-1", 0, 0), (2, "b-1", 0, 1), (4, "a-1", 1, 2), (5, "a-2", 0, 3)])
    return path


def catalog_of(path: Path, folder: Path) -> tuple[StreamCatalog, list[int]]:
    reader = SqlReader(sqlite_sql.make_engine(path, read_only=True), str(path))
    calls: list[int] = []
    catalog = StreamCatalog(CatalogSource(reader, SELECTABLE, f"test:{path}"), folder)
    catalog.refresh(lambda done, total: calls.append(done))
    return catalog, calls


def test_built_once_then_extended_and_kept_in_the_cache_folder(
    source_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    before = source_path.read_bytes()
    catalog, calls = catalog_of(source_path, folder)
    assert catalog.path is not None and catalog.path.parent == folder
    assert calls == [0, 5]
    assert [s.stream_id for s in catalog.streams()] == ["a-1", "a-2", "b-1"]
    a1 = catalog.stream("a-1")
    assert a1 is not None and (a1.version, a1.event_count, a1.first_position) == (2, 2, 1)
    assert as_datetime(a1.last_micros) == T0 + timedelta(seconds=2)
    assert catalog.stream_types() == [("a", 2), ("b", 1)]
    assert catalog.count_streams(prefix="a-") == 2 and catalog.event_count() == 4
    assert [s.stream_id for s in catalog.streams(after="a-1", limit=1)] == ["a-2"]
    catalog.close()
    assert source_path.read_bytes() == before

    write(source_path, [(7, "a-1", 2, 9)])
    again, calls = catalog_of(source_path, folder)
    assert calls == [0, 2], "only the positions after the last one seen are read"
    a1 = again.stream("a-1")
    assert a1 is not None and (a1.version, a1.event_count, a1.last_position) == (3, 3, 7)
    assert again.rebuilds == 0 and again.event_count() == 5
    again.close()


def test_rebuilt_when_the_source_is_rewritten(source_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    catalog_of(source_path, folder)[0].close()
    with sqlite3.connect(source_path) as db:
        db.execute("UPDATE events SET name = 'c-1', kind = 'c' WHERE gp = 5")
    db.close()
    changed, _ = catalog_of(source_path, folder)
    assert changed.rebuilds == 1
    assert [s.stream_id for s in changed.streams()] == ["a-1", "b-1", "c-1"]
    changed.close()
    with sqlite3.connect(source_path) as db:
        db.execute("DELETE FROM events WHERE gp > 2")
    db.close()
    truncated, _ = catalog_of(source_path, folder)
    assert truncated.rebuilds == 1 and truncated.event_count() == 2
    truncated.close()


def test_caching_off_builds_in_memory(
    source_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", "off")
    reader = SqlReader(sqlite_sql.make_engine(source_path, read_only=True), str(source_path))
    catalog = StreamCatalog(CatalogSource(reader, SELECTABLE, "x"))
    catalog.refresh()
    assert catalog.path is None and catalog.count_streams() == 3
    catalog.close()
