"""`state`, `diff` and `blame`: the temporal engine from the command line.

    eventscope state SOURCE STREAM [--version N | --at TIME [--axis recorded|occurred]
                                   [--known-at R]] [--json]
    eventscope diff SOURCE STREAM --from-version A --to-version B [--json]
    eventscope diff SOURCE STREAM --snapshot V            # stored snapshot vs replay at V
    eventscope diff SOURCE STREAM --projection NAME [--key K]   # stored row vs replay
    eventscope diff SOURCE STREAM --at O --axis occurred [--known-at R]   # known at R
                                                          #   vs known now, about O
    eventscope blame SOURCE STREAM [--version N | --at TIME [--axis ...] [--known-at R]]

`--domain package.module` replays with a user's own aggregates and projections (see
`domain.plugin`); without it, streams use the generic fold. Every command opens the
source read-only. With `--json` the shapes are DESIGN.md's: `{stream_id, version, state}`,
a list of `{path, op, before, after}`, a list of `{path, value, position, version,
event_type, actor, recorded_at}`. A state computed with events skipped (undecodable or
unappliable) says so on stderr, one line per event, so the JSON stays exactly that shape.

`--at O --axis occurred` is business time (`Timeline.state_as_of`): the events that had
occurred by O and were recorded by `--known-at R` (default: everything recorded),
applied in occurred order. Its JSON adds `axis`, `as_of`, `known_at` and
`applied_versions` (in the order applied); `diff` and `blame` on that axis print an
object carrying them around their usual list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson
from eventscope.explorer.cli.common import (
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
            "Python module exposing DOMAIN = DomainPlugin(...) (your own domain code; it "
            "is imported and run with your rights, so name only modules you trust). "
            "Default: the demo domains on a store the demo built, else the generic fold; "
            "'generic' forces the generic fold."
        ),
    )(func)


def _engine(source: Any, domain_module: str | None) -> Any:
    from eventscope.explorer.engine_factory import build_engine

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


def at_options(func: F) -> F:
    """`--at TIME`, `--axis recorded|occurred` and `--known-at R` (business time)."""
    func = click.option(
        "--known-at",
        "known_at",
        metavar="R",
        default=None,
        help="With --axis occurred: only what had been recorded by R (default: everything).",
    )(func)
    func = click.option(
        "--axis",
        type=click.Choice(["recorded", "occurred"]),
        default="recorded",
        show_default=True,
        help="Which time --at is: recorded (what had been recorded by then) or occurred "
        "(business time: what had happened by then, in occurred order).",
    )(func)
    return click.option("--at", "at", metavar="TIME", default=None, help="As of an ISO 8601 time.")(
        func
    )


def parse_moments(at: str | None, axis: str, known_at: str | None) -> tuple[Any, Any]:
    """The `--at` and `--known-at` moments, with one sentence for a meaningless mix."""
    if known_at is not None and (at is None or axis != "occurred"):
        raise UserError(
            "--known-at is the recorded time of a business-time question: "
            "give --at TIME --axis occurred with it"
        )
    moment = parse_time_option(at) if at is not None else None
    known = parse_time_option(known_at) if known_at is not None else None
    return moment, known


def business_words(result: Any, timeline: Any) -> str:
    """ "as of business time O, as known at R" for a business-time StateAt."""
    from eventscope.domain.business_time import business_time_words
    from eventscope.store.records import format_timestamp

    return business_time_words(
        result.as_of, result.known_at, timeline.latest_recorded_at, format_timestamp
    )


def applied_text(versions: Any) -> str:
    shown = ", ".join(f"v{v}" for v in list(versions)[:30])
    return shown + (", ..." if len(versions) > 30 else "") if versions else "none"


def _check_version(name: str, value: int | None) -> None:
    if value is not None and value < 0:
        raise UserError(f"{name} must be 0 or a positive version number, not {value}")


@click.command("state")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@click.option("--version", "version", type=int, default=None, help="State after N events.")
@at_options
@domain_option
@format_option
@json_option
def state_command(
    source: str,
    stream_id: str,
    version: int | None,
    at: str | None,
    axis: str,
    known_at: str | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """Print the state of STREAM at a version, at a time, or at its latest version.

    With --axis occurred, --at is business time: the events that had occurred by then
    (and were recorded by --known-at), applied in the order they occurred."""
    if version is not None and at is not None:
        raise UserError("give --version or --at, not both")
    _check_version("--version", version)
    moment, known = parse_moments(at, axis, known_at)
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        result = engine.state(stream_id, version=version, at=moment, axis=axis, known_at=known)
        timeline = engine.timeline(stream_id)
        length = timeline.length
        words = business_words(result, timeline) if result.business_time else ""
    _warn_skipped(result)
    if as_json:
        out = result.to_json()
        if not result.business_time:
            out.pop("skipped", None)  # the documented shape; skips are on stderr
        print_json(out)
        return
    if result.business_time:
        applied = result.applied_versions or ()
        click.echo(
            f"{safe_text(stream_id)} {words}: {len(applied)} of {length} events applied in "
            f"business-time order ({applied_text(applied)}) ({result.derivation} fold)"
        )
    else:
        click.echo(
            f"{safe_text(stream_id)} at version {result.version} of {length} "
            f"({result.derivation} fold)"
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
@click.option(
    "--at",
    "at",
    metavar="O",
    default=None,
    help="With --axis occurred: business time O, as known at --known-at (left) against "
    "as known now (right).",
)
@click.option(
    "--axis",
    type=click.Choice(["occurred"]),
    default=None,
    help="occurred: compare two states of knowledge about business time --at.",
)
@click.option(
    "--known-at",
    "known_at",
    metavar="R",
    default=None,
    help="The left side's recorded time (default: --at itself: what was known then).",
)
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
    at: str | None,
    axis: str | None,
    known_at: str | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """Diff two versions of STREAM, a stored snapshot against the replay, a stored
    projection row against the replay, or (--at O --axis occurred) what was known at R
    about business time O against what is known now. Left is the older version / the
    stored claim / the earlier knowledge."""
    modes = [
        from_version is not None or to_version is not None,
        snapshot is not None,
        projection is not None,
        at is not None or axis is not None or known_at is not None,
    ]
    if sum(modes) != 1:
        raise UserError(
            "choose one comparison: --from-version A --to-version B, --snapshot V, "
            "--projection NAME, or --at O --axis occurred [--known-at R]"
        )
    if key is not None and projection is None:
        raise UserError("--key is used with --projection")
    if modes[3]:
        if at is None or axis != "occurred":
            raise UserError(
                "a diff in time compares knowledge about a business time: "
                "give --at O --axis occurred [--known-at R] (versions: --from-version/--to-version)"
            )
        moment, known = parse_moments(at, axis, known_at)
        _diff_business_time(source, source_format, domain_module, stream_id, moment, known, as_json)
        return
    for name, value in (
        ("--from-version", from_version),
        ("--to-version", to_version),
        ("--snapshot", snapshot),
    ):
        _check_version(name, value)
    provenance: dict[str, Any] | None = None
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        if projection is not None:
            entries = engine.diff_projection(projection, key if key is not None else stream_id)
            title = f"projection {projection} row {key if key is not None else stream_id}"
            left, right = "stored row", "replay"
        elif snapshot is not None:
            entries = engine.diff_snapshot(stream_id, snapshot)
            provenance = snapshot_provenance(engine.snapshot(stream_id, snapshot))
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
        if provenance is not None:
            print_json({"snapshot": provenance, "differences": [e.to_json() for e in entries]})
        else:
            print_json([entry.to_json() for entry in entries])
        return
    click.echo(f"{safe_text(title)}: {len(entries)} difference(s) ({left} -> {right})")
    if provenance is not None:
        click.echo(f"snapshot written by {safe_text(snapshot_words(provenance))}")
    _print_entries(entries)


def snapshot_provenance(snapshot: Any) -> dict[str, Any]:
    """Which code wrote a stored snapshot, and when: every field but the state."""
    out: dict[str, Any] = snapshot.to_json()
    out.pop("state", None)
    return out


def snapshot_words(provenance: dict[str, Any]) -> str:
    """``Account code bank-2.1 (state schema 1) at 2026-04-27T03:07:00.000000Z``."""
    return (
        f"{provenance['aggregate_type'] or 'generic'} code {provenance['code_version']} "
        f"(state schema {provenance['schema_version']}) at {provenance['created_at']}"
    )


def _print_entries(entries: Any) -> None:
    for entry in entries:
        where = path_text(entry.path)
        if entry.op == "added":
            click.echo(f"+ {where}: {value_text(entry.after)}")
        elif entry.op == "removed":
            click.echo(f"- {where}: {value_text(entry.before)}")
        else:
            click.echo(f"~ {where}: {value_text(entry.before)} -> {value_text(entry.after)}")


def _diff_business_time(
    source: str,
    source_format: str | None,
    domain_module: str | None,
    stream_id: str,
    as_of: Any,
    known_at: Any,
    as_json: bool,
) -> None:
    """What was known at R about business time O (left) against what is known now
    (right): the events recorded after R that changed the answer about O."""
    from eventscope.domain.diff import diff
    from eventscope.store.records import format_timestamp

    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        known = as_of if known_at is None else known_at
        left = engine.state(stream_id, at=as_of, axis="occurred", known_at=known)
        right = engine.state(stream_id, at=as_of, axis="occurred")
        timeline = engine.timeline(stream_id)
        latest = timeline.latest_recorded_at
    entries = diff(left.state, right.state)
    for side in (left, right):
        _warn_skipped(side)
    if as_json:
        print_json(
            {
                "stream_id": stream_id,
                "axis": "occurred",
                "as_of": format_timestamp(as_of),
                "left": _side_json(left),
                "right": _side_json(right),
                "differences": [entry.to_json() for entry in entries],
            }
        )
        return
    now = format_timestamp(latest) if latest is not None else "now"
    click.echo(
        f"{safe_text(stream_id)} as of business time {format_timestamp(as_of)}: "
        f"{len(entries)} difference(s) (as known at {format_timestamp(known)} -> "
        f"as known at {now}, everything recorded)"
    )
    click.echo(f"left applies {applied_text(left.applied_versions)}")
    click.echo(f"right applies {applied_text(right.applied_versions)}")
    _print_entries(entries)


def _side_json(side: Any) -> dict[str, Any]:
    out = side.to_json()
    return {
        "known_at": out["known_at"],
        "version": out["version"],
        "applied_versions": out["applied_versions"],
    }


@click.command("blame")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@click.option("--version", "version", type=int, default=None, help="Blame at version N.")
@at_options
@domain_option
@format_option
@json_option
def blame_command(
    source: str,
    stream_id: str,
    version: int | None,
    at: str | None,
    axis: str,
    known_at: str | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """For each field of STREAM's state, the event that last set it (on --axis occurred:
    in the business-time order the events were applied in)."""
    if version is not None and at is not None:
        raise UserError("give --version or --at, not both")
    _check_version("--version", version)
    moment, known = parse_moments(at, axis, known_at)
    with opened(source, source_format) as src:
        engine = _engine(src, domain_module)
        timeline = engine.timeline(stream_id)
        state_at = engine.state(stream_id, version=version, at=moment, axis=axis, known_at=known)
        entries = engine.blame(stream_id, version=version, at=moment, axis=axis, known_at=known)
        words = business_words(state_at, timeline) if state_at.business_time else ""
    _warn_skipped(state_at)
    if as_json:
        if state_at.business_time:
            out = state_at.to_json()
            out.pop("state")
            out["blame"] = [entry.to_json() for entry in entries]
            print_json(out)
        else:
            print_json([entry.to_json() for entry in entries])
        return
    if state_at.business_time:
        click.echo(
            f"{safe_text(stream_id)} {words}: {len(entries)} field(s); applied in "
            f"business-time order: {applied_text(state_at.applied_versions)}"
        )
    else:
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
