"""The embedded demo store that `eventscope` with no argument opens.

It lives in the user data folder (platformdirs; ``~/.local/share/eventscope/demo.db`` on
Linux, honouring ``XDG_DATA_HOME``) and is built on first use with the default size and
seed. A store without its manifest counts as unfinished and is rebuilt.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from eventscope.demo_data.build import build_demo, load_manifest, remove_store
from eventscope.demo_data.simulation import DEFAULT_EVENTS
from eventscope.store.progress import ProgressCallback

DEFAULT_DEMO_NAME = "demo.db"


def default_demo_path() -> Path:
    return platformdirs.user_data_path("eventscope", appauthor=False) / DEFAULT_DEMO_NAME


def ensure_default_demo(progress: ProgressCallback | None = None) -> Path:
    """Return the embedded demo store's path, building it first if it is not there.

    `progress(done, total)` is called while building (e.g. to drive a progress bar)."""
    path = default_demo_path()
    if path.is_file() and load_manifest(path) is not None:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # A store here without its manifest is our own interrupted first run: start over.
    remove_store(path)
    build_demo(path, DEFAULT_EVENTS, progress=progress)
    return path
