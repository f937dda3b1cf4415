"""`eventscope teach`: teaching mode on a sandbox copy of the demo store.

    eventscope teach [--keep] [--events N] [--seed S]

The sandbox lives in eventscope's data folder (`demo_data.sandbox`) and is made fresh
each time (`--keep` continues the last class's sandbox when it has the same size and
seed). It is the only store this command writes to: it never takes a SOURCE, so it can
never touch evidence.
"""

from __future__ import annotations

import click
from eventscope.explorer.cli.app_commands import _interactive
from eventscope.explorer.cli.common import UserError, safe_text


@click.command("teach")
@click.option(
    "--keep", is_flag=True, help="Continue the last sandbox instead of making a fresh one."
)
@click.option("--events", type=int, default=None, help="Size of the sandbox (default: the demo's).")
@click.option("--seed", type=int, default=None, help="Seed of the sandbox (default: the demo's).")
def teach_command(keep: bool, events: int | None, seed: int | None) -> None:
    """Teach event sourcing and CQRS: commands, rejections, events, lagging read models,
    snapshots, concurrency and upcasting, on a sandbox copy of the demo store (never on
    evidence), with built-in lessons (ctrl+l)."""
    from eventscope.demo_data import DEFAULT_EVENTS, DEFAULT_SEED, MIN_EVENTS
    from eventscope.demo_data.sandbox import open_sandbox, sandbox_folder

    size = DEFAULT_EVENTS if events is None else events
    if size < MIN_EVENTS:
        raise UserError(f"a sandbox needs at least {MIN_EVENTS} events, not {size}")
    if not _interactive():
        raise UserError("teaching mode needs a terminal")
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn(f"making the teaching sandbox in {safe_text(sandbox_folder())}"),
        BarColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("sandbox", total=None)
        sandbox = open_sandbox(
            events=size,
            seed=DEFAULT_SEED if seed is None else seed,
            fresh=not keep,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    from eventscope.explorer.screens.teach import TeachApp

    TeachApp(sandbox).run()


COMMANDS: list[click.Command] = [teach_command]
