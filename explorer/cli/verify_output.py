"""How `verify` and `digest` speak: a progress bar on long walks, the whole extent of
damage as a table, and plain words for sources that have no chain to prove.

Why a module of its own: the same text is the evidence an auditor reads, so its
wording lives in one place (README, "What `verify` proves") instead of inside the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from eventscope.explorer.cli.common import safe_text
from eventscope.explorer.safe_text import shorten
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import VerifyReport

# Rows of the text table; --json lists every named position (up to 1,000).
TEXT_ROWS = 50


@contextmanager
def verify_progress(label: str = "verifying the hash chain") -> Iterator[ProgressCallback | None]:
    """A transient progress bar on stderr while the walk runs, only on a terminal (so
    pipes and --json stay clean); yields the callback to pass as `progress`."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.fields[figures]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("verify", total=None, figures="")

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, figures=f"{done:,}/{total:,} events")

        yield report


def verify_text(report: VerifyReport) -> str:
    """The text `verify` prints: a verdict line, then every bad position (a table of
    the first `TEXT_ROWS`), then catalog disagreements; for a source without a chain,
    what was checked instead. Never "ok" when nothing was proven."""
    from eventscope.explorer.cli.store_commands import render_table

    lines: list[str] = []
    if not report.chain:
        verdict = "no problems found" if report.ok else "PROBLEMS FOUND"
        lines.append(
            f"NOT PROVEN: this source keeps no hash chain, so its integrity cannot be "
            f"proven; {report.checked:,} events read, {verdict}."
        )
        if report.checks:
            lines.append("Checked instead: " + "; ".join(report.checks) + ".")
        if report.malformed and report.reason:
            lines.append(safe_text(report.reason))
    elif report.ok:
        head = f"; head {report.head}" if report.head else ""
        lines.append(f"ok: {report.checked:,} events checked{head}")
        return "\n".join(lines)
    elif report.first_bad_position is not None:
        first = report.bad_positions[0] if report.bad_positions else None
        first_reason = first.reason if first else report.reason or "the chain does not verify"
        lines.append(
            f"BROKEN at position {report.first_bad_position}: {report.bad_count:,} bad "
            f"position(s) in {report.checked:,} events walked to the end; the first: "
            f"{safe_text(first_reason)}"
        )
    else:
        lines.append(f"BROKEN: {safe_text(report.reason or 'the store does not verify')}")
    if report.bad_positions:
        rows = [
            (f"{bad.position:,}", bad.kind, shorten(safe_text(bad.reason), 90))
            for bad in report.bad_positions[:TEXT_ROWS]
        ]
        lines.append(render_table(("POSITION", "PROBLEM", "DETAIL"), rows))
        hidden = report.bad_count - min(len(report.bad_positions), TEXT_ROWS)
        if hidden > 0:
            lines.append(f"... and {hidden:,} more (--json lists the first 1,000)")
    if report.catalog_problems:
        lines.append(
            f"The stream catalog disagrees with the events in {len(report.catalog_problems):,} "
            "stream(s):"
        )
        lines += [f"  {safe_text(problem)}" for problem in report.catalog_problems[:TEXT_ROWS]]
    return "\n".join(lines)
