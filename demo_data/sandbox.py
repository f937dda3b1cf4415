"""The teaching sandbox: a fresh copy of the demo store in eventscope's data folder.

`eventscope teach` works here and nowhere else: ``<data folder>/teach/sandbox.db`` (on
Linux ``~/.local/share/eventscope/teach/``), built by the same deterministic generator
as the embedded demo (same seed and size give byte-identical events), so it *is* a copy
of the demo store -- made fresh, never a file anyone else uses, and resettable at any
time. Beside it, ``sandbox.commands.jsonl`` is the command log, started with the commands
the generator refused (a refused command records no event, so only this log shows it).

Nothing here can touch evidence: the folder is eventscope's own, and `reset_sandbox`
removes only the files it made (the store, its manifest, side files and the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from eventscope.demo_data.build import build_demo, load_manifest, manifest_path, remove_store
from eventscope.demo_data.simulation import DEFAULT_EVENTS, DEFAULT_SEED
from eventscope.store.progress import ProgressCallback

SANDBOX_NAME = "sandbox.db"
LOG_NAME = "sandbox.commands.jsonl"


def sandbox_folder() -> Path:
    return platformdirs.user_data_path("eventscope", appauthor=False) / "teach"


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Where a sandbox lives and what its manifest says."""

    path: Path
    log_path: Path
    manifest: dict[str, Any]

    @property
    def snapshot_every(self) -> int:
        return int(self.manifest.get("snapshot_every") or 5)

    def backdated_stream(self) -> str | None:
        """A stream with a backdated correction (the manifest's planted anomaly)."""
        for anomaly in self.manifest.get("anomalies", []):
            if anomaly.get("kind") == "backdated_correction" and anomaly.get("stream_id"):
                return str(anomaly["stream_id"])
        return None


def open_sandbox(
    folder: Path | None = None,
    *,
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    fresh: bool = False,
    progress: ProgressCallback | None = None,
) -> Sandbox:
    """The sandbox in `folder` (default: the data folder's ``teach``), built when it is
    missing, unfinished, of another size or seed, or when `fresh` is asked for."""
    folder = Path(folder) if folder is not None else sandbox_folder()
    path = folder / SANDBOX_NAME
    manifest = load_manifest(path) if path.is_file() else None
    same = manifest is not None and (manifest.get("events"), manifest.get("seed")) == (
        events,
        seed,
    )
    if fresh or not same:
        return reset_sandbox(folder, events=events, seed=seed, progress=progress)
    assert manifest is not None
    return Sandbox(path, folder / LOG_NAME, manifest)


def reset_sandbox(
    folder: Path | None = None,
    *,
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    progress: ProgressCallback | None = None,
) -> Sandbox:
    """Throw the sandbox away and make it again from the generator (a few seconds)."""
    from eventscope.domain.teaching.command_log import CommandLog

    folder = Path(folder) if folder is not None else sandbox_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SANDBOX_NAME
    log_path = folder / LOG_NAME
    remove_store(path)
    manifest_path(path).unlink(missing_ok=True)
    log_path.unlink(missing_ok=True)
    rejected: list[dict[str, Any]] = []
    manifest = build_demo(path, events, seed, progress=progress, rejected=rejected)
    CommandLog(log_path).extend(
        [
            {
                "at": item["at"],
                "actor": "demo generator",
                "stream_id": item["stream_id"],
                "command": item["command"],
                "outcome": "rejected",
                "reason": item["reason"],
                "events": [],
                "source": "demo",
            }
            for item in rejected
        ]
    )
    return Sandbox(path, log_path, manifest)
