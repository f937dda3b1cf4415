"""Where eventscope keeps what it derives from a source (indexes, stream catalogs): the
one rule every cache follows, so a user moves or disables all of them with one setting.

Why a rule of its own: a derived file must never be written beside the evidence (or into
the audited database), and every cache must honour the same switch.
`EVENTSCOPE_CACHE_DIR` moves the folder (every cache then shares it); `off` disables
caching; by default each cache gets its own folder under the user's cache directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder(purpose: str) -> Path | None:
    """The folder for one kind of cache (e.g. "jsonl-index"), or None when caching is off."""
    configured = os.environ.get("EVENTSCOPE_CACHE_DIR", "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured).expanduser()
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        return None
    return Path(platformdirs.user_cache_dir("eventscope")) / purpose
