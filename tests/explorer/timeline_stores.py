"""Moved to tests/support/timeline_stores.py; kept so older imports keep working."""

from support.timeline_stores import *  # noqa: F403
