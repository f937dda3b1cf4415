"""Shared pieces of the CLI: the source argument, `--json`, and one-sentence errors.

User mistakes (missing file, bad URL, unknown stream, bad time) end with one sentence on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson
from eventscope.domain.errors import DomainError
from eventscope.explorer.atomic_file import OutputRefused
from eventscope.store import EventSource, StoreError, kinds, open_source
from eventscope.store.records import parse_timestamp

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A mistake the user can fix; printed as one sentence."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:  # e.g. 1 for "the evidence is broken", not a usage error
            self.exit_code = code

    def show(self, file: Any = None) -> None:
        # Messages quote what the user typed or the data held: shown, never acted on.
        click.echo(f"eventscope: {safe_text(self.format_message())}", err=True)


class CliGroup(click.Group):
    """A click group that turns store/domain errors into one sentence on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk behind `> file` shows here, not at exit
            return result
        except (StoreError, DomainError, OutputRefused) as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRORS:
                raise
            _silence_stdout()
            raise UserError(f"cannot write the output: {_OUTPUT_ERRORS[exc.errno]}") from None
        finally:
            _report_plugin_output()


def _report_plugin_output() -> None:
    """What a `--domain` module printed, on stderr and escaped, after our own output."""
    from eventscope.domain.plugin_guard import captured_output

    for module, text, dropped in captured_output():
        more = f" (and {dropped:,} more characters)" if dropped else ""
        click.echo(
            f"eventscope: note: domain module {safe_text(module)!r} printed{more}: "
            f"{safe_text(text.strip())}",
            err=True,
        )


# Errors writing stdout (`eventscope events … > /dev/full`, a closed pipe).
_OUTPUT_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EPIPE: "the reader of the output went away",
    errno.EIO: "an input/output error",
    errno.EFBIG: "the file is too large",
}


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush of the unwritable output
    does not print a second, Python-worded error at exit."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (tests capture output in memory)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def source_argument(func: F) -> F:
    """The SOURCE positional argument: a path or a SQLAlchemy/adapter URL."""
    return click.argument("source", metavar="SOURCE")(func)


def source_kinds() -> list[str]:
    """The source kinds `--format` accepts: every kind registered in `store.kinds`."""
    return list(kinds.names())


def format_option(func: F) -> F:
    """`--format KIND` (a registered source kind: native, jsonl, ...) overrides detection."""
    return click.option(
        "--format",
        "source_format",
        type=click.Choice(source_kinds()),
        default=None,
        help="Source format; detected from the file or URL when omitted.",
    )(func)


def json_option(func: F) -> F:
    """`--json` prints machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


# The largest version or position a store can hold (SQLite INTEGER, PostgreSQL BIGINT).
MAX_NUMBER = 2**63 - 1
# The PostgreSQL driver eventscope installs and speaks (SQLAlchemy's name for it).
POSTGRES_DRIVERS = ("postgresql", "postgresql+psycopg")


def check_location(location: str) -> None:
    """Refuse, in one sentence, a database URL that cannot even be tried: a port that is
    not a number, or a PostgreSQL driver other than psycopg (asyncpg, psycopg2), which
    SQLAlchemy would otherwise report as a traceback."""
    text = location.partition("#")[0]
    head, sep, rest = text.partition(":")
    if sep and head in kinds.names() and not rest.startswith("//"):  # a `kind:` prefix
        text = rest
    if "://" not in text:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
        url.port  # noqa: B018 - parsing the port is what raises
    except (ArgumentError, ValueError):
        port = text.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2].partition(":")[2]
        if port and not port.isdigit():
            raise UserError(f"the port {port!r} in the database URL is not a number") from None
        raise UserError(
            "the database URL cannot be read; use postgresql+psycopg://USER@HOST/DB"
        ) from None
    if url.get_backend_name() == "postgresql" and url.drivername not in POSTGRES_DRIVERS:
        driver = url.drivername.partition("+")[2]
        raise UserError(
            f"eventscope connects to PostgreSQL through psycopg, not {driver}; "
            "use a postgresql+psycopg:// URL"
        )


PREPARING = "building the stream catalog / index"


def open_with_progress(location: str, source_format: str | None = None) -> EventSource:
    """`open_source` read-only, with a transient progress bar on stderr (only on a
    terminal, like verify's) while the source prepares itself: Message DB's stream
    catalog on its first build, a JSON Lines file's index."""
    from eventscope.explorer.cli.verify_output import verify_progress

    with verify_progress(PREPARING) as progress:
        return open_source(location, format=source_format, read_only=True, progress=progress)


@contextmanager
def opened(location: str, source_format: str | None = None) -> Iterator[EventSource]:
    """Open a source read-only for the duration of a command."""
    from eventscope.store.skipped import skipped_by

    check_location(location)
    source = open_with_progress(location, source_format)
    try:
        skipped = skipped_by(source)
        if skipped is not None:  # every command says it once: views skip these lines
            click.echo(f"eventscope: {skipped.sentence()}", err=True)
        yield source
    finally:
        source.close()


def print_json(value: Any) -> None:
    """Write JSON to stdout (UTF-8, indented for people; stable key order). C1 and bidi
    controls inside strings are written as ``\\uXXXX`` escapes (same JSON value), so stored
    data never drives the terminal, even in `--json` output."""
    from eventscope.explorer.safe_text import json_safe

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
    except ValueError as exc:
        if "outside the years" in str(exc):
            raise UserError(str(exc)) from None
        raise UserError(
            f"{text!r} is not a time eventscope understands; use ISO 8601 such as "
            "2026-03-31T17:00:00Z (a time without a zone means UTC)"
        ) from None


def safe_text(value: object) -> str:
    """Make a string safe to print on a terminal: control characters and escape sequences
    become visible escapes (``\\x1b``), so stored data can never drive the terminal."""
    from eventscope.explorer.safe_text import visible_text

    return visible_text(str(value))
