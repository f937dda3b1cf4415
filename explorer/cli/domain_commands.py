"""`state`, `diff` and `blame`: the temporal engine from the command line.

    eventscope state SOURCE STREAM [--version N | --at TIME [--axis recorded|occurred]] [--json]
    eventscope diff SOURCE STREAM --from-version A --to-version B [--json]
    eventscope diff SOURCE STREAM --snapshot V            # stored snapshot vs replay at V
    eventscope diff SOURCE STREAM --projection NAME [--key K]   # stored row vs replay
    eventscope blame SOURCE STREAM [--version N] [--json]

`--domain package.module` replays with a user's own aggregates and projections (see
`domain.plugin`); without it, streams use the generic fold. Every command opens the
source read-only. With `--json` the shapes are DESIGN.md's: `{stream_id, version, state}`,
a list of `{path, op, before, after}`, a list of `{path, value, position, version,
event_type, actor, recorded_at}`. A state computed with events skipped (undecodable or
unappliable) says so on stderr, one line per event, so the JSON stays exactly that shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from explorer.cli.common import (
    UserError,
    format_option,
    json_option,
    opened,
    parse_time_option,
    print_json,
    safe_text,
    source_argument,
)

F = TypeVar("F", bound=Callable[..., Any])


def domain_option(func: F) -> F:
    """`--domain MODULE`: load a user's aggregates, projections and upcasters."""
    return click.option(
        "--domain",
        "domain_module",
        metavar="MODULE",
        default=None,
        help=(
            "Python module exposing DOMAIN = DomainPlugin(...) (your own domain code). "
            "Default: the demo domains on a demo store, else the generic fold; "
            "'generic' forces the generic fold."
        ),
    )(func)


def _engine(source: Any, domain_module: str | None) -> Any:
    from explorer.engine_factory import build_engine

    return build_engine(source, domain_module)


