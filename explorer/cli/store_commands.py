"""Headless store commands: `streams`, `events`, `verify`, `digest`, `checkpoints`.

They read through `EventSource` only (so they work on every supported format), open the
source read-only, and pass every stored string through `visible_text` before it reaches
a terminal: stored data is evidence, never terminal instructions.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from typing import Any

import click
from eventscope.explorer.cli.common import (
    MAX_NUMBER,
    UserError,
    format_option,
    json_option,
    opened,
    print_json,
    safe_text,
    source_argument,
)
from eventscope.explorer.safe_text import shorten
from eventscope.store import Digest, StreamNotFound
from eventscope.store.records import format_timestamp

EXIT_BROKEN = 1


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table; every cell is made terminal-safe first."""
    cells = [[safe_text("" if cell is None else cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


@click.command("streams")
@source_argument
@click.option("--type", "stream_type", default=None, help="Only streams of this type.")
@click.option("--prefix", default=None, help="Only stream ids starting with this text.")
@click.option("--after", default=None, help="Start after this stream id (paging).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--all", "everything", is_flag=True, help="Every matching stream (pages through them)."
)
@format_option
@json_option
def streams_command(
    source: str,
    stream_type: str | None,
    prefix: str | None,
    after: str | None,
    limit: int,
    everything: bool,
    source_format: str | None,
    as_json: bool,
) -> None:
    """List streams (from the stream catalog), ordered by stream id: a page of --limit
    (stderr says when more follow and how to get them), or --all of them."""
    with opened(source, source_format) as events_source:
        if everything:
            found = list(_all_streams(events_source, stream_type, prefix, after))
            more = False
        else:
            # One row more than asked says whether another page follows, without a count.
            found = events_source.streams(
                stream_type=stream_type, prefix=prefix, after=after, limit=limit + 1
            )
            more = len(found) > limit
            found = found[:limit]
    if more:
        click.echo(
            f"eventscope: {len(found)} streams shown and more follow; next page: "
            f"--after {shlex.quote(safe_text(found[-1].stream_id))} (or --all for every one)",
            err=True,
        )
    if as_json:
        print_json([info.to_json() for info in found])
        return
    rows = [
        (
            shorten(info.stream_id, 60),
            info.stream_type,
            info.version,
            info.event_count,
            format_timestamp(info.last_recorded_at) if info.last_recorded_at else "",
        )
        for info in found
    ]
    click.echo(render_table(("STREAM", "TYPE", "VERSION", "EVENTS", "LAST RECORDED"), rows))


def _all_streams(
    source: Any, stream_type: str | None, prefix: str | None, after: str | None
) -> Iterator[Any]:
    """Every matching stream, a keyset page at a time (the catalog is never scanned
    whole into one query)."""
    while True:
        page = source.streams(stream_type=stream_type, prefix=prefix, after=after, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].stream_id


@click.command("events")
@source_argument
@click.argument("stream")
@click.option("--from-version", default=1, show_default=True, type=click.IntRange(1, MAX_NUMBER))
@click.option("--to-version", default=None, type=click.IntRange(1, MAX_NUMBER))
@format_option
@json_option
def events_command(
    source: str,
    stream: str,
    from_version: int,
    to_version: int | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """Print the events of one stream in version order."""
    with opened(source, source_format) as events_source:
        if events_source.stream_info(stream) is None:
            raise StreamNotFound(stream)
        found = list(events_source.read_stream(stream, from_version, to_version))
    if as_json:
        print_json([event.to_json() for event in found])
        return
    rows = [
        (
            event.position,
            event.version,
            event.event_type,
            event.time_text("recorded_at"),
            event.actor or "",
            shorten(safe_text(_compact(event.data)), 80),
        )
        for event in found
    ]
    click.echo(render_table(("POSITION", "VERSION", "TYPE", "RECORDED", "ACTOR", "DATA"), rows))


@click.command("verify")
@source_argument
@click.option(
    "--against",
    default=None,
    metavar="DIGEST",
    help="A POSITION:HASH digest kept outside the store (from `eventscope digest`).",
)
@format_option
@json_option
def verify_command(
    source: str, against: str | None, source_format: str | None, as_json: bool
) -> None:
    """Walk the hash chain to the end; name every bad position and every stream whose
    catalog row disagrees with its events. Exit status 1 when the history is broken.
    A source without a hash chain gets structural checks instead, and says so."""
    from eventscope.explorer.cli.verify_output import verify_progress, verify_text
    from eventscope.store.structural_check import verify_source

    digest = _parse_digest(against) if against is not None else None
    with opened(source, source_format) as events_source, verify_progress() as progress:
        report = verify_source(events_source, against=digest, progress=progress)
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(verify_text(report))
    if not report.ok:
        click.get_current_context().exit(EXIT_BROKEN)


@click.command("digest")
@source_argument
@click.option(
    "--unverified",
    is_flag=True,
    help="Print the stored head without verifying the chain first (a warning says so).",
)
@format_option
@json_option
def digest_command(source: str, unverified: bool, source_format: str | None, as_json: bool) -> None:
    """Verify the chain, then print its head as POSITION:HASH, to keep outside the store.
    A broken chain is refused (exit 1): a digest of it would vouch for altered events."""
    from eventscope.explorer.cli.verify_output import verify_progress
    from eventscope.store.structural_check import verify_source

    with opened(source, source_format) as events_source:
        if not events_source.describe().has_hash_chain:
            raise UserError(
                "this source keeps no hash chain, so its integrity cannot be proven and "
                "there is no digest to give (`eventscope verify` says what it checked)"
            )
        if unverified:
            click.echo(
                "eventscope: warning: this digest is the stored head, not verified; it "
                "proves nothing about the events before it",
                err=True,
            )
        else:
            with verify_progress("verifying before the digest") as progress:
                report = verify_source(events_source, progress=progress)
            if not report.ok:
                where = report.first_bad_position
                at = f" at position {where}" if where is not None else ""
                raise UserError(
                    f"the hash chain is broken{at} ({report.bad_count:,} bad position(s)), "
                    "so no digest is given; see `eventscope verify` (or --unverified)",
                    code=EXIT_BROKEN,
                )
        digest = events_source.head_digest()
    if as_json:
        print_json({"position": digest.position, "hash": digest.hash, "verified": not unverified})
    else:
        click.echo(str(digest))


def _parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _compact(data: object) -> str:
    import orjson

    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str).decode()


@click.command("checkpoints")
@source_argument
@format_option
@json_option
def checkpoints_command(source: str, source_format: str | None, as_json: bool) -> None:
    """List each projection checkpoint (or processor token) with its position and its
    lag against the head, in events stored after it."""
    from eventscope.domain.checkpoint_lag import checkpoint_lags

    with opened(source, source_format) as events_source:
        lags = checkpoint_lags(events_source)
    if as_json:
        print_json([lag.to_json() for lag in lags])
        return
    if not lags:
        click.echo("this source keeps no projection checkpoints")
        return
    rows = [(lag.name, lag.position, lag.head, lag.lag_events) for lag in lags]
    click.echo(render_table(("CHECKPOINT", "POSITION", "HEAD", "LAG (EVENTS)"), rows))


COMMANDS: list[click.Command] = [
    streams_command,
    events_command,
    verify_command,
    digest_command,
    checkpoints_command,
]
