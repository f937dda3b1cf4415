"""`eventscope open`: the interactive explorer.

Everything that can go wrong because of what the user typed (a missing file, an unknown
stream, a version past the end, a plugin that does not import) is checked *before* Textual
starts, so it ends as one sentence on stderr instead of a half-drawn screen. Textual is
imported only here, inside the command, so headless commands stay fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from eventscope.explorer.cli.common import (
    UserError,
    check_location,
    format_option,
    open_with_progress,
    safe_text,
)


@click.command("open")
@click.argument("source", required=False)
@click.option(
    "--domain",
    "domain_module",
    metavar="MODULE",
    help="Load aggregates, projections and upcasters from MODULE (imported and run with "
    "your rights: name only modules you trust).",
)
@format_option
@click.option("--stream", metavar="ID", help="Open straight on this stream's timeline.")
@click.option(
    "--version", type=click.IntRange(min=0), metavar="N", help="With --stream: the version to show."
)
def open_command(
    source: str | None,
    domain_module: str | None = None,
    source_format: str | None = None,
    stream: str | None = None,
    version: int | None = None,
) -> None:
    """Open SOURCE (a path or URL) in the explorer; the demo store when omitted.

    \b
    Examples:
      eventscope open bank.db
      eventscope open bank.db --stream account-0042 --version 17
      eventscope open postgresql+psycopg://user@host/db --domain mycompany.events
    """
    if version is not None and stream is None:
        raise UserError("--version needs --stream (the version of which stream?)")
    if source is None and not _interactive():
        raise UserError(_NO_TERMINAL)  # before spending seconds on building the demo
    location = source if source is not None else _default_demo()
    check_location(location)
    opened = open_with_progress(location, source_format)
    try:
        _check_deep_link(opened, stream, version)
        if domain_module:
            from eventscope.domain.plugin import load_plugin

            load_plugin(domain_module)  # a plugin that does not import fails here, politely
        if not _interactive():
            raise UserError(_NO_TERMINAL)
        from eventscope.explorer.app import make_app

        app = make_app(source=opened, domain=domain_module, stream=stream, version=version)
        app.run()
    finally:
        opened.close()
    if app.return_code:  # the app ended on an error (Textual printed what happened)
        click.echo(
            "eventscope: the explorer stopped on an internal error (shown above); "
            "the source was opened read-only and is unchanged",
            err=True,
        )
        raise SystemExit(app.return_code)


_NO_TERMINAL = (
    "the explorer needs a terminal; for scripts use the headless commands "
    "(streams, events, state, diff, verify) with --json"
)


def _interactive() -> bool:
    return sys.stdout.isatty() and sys.stdin.isatty()


def _check_deep_link(source: Any, stream: str | None, version: int | None) -> None:
    if stream is None:
        return
    info = source.stream_info(stream)
    if info is None:
        raise UserError(f"there is no stream {safe_text(stream)!r} in this source")
    if version is not None and version > info.version:
        raise UserError(
            f"stream {safe_text(stream)!r} has {info.version} versions; "
            f"--version {version} is past its end"
        )


def _default_demo() -> str:
    """Build the embedded demo store on first run (with a progress bar) and return its path."""
    from eventscope.demo_data.default import ensure_default_demo
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("building the demo store (first run only)"),
        BarColumn(),
        TextColumn("{task.fields[figures]}"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("demo", total=None, figures="")

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, figures=f"{done:,}/{total:,} events")

        path = ensure_default_demo(report)
    return str(path)


COMMANDS: list[click.Command] = [open_command]