def path_text(path: Any) -> str:
    """``("lines", 0, "sku")`` -> ``lines[0].sku`` (root: ``(root)``)."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return safe_text(out or "(root)")


def value_text(value: Any) -> str:
    """A JSON value on one line, safe for the terminal."""
    return safe_text(orjson.dumps(value, default=str).decode())


def _warn_skipped(state_at: Any) -> None:
    for skipped in state_at.skipped:
        click.echo(
            f"eventscope: warning: state computed with event {skipped.version} "
            f"({safe_text(skipped.event_type)}, position {skipped.position}) skipped: "
            f"{safe_text(skipped.reason)}",
            err=True,
        )


def _check_version(name: str, value: int | None) -> None:
    if value is not None and value < 0:
        raise UserError(f"{name} must be 0 or a positive version number, not {value}")


@click.command("state")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@click.option("--version", "version", type=int, default=None, help="State after N events.")
@click.option("--at", "at", metavar="TIME", default=None, help="State as of an ISO 8601 time.")
@click.option(
    "--axis",
    type=click.Choice(["recorded", "occurred"]),
    default="recorded",
    show_default=True,
    help="Which time --at refers to: when events were recorded, or when they occurred.",
)
@domain_option
@format_option
@json_option
def state_command(
    source: str,
    stream_id: str,
    version: int | None,
    at: str | None,
    axis: str,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """Print the state of STREAM at a version, at a time, or at its latest version."""
    if version is not None and at is not None:
        raise UserError("give --version or --at, not both")
    _check_version("--version", version)
    moment = parse_time_option(at) if at is not None else None
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        result = engine.state(stream_id, version=version, at=moment, axis=axis)
        length = engine.timeline(stream_id).length
    _warn_skipped(result)
    if as_json:
        print_json(
            {"stream_id": result.stream_id, "version": result.version, "state": result.state}
        )
        return
    click.echo(
        f"{safe_text(stream_id)} at version {result.version} of {length} ({result.derivation} fold)"
    )
    text = orjson.dumps(result.state, option=orjson.OPT_INDENT_2, default=str).decode()
    for line in text.split("\n"):  # JSON escapes newlines inside strings
        click.echo(safe_text(line))


@click.command("diff")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@click.option("--from-version", "from_version", type=int, default=None, metavar="A")
@click.option("--to-version", "to_version", type=int, default=None, metavar="B")
@click.option(
    "--snapshot", "snapshot", type=int, default=None, metavar="V", help="Snapshot at V vs replay."
)
@click.option(
    "--projection",
    "projection",
    default=None,
    metavar="NAME",
    help="Stored projection row vs replay (needs --domain).",
)
@click.option("--key", "key", default=None, help="Projection row key (default: STREAM).")
@domain_option
@format_option
@json_option
def diff_command(
    source: str,
    stream_id: str,
    from_version: int | None,
    to_version: int | None,
    snapshot: int | None,
    projection: str | None,
    key: str | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """Diff two versions of STREAM, a stored snapshot against the replay, or a stored
    projection row against the replay. Left is the older version / the stored claim."""
    modes = [
        from_version is not None or to_version is not None,
        snapshot is not None,
        projection is not None,
    ]
    if sum(modes) != 1:
        raise UserError(
            "choose one comparison: --from-version A --to-version B, --snapshot V, "
            "or --projection NAME"
        )
    if key is not None and projection is None:
        raise UserError("--key is used with --projection")
    for name, value in (
        ("--from-version", from_version),
        ("--to-version", to_version),
        ("--snapshot", snapshot),
    ):
        _check_version(name, value)
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        if projection is not None:
            entries = engine.diff_projection(projection, key if key is not None else stream_id)
            title = f"projection {projection} row {key if key is not None else stream_id}"
            left, right = "stored row", "replay"
        elif snapshot is not None:
            entries = engine.diff_snapshot(stream_id, snapshot)
            title = f"{stream_id} snapshot at version {snapshot}"
            left, right = "snapshot", "replay"
        else:
            timeline = engine.timeline(stream_id)
            a = from_version if from_version is not None else 0
            b = to_version if to_version is not None else timeline.length
            entries = engine.diff_versions(stream_id, a, b)
            title = f"{stream_id} version {a} -> {b}"
            left, right = f"v{a}", f"v{b}"
    if as_json:
        print_json([entry.to_json() for entry in entries])
        return
    click.echo(f"{safe_text(title)}: {len(entries)} difference(s) ({left} -> {right})")
    for entry in entries:
        where = path_text(entry.path)
        if entry.op == "added":
            click.echo(f"+ {where}: {value_text(entry.after)}")
        elif entry.op == "removed":
            click.echo(f"- {where}: {value_text(entry.before)}")
        else:
            click.echo(f"~ {where}: {value_text(entry.before)} -> {value_text(entry.after)}")


@click.command("blame")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@click.option("--version", "version", type=int, default=None, help="Blame at version N.")
@domain_option
@format_option
@json_option
def blame_command(
    source: str,
    stream_id: str,
    version: int | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """For each field of STREAM's state, the event that last set it."""
    _check_version("--version", version)
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        timeline = engine.timeline(stream_id)
        entries = timeline.blame_at(version)
        state_at = timeline.state_at(version)
    _warn_skipped(state_at)
    if as_json:
        print_json([entry.to_json() for entry in entries])
        return
    click.echo(f"{safe_text(stream_id)} at version {state_at.version}: {len(entries)} field(s)")
    for entry in entries:
        data = entry.to_json()
        if entry.version == 0:
            who = "initial state (no event)"
        else:
            who = (
                f"v{entry.version} @{entry.position} {safe_text(entry.event_type)} "
                f"by {safe_text(entry.actor or '?')} at {data['recorded_at']}"
            )
        click.echo(f"{path_text(entry.path)} = {value_text(entry.value)}  <- {who}")


COMMANDS: list[click.Command] = [state_command, diff_command, blame_command]
