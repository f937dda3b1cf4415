"""Shared pieces of the CLI: the source argument, `--json`, and one-sentence errors.

User mistakes (missing file, bad URL, unknown stream, bad time) end with one sentence on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson

from domain.errors import DomainError
from explorer.atomic_file import OutputRefused
from store import EventSource, StoreError, open_source
from store.records import parse_timestamp

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one sentence."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"eventscope: {self.format_message()}", err=True)


class CliGroup(click.Group):
    """A click group that turns store/domain errors into one sentence on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StoreError, DomainError, OutputRefused) as exc:
            raise UserError(str(exc)) from None


def source_argument(func: F) -> F:
    """The SOURCE positional argument: a path or a SQLAlchemy/adapter URL."""
    return click.argument("source", metavar="SOURCE")(func)


def format_option(func: F) -> F:
    """`--format native|jsonl|eventsourcing` overrides auto-detection."""
    return click.option(
        "--format",
        "source_format",
        type=click.Choice(["native", "jsonl", "eventsourcing"]),
        default=None,
        help="Source format; detected from the file or URL when omitted.",
    )(func)


def json_option(func: F) -> F:
    """`--json` prints machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


@contextmanager
def opened(location: str, source_format: str | None = None) -> Iterator[EventSource]:
    """Open a source read-only for the duration of a command."""
    source = open_source(location, format=source_format, read_only=True)
    try:
        yield source
    finally:
        source.close()


def print_json(value: Any) -> None:
    """Write JSON to stdout (UTF-8, indented for people; stable key order). C1 and bidi
    controls inside strings are written as ``\\uXXXX`` escapes (same JSON value), so stored
    data never drives the terminal, even in `--json` output."""
    from explorer.safe_text import json_safe

    sys.stdout.buffer.write(
        json_safe(
            orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)
        )
    )
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def parse_time_option(text: str) -> datetime:
    """Parse `--at` style ISO 8601 text (naive means UTC) or raise a UserError."""
    try:
        return parse_timestamp(text)
    except ValueError:
        raise UserError(
            f"{text!r} is not a time eventscope understands; use ISO 8601 such as "
            "2026-03-31T17:00:00Z (a time without a zone means UTC)"
        ) from None


def safe_text(value: object) -> str:
    """Make a string safe to print on a terminal: control characters and escape sequences
    become visible escapes (``\\x1b``), so stored data can never drive the terminal."""
    from explorer.safe_text import visible_text

    return visible_text(str(value))
