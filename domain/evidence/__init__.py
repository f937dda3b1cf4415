"""Evidence for compliance reviews: audit reports, evidence bundles and the access log.

Nothing here imports Textual or rich; the explorer and the CLI call these functions::

    from eventscope.domain.evidence import render_report, build_bundle
    text = render_report(engine, "account-000001", at=moment, fmt="html")  # or "md"
    with atomic_output(path) as out:
        summary = build_bundle(engine, out, streams=["account-000001"], at=moment)

`verify_bundle.py` in this package is the standalone, stdlib-only verifier copied into
every bundle; it must never import anything from eventscope.

Names are imported lazily so `import domain.evidence` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AuditReport": "eventscope.domain.evidence.report",
    "build_report": "eventscope.domain.evidence.report",
    "render_report": "eventscope.domain.evidence.report",
    "render_markdown": "eventscope.domain.evidence.render_md",
    "render_html": "eventscope.domain.evidence.render_html",
    "BundleSummary": "eventscope.domain.evidence.bundle",
    "build_bundle": "eventscope.domain.evidence.bundle",
    "EvidenceError": "eventscope.domain.evidence.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventscope.domain.evidence' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
