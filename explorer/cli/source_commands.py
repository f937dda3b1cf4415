"""`export` and `import`: move a history between formats without losing or altering it.

* `eventscope export SOURCE --jsonl FILE` writes any source (native, JSON Lines,
  eventsourcing) as JSON Lines, streaming, with progress on stderr. The file appears
  atomically (temporary file in the same folder, fsync, rename, fsync of the folder) and
  an existing file or a symlink is refused unless `--force`, and the target may never
  be the source or one of its side files (`explorer.atomic_file`).
* `eventscope import FILE --db TARGET` appends a JSON Lines file or any other source into
  a native store (created if missing), keeping occurred/recorded times and computing the
  hash chain; importing the same history twice adds nothing.

Both are thin: the work lives in `store.sources.jsonl.export` and `store.native.importing`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from eventscope.explorer.atomic_file import (
    FORCE_HELP,
    atomic_output,
    check_not_evidence,
    check_output_path,
)
from eventscope.explorer.cli.common import (
    check_location,
    format_option,
    json_option,
    opened,
    print_json,
)
from eventscope.store import open_source
from eventscope.store.native.importing import import_history
from eventscope.store.sources.jsonl.export import write_jsonl


@click.command("export")
@click.argument("source", metavar="SOURCE")
@click.option(
    "--jsonl",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the history to this JSON Lines file.",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@format_option
@json_option
def export_command(
    source: str, target: Path, force: bool, source_format: str | None, as_json: bool
) -> None:
    """Write every event of SOURCE, in position order, as JSON Lines."""
    check_output_path(target, force=force, protect=[source])
    with opened(source, source_format) as history:
        total = history.event_count()
        with (
            atomic_output(target, force=force, protect=[source]) as out,
            _progress(total, "exporting") as bar,
        ):
            done = [0]

            def advance(count: int) -> None:
                bar.update(count - done[0])
                done[0] = count

            written = write_jsonl(history, out, advance)
    if as_json:
        print_json({"events": written, "path": str(target)})
    else:
        click.echo(f"exported {written} events to {target}", err=True)


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "--db",
    "target",
    required=True,
    help="The native store to append to (a path or URL; created if missing).",
)
@format_option
@json_option
def import_command(file: str, target: str, source_format: str | None, as_json: bool) -> None:
    """Append the history in FILE (JSON Lines or any source) to a native store."""
    check_not_evidence(target, [file])
    check_location(target)
    with opened(file, source_format) as history:
        total = history.event_count()
        store: Any = open_source(target, format="native", read_only=False)
        try:
            with _progress(total, "importing") as bar:
                done = [0]

                def advance(count: int) -> None:
                    bar.update(count - done[0])
                    done[0] = count

                report = import_history(history, store, progress=advance)
        finally:
            store.close()
    if as_json:
        print_json(report.to_json())
        return
    click.echo(
        f"imported {report.appended} new events into {target} "
        f"({report.already_present} were already there)",
        err=True,
    )
    if report.clamped:
        click.echo(
            f"note: {report.clamped} events had a recorded_at earlier than an event before "
            "them; they were recorded at that later time (their occurred_at is unchanged)",
            err=True,
        )
    if report.undecodable:
        click.echo(
            f"note: {report.undecodable} events could not be decoded in the source; they "
            "were imported with empty data and the reason in metadata.decode_error",
            err=True,
        )
    if report.renamed_ids:
        click.echo(
            f"note: {report.renamed_ids} events had ids that are not UUIDs; they got "
            "derived UUIDs and keep the original in metadata.source_event_id",
            err=True,
        )


def _progress(total: int, label: str) -> Any:
    """A progress bar on stderr (stdout stays clean for --json); hidden when stderr is not
    a terminal, so logs and error output hold only sentences."""
    return click.progressbar(
        length=max(total, 1),
        label=label,
        file=sys.stderr,
        hidden=not sys.stderr.isatty(),
        update_min_steps=max(total // 200, 1),
    )


COMMANDS: list[click.Command] = [export_command, import_command]
