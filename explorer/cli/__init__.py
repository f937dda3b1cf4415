"""The `eventscope` command: a click group whose subcommands live in small modules, one
per area (store, domain, demo, sources, evidence, app). Headless commands never import
Textual, so `--json` output starts fast.
"""

from __future__ import annotations

import click

from explorer.cli import (
    app_commands,
    demo_commands,
    domain_commands,
    evidence_commands,
    source_commands,
    store_commands,
)
from explorer.cli.common import CliGroup

__version__ = "0.1.0"


@click.group(
    cls=CliGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="eventscope")
@click.pass_context
def main(ctx: click.Context) -> None:
    """eventscope: explore, audit and prove the history of an event-sourced system.

    With no command, opens the explorer on the embedded demo store (built on first run).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(app_commands.open_command, source=None)


for _module in (
    app_commands,
    store_commands,
    domain_commands,
    demo_commands,
    source_commands,
    evidence_commands,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
