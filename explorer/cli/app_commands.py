"""`eventscope open`: the interactive explorer (Textual is imported only here, lazily)."""

from __future__ import annotations

import click

from explorer.cli.common import UserError


@click.command("open")
@click.argument("source", required=False)
def open_command(source: str | None) -> None:
    """Open SOURCE (a path or URL) in the explorer; the demo store when omitted."""
    raise UserError("the explorer is not built yet")


COMMANDS: list[click.Command] = [open_command]
