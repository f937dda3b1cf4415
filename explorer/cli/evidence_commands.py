"""`report` and `bundle`: evidence a reviewer can hand to someone who does not trust us.

    eventscope report SOURCE STREAM [--at TIME [--axis recorded|occurred [--known-at R]]
                      | --version N]
                      [--format md|html] [-o FILE [--force]] [--domain MODULE]
    eventscope bundle SOURCE (--streams A,B | --stream A ... | --correlation ID)
                      [--at TIME [--axis occurred [--known-at R]]]
                      -o case.zip [--links full|hashes] [--force] [--domain MODULE] [--json]
    eventscope access-log verify [--against SEQ:HASH] [--json] | show [--json] | digest

Every report and bundle is recorded in the hash-chained access log
(`domain.evidence.access_log`; `--no-access-log` to skip): who exported which stream of
which source, and which positions.

`--format` here is the report's format, so the source format (normally detected) is
`--source-format`. Files are written atomically and an existing file is never replaced
without `--force` (`explorer.atomic_file`). The work itself lives in `domain.evidence`,
which the explorer calls too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from eventscope.explorer.atomic_file import (
    FORCE_HELP,
    atomic_output,
    check_output_path,
    write_bytes_atomically,
)
from eventscope.explorer.cli.common import (
    UserError,
    json_option,
    opened,
    print_json,
    safe_text,
    source_argument,
    source_kinds,
)
from eventscope.explorer.cli.domain_commands import at_options, domain_option, parse_moments
from eventscope.explorer.cli.whatif_commands import edits_from_options, what_if_options


def source_format_option(func: Any) -> Any:
    """`--source-format KIND` (`--format` is the report's format)."""
    return click.option(
        "--source-format",
        "source_format",
        type=click.Choice(source_kinds()),
        default=None,
        help="Source format; detected from the file or URL when omitted.",
    )(func)


def access_log_option(func: Any) -> Any:
    """`--no-access-log`: do not record this export in the access log."""
    return click.option(
        "--no-access-log",
        "no_access_log",
        is_flag=True,
        help="Do not record this export in the access log.",
    )(func)


def _record(
    enabled: bool, action: str, location: str, stream: str | None, positions: list[int]
) -> None:
    """Record an export; a log that cannot be written is a warning, never a lost export."""
    if not enabled:
        return
    from eventscope.domain.evidence.access_log import record_access
    from eventscope.domain.evidence.errors import EvidenceError

    try:
        record_access(None, action, location, stream, positions)
    except EvidenceError as exc:
        click.echo(f"eventscope: warning: {safe_text(exc)}", err=True)


def _engine(source: Any, domain_module: str | None) -> Any:
    from eventscope.explorer.engine_factory import build_engine

    return build_engine(source, domain_module)


@click.command("report")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@at_options
@click.option("--version", "version", type=int, default=None, help="Report at version N.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="Markdown, or one self-contained printable HTML page.",
)
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@what_if_options("what-if-")
@domain_option
@source_format_option
@access_log_option
def report_command(
    source: str,
    stream_id: str,
    at: str | None,
    axis: str,
    known_at: str | None,
    version: int | None,
    fmt: str,
    output: Path | None,
    force: bool,
    domain_module: str | None,
    source_format: str | None,
    no_access_log: bool,
    wi_skip: tuple[int, ...] = (),
    wi_insert_after: tuple[int, ...] = (),
    wi_event_type: tuple[str, ...] = (),
    wi_replace: tuple[int, ...] = (),
    wi_data: tuple[str, ...] = (),
) -> None:
    """Audit report of STREAM at a moment: state, field blame, every event up to it,
    upcasts, snapshot/projection consistency and the hash-chain check with its digest.
    The --what-if-* options add a section, marked hypothetical, with the state had the
    history been different (see `eventscope what-if`)."""
    from eventscope.domain.evidence.render_html import render_html
    from eventscope.domain.evidence.render_md import render_markdown
    from eventscope.domain.evidence.report import build_report

    if version is not None and at is not None:
        raise UserError("give --version or --at, not both")
    if version is not None and version < 0:
        raise UserError(f"--version must be 0 or a positive version number, not {version}")
    moment, known = parse_moments(at, axis, known_at)
    if output is not None:  # refuse a bad target before the work, not after it
        check_output_path(output, force=force, protect=[source])
    edits = edits_from_options(
        wi_skip, wi_insert_after, wi_event_type, wi_replace, wi_data, prefix="what-if-"
    )
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        report = build_report(
            engine,
            stream_id,
            at=moment,
            version=version,
            axis=axis,  # type: ignore[arg-type]
            known_at=known,
            what_if=None if edits.is_empty else edits,
        )
        location = src.describe().location
    text = render_markdown(report) if fmt == "md" else render_html(report)
    payload = text.encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    else:
        written = write_bytes_atomically(output, payload, force=force, protect=[source])
        click.echo(f"report written to {safe_text(written)}", err=True)
    shown = sorted(row.position for row in report.events)
    positions = [shown[0], shown[-1]] if shown else []
    _record(not no_access_log, f"report-{fmt}", location, stream_id, positions)


def _split_streams(values: tuple[str, ...], singles: tuple[str, ...]) -> list[str]:
    out = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return out + list(singles)


@click.command("bundle")
@source_argument
@click.option(
    "--streams",
    "streams",
    multiple=True,
    metavar="IDS",
    help="Comma-separated stream ids (repeatable).",
)
@click.option(
    "--stream", "single_streams", multiple=True, metavar="ID", help="One stream id (repeatable)."
)
@click.option("--correlation", "correlation_id", default=None, metavar="ID")
@click.option(
    "--at",
    "at",
    metavar="TIME",
    default=None,
    help="Events recorded up to T; states at T (with --axis occurred: states as of "
    "business time T, as known at --known-at).",
)
@click.option(
    "--axis",
    type=click.Choice(["recorded", "occurred"]),
    default="recorded",
    show_default=True,
    help="Which time --at is: recorded, or occurred (business time).",
)
@click.option(
    "--known-at",
    "known_at",
    metavar="R",
    default=None,
    help="With --axis occurred: events recorded up to R (default: everything).",
)
@click.option(
    "--links",
    type=click.Choice(["full", "hashes"]),
    default="full",
    show_default=True,
    help="Events between the selected ones: whole envelopes (chain provable offline) or "
    "hashes only (their payloads stay private).",
)
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@domain_option
@source_format_option
@access_log_option
@json_option
def bundle_command(
    source: str,
    streams: tuple[str, ...],
    single_streams: tuple[str, ...],
    correlation_id: str | None,
    at: str | None,
    axis: str,
    known_at: str | None,
    links: str,
    output: Path,
    force: bool,
    domain_module: str | None,
    source_format: str | None,
    no_access_log: bool,
    as_json: bool,
) -> None:
    """Write an evidence bundle (zip): the selected events with their chain links to the
    head digest, states at T, a manifest, a README and a stdlib-only verify_bundle.py."""
    from eventscope.domain.evidence.bundle import build_bundle

    selected = _split_streams(streams, single_streams)
    if selected and correlation_id is not None:
        raise UserError("choose --streams or --correlation, not both")
    if not selected and correlation_id is None:
        raise UserError("choose what to bundle: --streams IDS or --correlation ID")
    moment, known = parse_moments(at, axis, known_at)
    check_output_path(output, force=force, protect=[source])
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        with atomic_output(output, force=force, protect=[source]) as out:
            summary = build_bundle(
                engine,
                out,
                streams=selected or None,
                correlation_id=correlation_id,
                at=moment,
                axis=axis,  # type: ignore[arg-type]
                known_at=known,
                links=links,  # type: ignore[arg-type]
            )
        location = src.describe().location
    what = f"correlation {correlation_id}" if correlation_id is not None else ",".join(selected)
    _record(not no_access_log, "bundle", location, what, summary.selected_positions)
    if as_json:
        print_json({"path": str(output), **summary.to_json()})
        return
    click.echo(f"bundle written to {safe_text(output)}")
    click.echo(f"{summary.selected_events} events from {summary.streams} stream(s)")
    click.echo(f"head digest:     {summary.head}")
    click.echo(f"manifest sha256: {summary.manifest_sha256}")
    click.echo("Keep both lines in the case file; check with:")
    click.echo(
        f"  eventscope verify-bundle {safe_text(output)} --head {summary.head} "
        f"--manifest-sha256 {summary.manifest_sha256}"
    )
    click.echo(
        "or, without eventscope, python3 -I verify_bundle.py after checking that its "
        f"SHA-256 is {verifier_sha256()}"
    )


@click.command("verify-bundle")
@click.argument("bundle", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option("--head", default=None, metavar="POSITION:HASH", help="The head digest kept outside.")
@click.option(
    "--manifest-sha256",
    "manifest_sha256",
    default=None,
    metavar="HEX",
    help="The manifest SHA-256 kept in the case file (printed by `eventscope bundle`).",
)
def verify_bundle_command(bundle: Path, head: str | None, manifest_sha256: str | None) -> None:
    """Check an evidence bundle (a .zip or its unzipped folder) with the verifier installed
    with eventscope -- never the copy inside the bundle, which whoever made the bundle
    could have replaced. Exit status 0 intact, 1 altered, 2 unreadable."""
    from eventscope.domain.evidence import verify_bundle

    args = [str(bundle)]
    if head is not None:
        args += ["--head", head]
    if manifest_sha256 is not None:
        args += ["--manifest-sha256", manifest_sha256]
    click.echo(f"verifier: eventscope's installed copy, SHA-256 {verifier_sha256()}")
    status = verify_bundle.main(args)
    if status:
        click.get_current_context().exit(status)


@click.group("access-log")
def access_log_group() -> None:
    """The hash-chained log of who exported which streams (see `report`, `bundle`)."""


def _log_path_option(func: Any) -> Any:
    return click.option(
        "--log",
        "log_path",
        type=click.Path(path_type=Path),
        default=None,
        help="The log file (default: EVENTSCOPE_ACCESS_LOG or the user data folder).",
    )(func)


@access_log_group.command("verify")
@click.option("--against", default=None, metavar="SEQ:HASH", help="A digest kept outside.")
@_log_path_option
@json_option
def access_log_verify(against: str | None, log_path: Path | None, as_json: bool) -> None:
    """Walk the access log's hash chain; exit status 1 when an entry was altered."""
    from eventscope.domain.evidence.access_log import verify_access_log

    result = verify_access_log(log_path, against)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        click.echo(f"ok: {result.checked} entries checked; head {result.head}")
    else:
        click.echo(f"BROKEN at entry {result.first_bad_seq}: {safe_text(result.reason)}")
    if not result.ok:
        click.get_current_context().exit(1)


@access_log_group.command("show")
@_log_path_option
@json_option
def access_log_show(log_path: Path | None, as_json: bool) -> None:
    """Print the access log's entries (unchecked: use `verify`)."""
    from eventscope.domain.evidence.access_log import read_entries

    entries = list(read_entries(log_path))
    if as_json:
        print_json(entries)
        return
    for entry in entries:
        positions = entry.get("positions") or []
        span = f" positions {positions[0]}..{positions[-1]}" if positions else ""
        click.echo(
            safe_text(
                f"{entry.get('seq')}  {entry.get('at')}  {entry.get('actor')}  "
                f"{entry.get('action')}  {entry.get('source')}  {entry.get('stream') or ''}{span}"
            )
        )


@access_log_group.command("digest")
@_log_path_option
def access_log_digest(log_path: Path | None) -> None:
    """Print SEQ:HASH of the last entry, to keep outside (verify --against it later)."""
    from eventscope.domain.evidence.access_log import verify_access_log

    result = verify_access_log(log_path)
    if not result.ok:
        raise UserError(f"the access log is broken at entry {result.first_bad_seq}")
    click.echo(result.head)


def verifier_sha256() -> str:
    from eventscope.domain.evidence.bundle import verifier_sha256 as digest

    return digest()


COMMANDS: list[click.Command] = [
    report_command,
    bundle_command,
    verify_bundle_command,
    access_log_group,
]
