"""Source tests keep eventscope's index cache in a temporary folder, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_index_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("index-cache")
    monkeypatch.setenv("EVENTSCOPE_CACHE_DIR", str(folder))
    return folder
