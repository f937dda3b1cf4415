"""Moved to tests/support/shell_store.py; kept so older imports keep working."""

from support.shell_store import *  # noqa: F403
