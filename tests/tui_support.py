"""Moved to tests/support/textual.py; kept so older imports keep working."""

from support.textual import (  # noqa: F401
    notifications,
    screen_lines,
    screen_text,
    settle,
    wait_for_workers,
    wait_until,
)
