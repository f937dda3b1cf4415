"""The audit report as one self-contained HTML page that prints well.

No scripts, no external stylesheets, fonts or images: the file is evidence and must look
the same offline in ten years. The markup is well-formed XML (every element closed, only
XML's own entities), so it parses with `xml.etree` as well as with browsers. Every data
string goes through `domain.evidence.text.h` (visible controls, then entity-escaped).
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
from eventscope.domain.evidence.text import h, h_block, json_text, path_text, time_text
from eventscope.domain.wording import plural
from eventscope.store.records import VerifyReport

_CSS = """
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #111; margin: 2em auto; max-width: 80em; padding: 0 1em; }
h1 { font-size: 1.5em; border-bottom: 2px solid #333; padding-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: .2em .4em; text-align: left;
         vertical-align: top; }
th { background: #eee; }
td.code, pre, code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace;
                     font-size: .92em; }
td.code { word-break: break-all; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6em;
      white-space: pre-wrap; word-break: break-all; }
.ok { color: #05651f; font-weight: bold; }
.bad { color: #a40000; font-weight: bold; }
.muted { color: #555; font-style: italic; }
.hypothetical { border: 3px dashed #8a2be2; background: #f7f0ff; padding: 0 1em 1em; }
.hypothetical h2 { color: #6a1b9a; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  thead { display: table-header-group; }
  tr, pre { page-break-inside: avoid; break-inside: avoid; }
  h2 { page-break-after: avoid; break-after: avoid; }
  th { background: #eee !important; -webkit-print-color-adjust: exact;
       print-color-adjust: exact; }
}
@page { size: A4 landscape; margin: 12mm; }
"""


def render_html(report: AuditReport) -> str:
    """The whole report as one HTML5 document (well-formed XML)."""
    body = [
        f"<h1>{h(report.title)}</h1>",
        _summary(report),
        "<h2>Hash chain</h2>",  # the verdict first: everything below rests on it
        _chain(report),
        "<h2>State</h2>",
        f"<pre>{h_block(json_text(report.state, indent=True))}</pre>",
        "<h2>Field blame</h2>",
        _blame(report),
        f"<h2>{h(report.events_heading)}</h2>",
        _events(report),
        "<h2>Schema upcasts applied</h2>",
        _upcasts(report),
        "<h2>Events skipped by the derivation</h2>",
        _skipped(report),
        "<h2>Snapshot and projection consistency</h2>",
        _claims(report.claims),
    ]
    if report.hypothetical is not None:
        body.append(_hypothetical(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="generator" content="eventscope"/>\n'
        f"<title>{h(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], code: Sequence[int] = ()) -> str:
    """A table; `headers` and cells must already be escaped. Columns in `code` are
    set in monospace (hashes, payloads)."""
    head = "".join(f"<th>{cell}</th>" for cell in headers)
    lines = [f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>"]
    for row in rows:
        cells = "".join(
            f'<td class="code">{cell}</td>' if index in code else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody>\n</table>")
    return "\n".join(lines)


def _muted(text: str) -> str:
    return f'<p class="muted">{h(text)}</p>'


def _version_rows(report: AuditReport) -> list[tuple[str, str]]:
    """On the business-time axis: the versions applied, in order; else the version."""
    if report.applied_versions is not None:
        applied = ", ".join(str(v) for v in report.applied_versions) or "none"
        return [
            ("Events applied (business-time order)", applied),
            ("Latest version applied", f"{report.version} of {report.latest_version}"),
        ]
    return [
        ("Version shown", f"{report.version} of {report.latest_version}"),
        (f"Time of version ({report.axis})", time_text(report.moment)),
    ]


def _summary(report: AuditReport) -> str:
    asked = report.asked(time_text)
    rows = [
        ("Stream", report.stream_id),
        ("Stream type", report.stream_type),
        ("Requested", asked),
        *_version_rows(report),
        ("State derived by", report.derivation),
        ("Source", f"{report.source.kind}: {report.source.location}"),
        ("Generated", f"{time_text(report.generated_at)} by eventscope {report.tool_version}"),
    ]
    body = "".join(f"<tr><th>{h(k)}</th><td>{h(v)}</td></tr>" for k, v in rows)
    return f"<table>\n<tbody>{body}</tbody>\n</table>"


def _blame(report: AuditReport) -> str:
    if not report.blame:
        return _muted("The state has no fields.")
    return table(BLAME_HEADERS, blame_rows(report, h), (1,))


def _events(report: AuditReport) -> str:
    if not report.events:
        return _muted("No events up to this moment.")
    return table(EVENT_HEADERS, event_rows(report, h), (8, 9))


def _upcasts(report: AuditReport) -> str:
    upcasts = report.upcasts
    if not upcasts:
        return _muted("None: every event was applied in the schema it was stored in.")
    rows = [
        (
            str(row.version),
            str(row.position),
            h(row.event_type),
            f"{row.schema_version} → {row.upcast_schema_version}",
            h(" → ".join(row.upcast_chain)),
        )
        for row in upcasts
    ]
    return table(("Version", "Position", "Event", "Schema", "Steps"), rows)


def _skipped(report: AuditReport) -> str:
    if not report.skipped:
        return _muted("None: the state includes every event up to this version.")
    rows = [(str(s.version), str(s.position), h(s.event_type), h(s.reason)) for s in report.skipped]
    return table(("Version", "Position", "Event", "Why it was skipped"), rows)


def _claims(claims: Sequence[ClaimCheck]) -> str:
    if not claims:
        return _muted("No stored snapshot or projection row for this stream up to this moment.")
    rows = []
    for claim in claims:
        css = {"matches": "ok", "differs": "bad"}.get(claim.status, "muted")
        detail = "<br/>".join(
            f"{h(path_text(d.path))} {d.op}: {h(json_text(d.before))} → {h(json_text(d.after))}"
            for d in claim.differences
        )
        rows.append(
            (
                h(claim.label),
                f'<span class="{css}">{claim.status.upper()}</span>',
                detail or h(claim.note),
            )
        )
    return table(("Stored claim", "Result", "Differences (claim → events)"), rows, (2,))


def _chain(report: AuditReport) -> str:
    chain = report.chain
    if chain is None:
        return _muted("Not verified for this report.")
    result = chain.report
    if result is None:
        return _muted("Not verified for this report.")
    if not chain.has_chain:
        found = "no problems found" if result.ok else f"PROBLEMS FOUND: {h(result.reason or '')}"
        return (
            f'<p><span class="bad">NOT PROVEN</span>: the source ({h(report.source.kind)}) '
            f"keeps no hash chain, so its integrity cannot be proven. Checked instead, over "
            f"{result.checked} events: {h(', '.join(result.checks))}; {found}.</p>"
        )
    if not result.ok:
        return _broken(result)
    verdict = f'<p><span class="ok">OK</span>: {result.checked} events verified.</p>'
    head = h(str(chain.head)) if chain.head else "-"
    return (
        f"{verdict}\n<p>Head digest: <code>{head}</code></p>\n"
        "<p>Keep this digest outside the system (the case file); "
        "<code>eventscope verify SOURCE --against DIGEST</code> proves later that the history "
        "up to it is unchanged and was not cut short.</p>\n"
        "<p>Evidence bundles carry a standalone verifier whose SHA-256 is "
        f"<code>{verifier_sha256()}</code>; check a bundle's <code>verify_bundle.py</code> "
        "against it, or run <code>eventscope verify-bundle</code>.</p>"
    )


def _broken(result: VerifyReport) -> str:
    """A broken chain: every bad position and catalog disagreement, and no digest to keep
    (a digest of a broken chain would vouch for altered events)."""
    first = result.bad_positions[0].reason if result.bad_positions else result.reason or ""
    where = f" at position {result.first_bad_position}" if result.first_bad_position else ""
    parts = [
        f'<p><span class="bad">BROKEN</span>{where}: {result.bad_count} bad position(s); '
        f"the first: {h(first)}. No digest is given for a broken chain; rows of altered "
        "events below are marked.</p>"
    ]
    if result.bad_positions:
        rows = [(str(b.position), h(b.kind), h(b.reason)) for b in result.bad_positions]
        parts.append(table(("Position", "Problem", "Detail"), rows))
    if result.catalog_problems:
        items = "".join(f"<li>{h(problem)}</li>" for problem in result.catalog_problems)
        parts.append(f"<p>The stream catalog disagrees with the events:</p><ul>{items}</ul>")
    return "\n".join(parts)


def _hypothetical(report: AuditReport) -> str:
    section = report.hypothetical
    assert section is not None
    parts = [
        '<section class="hypothetical">',
        "<h2>Hypothetical (what-if) -- NOT EVIDENCE</h2>",
        "<p><strong>Hypothetical.</strong> Everything in this box is a replay of a "
        "<em>changed</em> history, computed in memory; it is not what the events record "
        "and proves nothing about them. The sections above are the evidence.</p>",
        f"<p>Changes: {h(', '.join(section.edits))}. History up to version "
        f"{section.actual_version}: {plural(section.actual_version, 'recorded event')}, "
        f"{section.what_if_version} in the changed history.</p>",
    ]
    if section.rejected:
        items = "".join(f"<li>{h(text)}</li>" for text in section.rejected)
        parts.append(f"<p>The domain would have refused:</p><ul>{items}</ul>")
    rows = [
        (h(path_text(d.path)), h(d.op), h(json_text(d.before)), h(json_text(d.after)))
        for d in section.differences
    ]
    parts.append("<p>Differences (actual → what-if):</p>")
    parts.append(
        table(("Field", "Change", "Actual", "What-if"), rows, code=(2, 3))
        if rows
        else _muted("None.")
    )
    parts.append(f"<pre>{h_block(json_text(section.state, indent=True))}</pre>")
    parts.append("</section>")
    return "\n".join(parts)
