"""Build a demo store: simulate, write events + snapshots + read models, write the
manifest beside the store, optionally tamper.

The store is built under a temporary name in the target folder and renamed into place
only when complete, so an interrupted build never leaves a half-written store where a
user (or the explorer's first run) would open it. SIGTERM and SIGHUP remove the
temporary store before the process ends; what a SIGKILL leaves is removed by the next
build of the same store. A demo must fit the free disk space (about 2 kB per event while
building).
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any

import orjson
from eventscope.demo_data.clock import SPAN_DAYS, START
from eventscope.demo_data.interrupts import cleanup_on_signals
from eventscope.demo_data.pipeline import SimulationSummary, simulate
from eventscope.demo_data.simulation import DEFAULT_EVENTS, DEFAULT_SEED, MIN_EVENTS
from eventscope.demo_data.tamper import tamper as tamper_store
from eventscope.demo_data.writer import StoreWriter
from eventscope.domain.demo import DEMO_LABEL
from eventscope.domain.demo.events import REGISTRY
from eventscope.store import EventStore
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import format_timestamp

MANIFEST_FORMAT = "eventscope-demo-manifest/1"
GENERATOR_VERSION = "1"
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


class DemoError(Exception):
    """A demo cannot be built as asked (the CLI prints it as one sentence)."""


def manifest_path(db: str | Path) -> Path:
    """Where a demo's manifest lives: ``<db>.manifest.json`` beside the store."""
    db = Path(db)
    return db.with_name(db.name + ".manifest.json")


