"""`eventscope demo`: build a deterministic demo store (a bank and a shop) to explore.

    eventscope demo --db demo.db [--events N] [--seed S] [--tamper] [--force] [--json]

Same seed and size give byte-identical events, timestamps and hashes. The manifest of
planted anomalies is written beside the store (``demo.db.manifest.json``); the summary
printed here says what to look for and with which command.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from eventscope.explorer.cli.common import UserError, json_option, print_json, safe_text

PROGRESS_FROM = 50_000  # builds this large take seconds: show a progress bar


@click.command("demo")
@click.option(
    "--db",
    "db",
    required=True,
    help="Path of the SQLite store to create (a file: demos are SQLite files).",
)
@click.option(
    "--events",
    type=click.IntRange(min=1, max=50_000_000),
    default=None,
    help="Number of events (default 20,000; at least 300, at most 50,000,000, and no more "
    "than the free disk space holds at about 2 kB per event).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default 42).")
@click.option(
    "--tamper",
    is_flag=True,
    help="Afterwards, edit one stored event with raw SQL so `verify` finds it.",
)
@click.option("--force", is_flag=True, help="Replace the store if it exists.")
@json_option
def demo_command(
    db: str, events: int | None, seed: int | None, tamper: bool, force: bool, as_json: bool
) -> None:
    """Build a demo store with months of banking and shop history and planted anomalies."""
    if "://" in db or db.lower().startswith(("postgresql", "sqlite:")):
        raise UserError(demo_url_refused(db))
    _build(Path(db), events, seed, tamper, force, as_json)


def _build(
    db: Path, events: int | None, seed: int | None, tamper: bool, force: bool, as_json: bool
) -> None:
    from eventscope.demo_data import (
        DEFAULT_EVENTS,
        DEFAULT_SEED,
        DemoError,
        build_demo,
        manifest_path,
    )
    from eventscope.demo_data.build import check_room
    from eventscope.demo_data.interrupts import BuildInterrupted

    size = DEFAULT_EVENTS if events is None else events
    started = time.perf_counter()
    try:
        check_room(Path(db).expanduser(), size)  # before the progress bar starts
        if size >= PROGRESS_FROM and not as_json:
            with click.progressbar(
                length=size,
                label="building the demo store",
                file=sys.stderr,
                show_pos=True,
            ) as bar:
                done = [0]

                def report(written: int, total: int) -> None:
                    bar.update(written - done[0])
                    done[0] = written

                manifest = build_demo(
                    db,
                    size,
                    DEFAULT_SEED if seed is None else seed,
                    tamper=tamper,
                    force=force,
                    progress=report,
                )
        else:
            manifest = build_demo(
                db, size, DEFAULT_SEED if seed is None else seed, tamper=tamper, force=force
            )
    except DemoError as exc:
        raise UserError(str(exc)) from None
    except BuildInterrupted as exc:
        click.echo("eventscope: the demo build was stopped; nothing was left behind", err=True)
        raise SystemExit(exc.code) from None
    elapsed = time.perf_counter() - started
    if as_json:
        print_json({**manifest, "path": str(db), "seconds": round(elapsed, 2)})
        return
    _print_summary(db, manifest, elapsed, manifest_path(db))


def demo_url_refused(location: str) -> str:
    """The sentence for `demo --db URL`: demos are SQLite files; this is how to get one
    into PostgreSQL (the import keeps every event, its hash chain and its times)."""
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(location).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: show it as typed
        shown = location
    target = safe_text(shown)
    return (
        f"demos are built as SQLite files, not at a URL such as {target}: build one with "
        f"`eventscope demo --db demo.db`, then copy it into PostgreSQL with "
        f"`eventscope import demo.db --db {target}`"
    )


def _print_summary(db: Path, manifest: dict[str, Any], elapsed: float, side: Path) -> None:
    where = safe_text(str(db))
    streams = manifest["streams"]
    click.echo(
        f"Built {where}: {manifest['events']:,} events in {sum(streams.values()):,} streams "
        f"({', '.join(f'{count:,} {name}' for name, count in streams.items())}) "
        f"in {elapsed:.1f} s."
    )
    click.echo(
        f"Simulated business from {manifest['recorded_from'][:10]} to "
        f"{manifest['recorded_to'][:10]}; seed {manifest['seed']}; "
        f"head digest {manifest['head_digest']}."
    )
    click.echo(f"Manifest of planted anomalies: {safe_text(str(side))}")
    click.echo(
        "Find them (the demo's own domain code replays with --domain eventscope.domain.demo):"
    )
    for item in manifest["anomalies"]:
        command = item["find_with"].replace("DB", where, 1)
        click.echo(f"  - {item['kind']}: {safe_text(command)}")


COMMANDS: list[click.Command] = [demo_command]
