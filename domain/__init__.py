"""The aggregate and temporal engine: events with upcasters, aggregates, repositories,
projections, state at any moment, diff, blame, bisect, plugins and the demo domains.

`domain` reads only through `store`'s public API and knows nothing of Textual.

The names below are imported lazily (on first attribute access), so `import domain.errors`
-- which the CLI does on every command -- stays cheap::

    from eventscope.domain import Engine, load_plugin
    engine = Engine(source, load_plugin("my.domain") if name else None)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Aggregate": "eventscope.domain.aggregate",
    "applies": "eventscope.domain.aggregate",
    "checks": "eventscope.domain.aggregate",
    "command": "eventscope.domain.aggregate",
    "CommandRejected": "eventscope.domain.errors",
    "DomainError": "eventscope.domain.errors",
    "PluginError": "eventscope.domain.errors",
    "VersionOutOfRange": "eventscope.domain.errors",
    "DecodedEvent": "eventscope.domain.events",
    "DomainEvent": "eventscope.domain.events",
    "EventRegistry": "eventscope.domain.events",
    "Upcaster": "eventscope.domain.events",
    "upcaster": "eventscope.domain.events",
    "Projection": "eventscope.domain.projection",
    "ProjectionRunner": "eventscope.domain.projection_runner",
    "evaluate_as_of": "eventscope.domain.projection_runner",
    "Repository": "eventscope.domain.repository",
    "DomainPlugin": "eventscope.domain.plugin",
    "load_plugin": "eventscope.domain.plugin",
    "Engine": "eventscope.domain.engine",
    "Timeline": "eventscope.domain.timeline",
    "StateAt": "eventscope.domain.timeline",
    "DiffEntry": "eventscope.domain.diff",
    "diff": "eventscope.domain.diff",
    "apply_diff": "eventscope.domain.diff",
    "BlameEntry": "eventscope.domain.blame",
    "FieldChange": "eventscope.domain.field_history",
    "field_history": "eventscope.domain.field_history",
    "DisplayUnit": "eventscope.domain.units",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventscope.domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
