"""The audit report as Markdown (GitHub-flavoured tables), safe to print or to render.

Every data string goes through `domain.evidence.text` (control characters visible,
Markdown specials and HTML escaped); the state is a fenced JSON block whose fence no
payload can close.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventscope.domain.evidence.bundle import verifier_sha256
from eventscope.domain.evidence.report import AuditReport, ClaimCheck
from eventscope.domain.evidence.report_rows import (
    BLAME_HEADERS,
    EVENT_HEADERS,
    blame_rows,
    event_rows,
)
from eventscope.domain.evidence.text import json_text, md, md_code_block, path_text, time_text
from eventscope.domain.wording import plural
from eventscope.store.records import VerifyReport


def render_markdown(report: AuditReport) -> str:
    """The whole report as one Markdown document."""
    parts = [
        f"# {md(report.title)}",
        _summary(report),
        "## Hash chain",  # the verdict first: everything below rests on it
        _chain(report),
        "## State",
        md_code_block(json_text(report.state, indent=True), "json"),
        "## Field blame",
        _blame(report),
        f"## {report.events_heading}",
        _events(report),
        "## Schema upcasts applied",
        _upcasts(report),
        "## Events skipped by the derivation",
        _skipped(report),
        "## Snapshot and projection consistency",
        _claims(report.claims),
    ]
    if report.hypothetical is not None:
        parts += ["## Hypothetical (what-if) -- NOT EVIDENCE", _hypothetical(report)]
    return "\n\n".join(parts) + "\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table; cells must already be escaped with `md`."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _version_rows(report: AuditReport) -> list[tuple[str, str]]:
    """On the business-time axis: the versions applied, in order; else the version."""
    if report.applied_versions is not None:
        applied = ", ".join(str(v) for v in report.applied_versions) or "none"
        return [
            ("Events applied (business-time order)", md(applied)),
            ("Latest version applied", f"{report.version} of {report.latest_version}"),
        ]
    return [
        ("Version shown", f"{report.version} of {report.latest_version}"),
        (f"Time of version ({report.axis})", md(time_text(report.moment))),
    ]


def _summary(report: AuditReport) -> str:
    asked = report.asked(time_text)
    rows = [
        ("Stream", md(report.stream_id)),
        ("Stream type", md(report.stream_type)),
        ("Requested", md(asked)),
        *_version_rows(report),
        ("State derived by", md(report.derivation)),
        ("Source", md(f"{report.source.kind}: {report.source.location}")),
        ("Generated", md(f"{time_text(report.generated_at)} by eventscope {report.tool_version}")),
    ]
    return table(("", ""), rows)


def _blame(report: AuditReport) -> str:
    if not report.blame:
        return "_The state has no fields._"
    return table(BLAME_HEADERS, blame_rows(report, md))


def _events(report: AuditReport) -> str:
    if not report.events:
        return "_No events up to this moment._"
    return table(EVENT_HEADERS, event_rows(report, md))


def _upcasts(report: AuditReport) -> str:
    upcasts = report.upcasts
    if not upcasts:
        return "_None: every event was applied in the schema it was stored in._"
    rows = [
        (
            str(row.version),
            str(row.position),
            md(row.event_type),
            f"{row.schema_version} → {row.upcast_schema_version}",
            md(" → ".join(row.upcast_chain)),
        )
        for row in upcasts
    ]
    return table(("Version", "Position", "Event", "Schema", "Steps"), rows)


def _skipped(report: AuditReport) -> str:
    if not report.skipped:
        return "_None: the state includes every event up to this version._"
    rows = [
        (str(s.version), str(s.position), md(s.event_type), md(s.reason)) for s in report.skipped
    ]
    return table(("Version", "Position", "Event", "Why it was skipped"), rows)


def _claims(claims: Sequence[ClaimCheck]) -> str:
    if not claims:
        return "_No stored snapshot or projection row for this stream up to this moment._"
    rows = []
    for claim in claims:
        detail = "; ".join(
            f"{md(path_text(d.path))} {d.op}: {md(json_text(d.before))} → {md(json_text(d.after))}"
            for d in claim.differences
        )
        rows.append((md(claim.label), claim.status.upper(), detail or md(claim.note)))
    return table(("Stored claim", "Result", "Differences (claim → events)"), rows)


def _chain(report: AuditReport) -> str:
    chain = report.chain
    if chain is None:
        return "_Not verified for this report._"
    result = chain.report
    if result is None:
        return "_Not verified for this report._"
    if not chain.has_chain:
        found = "no problems found" if result.ok else f"PROBLEMS FOUND: {md(result.reason or '')}"
        return (
            f"**NOT PROVEN**: the source ({md(report.source.kind)}) keeps no hash chain, so "
            f"its integrity cannot be proven. Checked instead, over {result.checked} events: "
            f"{md(', '.join(result.checks))}; {found}."
        )
    if not result.ok:
        return _broken(result)
    head = f"`{chain.head}`" if chain.head else "-"
    return (
        f"**OK**: {result.checked} events verified.\n\nHead digest: {head}\n\n"
        "Keep this digest outside the system (the case file); "
        "`eventscope verify SOURCE --against DIGEST` proves later that the history up to it "
        "is unchanged and was not cut short.\n\n"
        f"Evidence bundles carry a standalone verifier whose SHA-256 is `{verifier_sha256()}`; "
        "check a bundle's `verify_bundle.py` against it, or run `eventscope verify-bundle`."
    )


def _broken(result: VerifyReport) -> str:
    """A broken chain: every bad position and catalog disagreement, and no digest to keep
    (a digest of a broken chain would vouch for altered events)."""
    first = result.bad_positions[0].reason if result.bad_positions else result.reason or ""
    where = f" at position {result.first_bad_position}" if result.first_bad_position else ""
    parts = [
        f"**BROKEN**{where}: {result.bad_count} bad position(s); the first: {md(first)}. "
        "No digest is given for a broken chain; rows of altered events below are marked."
    ]
    if result.bad_positions:
        rows = [(str(b.position), md(b.kind), md(b.reason)) for b in result.bad_positions]
        parts.append(table(("Position", "Problem", "Detail"), rows))
    if result.catalog_problems:
        parts.append("The stream catalog disagrees with the events:")
        parts.append("\n".join(f"- {md(problem)}" for problem in result.catalog_problems))
    return "\n\n".join(parts)


def _hypothetical(report: AuditReport) -> str:
    section = report.hypothetical
    assert section is not None
    lines = [
        "> **Hypothetical.** Everything in this section is a replay of a *changed* history, "
        "computed in memory; it is not what the events record and proves nothing about "
        "them. The sections above are the evidence.",
        "",
        f"Changes: {md(', '.join(section.edits))}. History up to version "
        f"{section.actual_version}: {plural(section.actual_version, 'recorded event')}, "
        f"{section.what_if_version} in the changed history.",
    ]
    if section.rejected:
        lines += ["", "The domain would have refused:", ""]
        lines += [f"* {md(text)}" for text in section.rejected]
    rows = [
        (md(path_text(d.path)), d.op, md(json_text(d.before)), md(json_text(d.after)))
        for d in section.differences
    ]
    lines += ["", "Differences (actual -> what-if):", ""]
    lines.append(table(("Field", "Change", "Actual", "What-if"), rows) if rows else "_None._")
    lines += [
        "",
        "What-if state:",
        "",
        md_code_block(json_text(section.state, indent=True), "json"),
    ]
    return "\n".join(lines)
