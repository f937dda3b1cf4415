"""Moved to tests/support/hostile.py; kept so older imports keep working."""

from support.hostile import *  # noqa: F403
