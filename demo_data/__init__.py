"""Deterministic demo histories (a bank and a shop) with planted anomalies, and fixtures.

Public API (used by the CLI, the explorer and other parts' tests):

* `build_demo(db, events=20_000, seed=42, tamper=False, force=False, progress=None)` ->
  manifest dict; the manifest is also written to `manifest_path(db)`
  (``<db>.manifest.json``);
* `ensure_default_demo(progress=None)` -> path of the embedded demo store in the user data
  folder, built on first use;
* `build_fixture_store(path, tamper=False)` -> manifest: a small (400-event) demo with every
  anomaly kind and both schema versions, built in well under a second;
* `load_manifest(db)`, `FIXTURE_JSONL` (the same fixture as committed JSON Lines).
"""

from __future__ import annotations

from eventscope.demo_data.build import DemoError, build_demo, load_manifest, manifest_path
from eventscope.demo_data.default import default_demo_path, ensure_default_demo
from eventscope.demo_data.fixtures import (
    FIXTURE_EVENTS,
    FIXTURE_JSONL,
    FIXTURE_SEED,
    build_fixture_store,
)
from eventscope.demo_data.simulation import DEFAULT_EVENTS, DEFAULT_SEED, MIN_EVENTS

__all__ = [
    "DEFAULT_EVENTS",
    "DEFAULT_SEED",
    "FIXTURE_EVENTS",
    "FIXTURE_JSONL",
    "FIXTURE_SEED",
    "MIN_EVENTS",
    "DemoError",
    "build_demo",
    "build_fixture_store",
    "default_demo_path",
    "ensure_default_demo",
    "load_manifest",
    "manifest_path",
]
