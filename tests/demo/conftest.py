"""Demo stores shared by the demo tests: built once per session, opened read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventscope.demo_data import build_demo, build_fixture_store
from eventscope.store import EventStore

MEDIUM_EVENTS = 6_000


@pytest.fixture(scope="session")
def fixture_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The 400-event fixture store (every anomaly, no tampering) and its manifest."""
    path = tmp_path_factory.mktemp("fixture") / "demo.db"
    return path, build_fixture_store(path)


@pytest.fixture(scope="session")
def medium_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 6,000-event demo: big enough for realism statistics, built in about a second."""
    path = tmp_path_factory.mktemp("medium") / "demo.db"
    return path, build_demo(path, MEDIUM_EVENTS, seed=2026)


@pytest.fixture
def fixture_source(fixture_demo: tuple[Path, dict[str, Any]]) -> Iterator[EventStore]:
    source = EventStore.open(str(fixture_demo[0]), read_only=True)
    yield source
    source.close()
