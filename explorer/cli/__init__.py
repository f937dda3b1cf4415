"""The `eventscope` command: a click group whose subcommands live in small modules, one
per area (store, domain, demo, sources, evidence, app). Headless commands never import
Textual, so `--json` output starts fast.
"""

from __future__ import annotations

import click
from eventscope.explorer.cli import (
    app_commands,
    demo_commands,
    domain_commands,
    evidence_commands,
    source_commands,
    store_commands,
    teach_commands,
    whatif_commands,
)
from eventscope.explorer.cli.common import CliGroup

__version__ = "0.1.0"


@click.group(
    cls=CliGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--version", "show_version", is_flag=True, help="Show the version and exit.")
@click.option(
    "--verbose",
    is_flag=True,
    help="With --version: also the SHA-256 of the bundle verifier it ships.",
)
@click.pass_context
def main(ctx: click.Context, show_version: bool, verbose: bool) -> None:
    """eventscope: explore, audit and prove the history of an event-sourced system.

    With no command, opens the explorer on the embedded demo store (built on first run).
    """
    if show_version:
        click.echo(f"eventscope, version {__version__}")
        if verbose:
            from eventscope.domain.evidence.bundle import VERIFIER_PATH, verifier_sha256

            click.echo(f"bundle verifier {VERIFIER_PATH.name} SHA-256 {verifier_sha256()}")
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        ctx.invoke(app_commands.open_command, source=None)


for _module in (
    app_commands,
    store_commands,
    domain_commands,
    demo_commands,
    source_commands,
    evidence_commands,
    whatif_commands,
    teach_commands,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
