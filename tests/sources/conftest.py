"""Source tests keep eventscope's index cache in a temporary folder, never the user's, and
get the histories written by the real Message DB and Emmett (loaded once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.foreign.pytest_fixtures import (  # noqa: F401 (fixtures, used by name)
    emmett_pg_url,
    emmett_sqlite_path,
    messagedb_url,
)


@pytest.fixture(autouse=True)
def _private_index_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("index-cache")
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(folder))
    return folder
