"""The aggregate and temporal engine: events with upcasters, aggregates, repositories,
projections, state at any moment, diff, blame, bisect, plugins and the demo domains.

`domain` reads only through `store`'s public API and knows nothing of Textual.

The names below are imported lazily (on first attribute access), so `import domain.errors`
-- which the CLI does on every command -- stays cheap::

    from domain import Engine, load_plugin
    engine = Engine(source, load_plugin("my.domain") if name else None)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Aggregate": "domain.aggregate",
    "applies": "domain.aggregate",
    "command": "domain.aggregate",
    "CommandRejected": "domain.errors",
    "DomainError": "domain.errors",
    "PluginError": "domain.errors",
    "VersionOutOfRange": "domain.errors",
    "DecodedEvent": "domain.events",
    "DomainEvent": "domain.events",
    "EventRegistry": "domain.events",
    "Upcaster": "domain.events",
    "upcaster": "domain.events",
    "Projection": "domain.projection",
    "ProjectionRunner": "domain.projection_runner",
    "evaluate_as_of": "domain.projection_runner",
    "Repository": "domain.repository",
    "DomainPlugin": "domain.plugin",
    "load_plugin": "domain.plugin",
    "Engine": "domain.engine",
    "Timeline": "domain.timeline",
    "StateAt": "domain.timeline",
    "DiffEntry": "domain.diff",
    "diff": "domain.diff",
    "apply_diff": "domain.diff",
    "BlameEntry": "domain.blame",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