def load_manifest(db: str | Path) -> dict[str, Any] | None:
    """The manifest of a demo store, or None when there is none (or it is unreadable)."""
    try:
        return orjson.loads(manifest_path(db).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def build_demo(
    db: str | Path,
    events: int = DEFAULT_EVENTS,
    seed: int = DEFAULT_SEED,
    *,
    tamper: bool = False,
    force: bool = False,
    progress: ProgressCallback | None = None,
    snapshot_every: int | None = None,
    in_child: bool | None = None,
    rejected: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build a demo store at `db` and return its manifest (also written beside it).

    Same `events` and `seed` -> byte-identical events, timestamps and hashes. Large builds
    simulate in a child process while this one writes (`in_child` forces either way).
    `rejected`, when given, receives the commands the simulation refused (a refused
    command records no event; a teaching sandbox shows them in its command log).
    """
    db = Path(db).expanduser()
    if events < MIN_EVENTS:
        raise DemoError(f"a demo needs at least {MIN_EVENTS} events, not {events}")
    if not db.parent.is_dir():
        raise DemoError(f"cannot create {db}: the folder {db.parent} does not exist")
    if db.is_dir():
        raise DemoError(f"{db} is a folder; give the path of a database file to create")
    if db.exists():
        if not force:
            raise DemoError(f"{db} already exists; pass --force to replace it")
        if db.stat().st_size and load_manifest(db) is None:
            # --force replaces demos, never someone's real history (or any other file).
            raise DemoError(
                f"{db} is not a demo store (there is no {manifest_path(db).name} beside it), "
                "so --force will not replace it; remove it yourself if you mean to"
            )
    check_room(db, events)
    remove_stale_builds(db)
    temporary = db.with_name(f"{_building_prefix(db)}{os.getpid()}")
    _remove(temporary)
    try:
        with cleanup_on_signals():
            manifest = _build(temporary, events, seed, progress, snapshot_every, in_child, rejected)
            if tamper:
                manifest["anomalies"].append(tamper_store(temporary))
                manifest["tampered"] = True
            _remove(db)
            os.replace(temporary, db)
    except BaseException:
        _remove(temporary)
        raise
    manifest["store"] = db.name
    _write_atomically(manifest_path(db), orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


# What one demo event takes on disk while building (store, indexes, WAL), with room to
# spare: a 20,000-event demo is about 0.8 kB per event once built.
BYTES_PER_EVENT = 2_000
MAX_EVENTS = 50_000_000


def check_room(db: Path, events: int) -> None:
    """Refuse a demo larger than `MAX_EVENTS` or than the free space of its folder allows,
    before writing anything (a build that fills the disk helps no one)."""
    if events > MAX_EVENTS:
        raise DemoError(f"a demo can have at most {MAX_EVENTS:,} events, not {events:,}")
    if not db.parent.is_dir():
        return  # build_demo says which folder is missing
    needed = events * BYTES_PER_EVENT
    free = shutil.disk_usage(db.parent).free
    if needed > free:
        raise DemoError(
            f"a demo of {events:,} events needs about {needed / 1e9:.1f} GB while building; "
            f"{db.parent} has {free / 1e9:.1f} GB free"
        )


def _building_prefix(db: Path) -> str:
    return f".{db.name}.building-"


def remove_stale_builds(db: Path) -> list[Path]:
    """Delete what builds of `db` killed before they could clean up left behind
    (``.NAME.building-PID`` and its side files, whose process is gone); returns them.
    A build still running (its process alive) is left alone."""
    prefix = _building_prefix(db)
    removed = []
    for candidate in db.parent.glob(f"{glob.escape(prefix)}*"):
        pid_text = candidate.name[len(prefix) :]
        for suffix in SIDE_SUFFIXES:
            pid_text = pid_text.removesuffix(suffix)
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            candidate.unlink()
        except FileNotFoundError:
            continue
        removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OverflowError:
        return False
    return True


def _build(
    path: Path,
    events: int,
    seed: int,
    progress: ProgressCallback | None,
    snapshot_every: int | None,
    in_child: bool | None,
    rejected: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    store = EventStore.open(str(path), synchronous="NORMAL")
    try:
        writer = StoreWriter(store, events, progress)
        summary = simulate(events, seed, snapshot_every, writer, in_child=in_child)
        if rejected is not None:
            rejected.extend(summary.rejections)
        rows = summary.projection_rows
        for name, items in rows.items():
            store.put_projection_rows(name, items, checkpoint=summary.count)
        mark_as_demo(store)
        digest = store.head_digest()
        first = store.event_at(1)
        last = store.event_at(summary.count)
    finally:
        store.close()
    assert first is not None and last is not None
    return {
        "format": MANIFEST_FORMAT,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "events": summary.count,
        "snapshot_every": summary.snapshot_every,
        "snapshots": writer.snapshots,
        "head_digest": str(digest),
        "recorded_from": format_timestamp(first.recorded_at),
        "recorded_to": format_timestamp(last.recorded_at),
        "simulated_span": {"start": format_timestamp(START), "days": SPAN_DAYS},
        "streams": dict(sorted(summary.stream_counts.items())),
        "event_types": {
            f"{name} v{version}": count
            for (name, version), count in sorted(summary.type_counts.items())
        },
        "schema_changes": _schema_changes(summary),
        "projections": {
            name: {"rows": len(items), "checkpoint": summary.count} for name, items in rows.items()
        },
        "rejected_commands": summary.stats["rejected_commands"],
        "anomalies": sorted(summary.anomalies, key=_anomaly_order),
        "tampered": False,
    }


def mark_as_demo(store: EventStore) -> None:
    """Label the store as built by the demo, so the demo's domain code replays it by
    default (`domain.demo.built_by_demo`); no other store gets that code unasked."""
    store.set_label(DEMO_LABEL, orjson.dumps({"generator_version": GENERATOR_VERSION}).decode())


def _schema_changes(summary: SimulationSummary) -> list[dict]:
    counts = summary.type_counts
    from eventscope.demo_data.clock import moment

    out = []
    changes = (
        ("MoneyDeposited", summary.money_v2_seconds, "multi-currency launch"),
        ("MoneyWithdrawn", summary.money_v2_seconds, "multi-currency launch"),
        ("CustomerRegistered", summary.address_v2_seconds, "structured addresses"),
    )
    for event_type, since, story in changes:
        out.append(
            {
                "event_type": event_type,
                "from_version": 1,
                "to_version": REGISTRY.current_version(event_type),
                "since": format_timestamp(moment(since)),
                "why": story,
                "stored_v1": counts.get((event_type, 1), 0),
                "stored_v2": counts.get((event_type, 2), 0),
            }
        )
    return out


def _anomaly_order(item: dict[str, Any]) -> tuple[int, str]:
    position = item.get("position") or item.get("first_position") or 0
    return (position, item["kind"])


def remove_store(path: Path) -> None:
    """Delete a SQLite store file with its WAL/SHM side files (missing files are fine)."""
    _remove(path)


def _remove(path: Path) -> None:
    for candidate in (path, *(path.with_name(path.name + s) for s in SIDE_SUFFIXES)):
        try:
            candidate.unlink()
        except FileNotFoundError:
            pass


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
