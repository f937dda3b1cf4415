"""Small helpers shared by the reliability suite (tests/reliability/).

They stay deliberately dumb -- counters, a figures printer, a repetition knob read from
the environment -- so that every assertion lives in the test that makes it.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ONLY_SQLITE = ["sqlite"]


def repetitions(name: str, default: int) -> int:
    """A repetition count from the environment (`EVENTSCOPE_<NAME>`), at least 1.

    The defaults are what CI runs; a nightly or a soak run raises them without a code
    change, e.g. ``EVENTSCOPE_CRASH_KILLS=2000``.
    """
    text = os.environ.get(f"EVENTSCOPE_{name}", "").strip()
    return max(1, int(text)) if text else default


def figure(scenario: str, text: str) -> None:
    """Print one figure line for tests/RELIABILITY.md (visible with ``-s``)."""
    sys.stdout.write(f"\n[reliability] {scenario}: {text}\n")
    sys.stdout.flush()


def pg_engine(url: str, schema: str) -> sa.Engine:
    """An engine that bypasses the store (tampering, inspection) inside one schema."""
    return sa.create_engine(
        url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"}
    )
