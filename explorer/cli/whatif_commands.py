"""`what-if`: the state of a stream had its history been different -- never the evidence.

    eventscope what-if SOURCE STREAM [--skip V]... [--insert-after V --event-type T --data JSON]...
                       [--replace V --data JSON]... [--version N] [--domain MOD] [--json]

prints ``{"stream_id", "actual", "what_if", "diff"}``: the actual state at version N (or
the latest), the state of the changed history up to the same point, and their diff in
`eventscope diff`'s shape (actual on the left). The source is opened read-only and the
replay runs in memory (`domain.whatif`); an aggregate that refuses the changed history
names the event it refused and why, on stderr and in ``what_if.rejected``.

`--data` pairs with the insertions first, then the replacements, in the order given. The
same options with a ``--what-if-`` prefix add a hypothetical section to `report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
import orjson
from eventscope.explorer.cli.common import (
    UserError,
    format_option,
    json_option,
    opened,
    print_json,
    safe_text,
    source_argument,
)
from eventscope.explorer.cli.domain_commands import domain_option, path_text, value_text
from eventscope.explorer.wording import plural

F = TypeVar("F", bound=Callable[..., Any])


def what_if_options(prefix: str = "") -> Callable[[F], F]:
    """The five edit options, named ``--skip`` ... or ``--what-if-skip`` ... (`prefix`)."""

    def decorate(func: F) -> F:
        options = [
            click.option(
                f"--{prefix}skip",
                "wi_skip",
                type=int,
                multiple=True,
                metavar="V",
                help="Leave event V out (repeatable).",
            ),
            click.option(
                f"--{prefix}insert-after",
                "wi_insert_after",
                type=int,
                multiple=True,
                metavar="V",
                help="Insert an event after version V (0: before the first); repeatable.",
            ),
            click.option(
                f"--{prefix}event-type",
                "wi_event_type",
                multiple=True,
                metavar="T",
                help=f"Event type of each --{prefix}insert-after, in order.",
            ),
            click.option(
                f"--{prefix}replace",
                "wi_replace",
                type=int,
                multiple=True,
                metavar="V",
                help="Give event V other data (repeatable).",
            ),
            click.option(
                f"--{prefix}data",
                "wi_data",
                multiple=True,
                metavar="JSON",
                help=(
                    f"A JSON object: one per --{prefix}insert-after, then one per "
                    f"--{prefix}replace, in order."
                ),
            ),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def edits_from_options(
    skip: Sequence[int],
    insert_after: Sequence[int],
    event_type: Sequence[str],
    replace: Sequence[int],
    data: Sequence[str],
    prefix: str = "",
) -> Any:
    """`WhatIfEdits` from the options, or a UserError naming the option to fix."""
    from eventscope.domain.whatif import Insertion, WhatIfEdits

    if len(event_type) != len(insert_after):
        raise UserError(
            f"give one --{prefix}event-type per --{prefix}insert-after "
            f"({plural(len(insert_after), 'insertion')}, {plural(len(event_type), 'event type')})"
        )
    wanted = len(insert_after) + len(replace)
    if len(data) != wanted:
        raise UserError(
            f"give one --{prefix}data per --{prefix}insert-after and per --{prefix}replace "
            f"(insertions first, then replacements): {wanted} needed, {len(data)} given"
        )
    if len(set(replace)) != len(replace):
        raise UserError(f"--{prefix}replace names the same version twice")
    payloads = [_payload(text, prefix) for text in data]
    inserts = tuple(
        Insertion(after, kind, payload)
        for after, kind, payload in zip(insert_after, event_type, payloads, strict=False)
    )
    replacements = dict(zip(replace, payloads[len(insert_after) :], strict=True))
    return WhatIfEdits(skips=frozenset(skip), inserts=inserts, replacements=replacements)


def _payload(text: str, prefix: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"--{prefix}data {_short(text)} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise UserError(f"--{prefix}data must be a JSON object, not {_short(text)}")
    return value


def _short(text: str) -> str:
    return safe_text(text if len(text) <= 60 else text[:57] + "...")


def warn_rejected(rejected: Sequence[Any]) -> None:
    """One stderr line per event the aggregate refuses in the changed history."""
    for rejection in rejected:
        click.echo(f"eventscope: what-if: {safe_text(rejection.label())}", err=True)


@click.command("what-if")
@source_argument
@click.argument("stream_id", metavar="STREAM")
@what_if_options()
@click.option(
    "--version",
    "version",
    type=int,
    default=None,
    help="Compare the history up to version N (default: all of it).",
)
@domain_option
@format_option
@json_option
def what_if_command(
    source: str,
    stream_id: str,
    wi_skip: tuple[int, ...],
    wi_insert_after: tuple[int, ...],
    wi_event_type: tuple[str, ...],
    wi_replace: tuple[int, ...],
    wi_data: tuple[str, ...],
    version: int | None,
    domain_module: str | None,
    source_format: str | None,
    as_json: bool,
) -> None:
    """What STREAM's state would be had its history been different: skip events, insert
    one, or replace one's data. Replayed in memory; the source is only read."""
    from eventscope.domain.whatif import WhatIf
    from eventscope.explorer.engine_factory import build_engine

    edits = edits_from_options(wi_skip, wi_insert_after, wi_event_type, wi_replace, wi_data)
    if version is not None and version < 0:
        raise UserError(f"--version must be 0 or a positive version number, not {version}")
    with opened(source, source_format) as src:
        engine = build_engine(src, domain_module)
        result = WhatIf(engine, stream_id, edits).result(version)
    warn_rejected(result.rejected)
    if as_json:
        print_json(result.to_json())
        return
    changes = ", ".join(edits.describe()) or "no change"
    click.echo(
        f"WHAT-IF (hypothetical, not evidence): {safe_text(stream_id)} up to version "
        f"{result.actual.version} with {safe_text(changes)}"
    )
    click.echo(
        f"actual: {plural(result.actual.version, 'event')}; "
        f"what-if: {plural(result.applied_version, 'event')}"
    )
    click.echo(f"{plural(len(result.differences), 'difference')} (actual -> what-if)")
    for entry in result.differences:
        where = path_text(entry.path)
        if entry.op == "added":
            click.echo(f"+ {where}: {value_text(entry.after)}")
        elif entry.op == "removed":
            click.echo(f"- {where}: {value_text(entry.before)}")
        else:
            click.echo(f"~ {where}: {value_text(entry.before)} -> {value_text(entry.after)}")


COMMANDS: list[click.Command] = [what_if_command]
