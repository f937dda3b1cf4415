"""The JSON Lines index is built once and reused only while the file is the same."""

from __future__ import annotations

from pathlib import Path

import eventscope.store.sources.jsonl.source as jsonl_source
import orjson
import pytest
from eventscope.store.sources.jsonl import cache as jsonl_cache
from eventscope.store.sources.jsonl.source import JsonlSource
from sources_helpers import read_battery, reference_history, write_jsonl_by_hand


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every small file is cached, and each real index build is counted."""
    monkeypatch.setattr(jsonl_cache, "MIN_SIZE", 0)
    calls: list[Path] = []
    real = jsonl_source.build_index

    def counting(path: Path, progress: object = None) -> object:
        calls.append(path)
        return real(path, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(jsonl_source, "build_index", counting)
    return calls


def test_a_second_open_reuses_the_index_and_answers_the_same(
    tmp_path: Path, builds: list[Path]
) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl_by_hand(path, reference_history(30))
    with path.open("ab") as out:
        out.write(b"not json\n")  # problems are cached too
    with JsonlSource.open(path) as fresh:
        expected = read_battery(fresh)
        problems = fresh.problems()
    with JsonlSource.open(path) as cached:
        assert read_battery(cached) == expected
        assert cached.problems() == problems == [(31, problems[0][1])]
        assert cached.malformed_count == 1
    assert builds == [path]


def test_a_changed_file_is_indexed_again(tmp_path: Path, builds: list[Path]) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl_by_hand(path, reference_history(10))
    with JsonlSource.open(path) as source:
        assert source.event_count() == 10
    with path.open("ab") as out:
        out.write(orjson.dumps({"stream_id": "new-1", "event_type": "E", "data": {}}) + b"\n")
    with JsonlSource.open(path) as source:
        assert source.event_count() == 11 and source.stream_info("new-1") is not None
    assert builds == [path, path]


def test_a_damaged_cache_entry_is_ignored(tmp_path: Path, builds: list[Path]) -> None:
    path = tmp_path / "h.jsonl"
    write_jsonl_by_hand(path, reference_history(10))
    JsonlSource.open(path).close()
    [entry] = list(Path(jsonl_cache.cache_folder()).glob("*.idx"))
    entry.write_bytes(entry.read_bytes()[:200])
    with JsonlSource.open(path) as source:
        assert source.event_count() == 10
    assert len(builds) == 2


def test_the_cache_can_be_switched_off(
    tmp_path: Path, builds: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", "off")
    path = tmp_path / "h.jsonl"
    write_jsonl_by_hand(path, reference_history(10))
    JsonlSource.open(path).close()
    JsonlSource.open(path).close()
    assert len(builds) == 2 and jsonl_cache.cache_folder() is None
