"""eventscope's persistence: the native event store and read-only sources for histories
written by other software, behind one read protocol.

Layout (docs/ARCHITECTURE.md, "Store"):
* shared, once: `source` (the `EventSource` protocol, `EventFilter`), `records`,
  `errors`, `open` + `kinds` (opening and detection, the registry of source kinds),
  `location` (paths and URLs), `sql/` (engines, read-only connections, reading),
  `paging` (keyset loops), `histogram` (the event-rate rule), `foreign` (what foreign
  sources share);
* `native/`: the eventscope store (schema, append, read, verify, import);
* `sources/<kind>/`: one folder per read-only foreign source.

`store` knows nothing of aggregates or the UI (a test enforces it). The names below are
imported lazily (on first attribute access), so `import eventscope.store.errors` or
`eventscope.store.records` does not import SQLAlchemy::

    from eventscope.store import EventStore, NewEvent, open_source
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ConcurrencyError": "eventscope.store.errors",
    "IdempotencyConflict": "eventscope.store.errors",
    "InvalidEvent": "eventscope.store.errors",
    "NotAStoreError": "eventscope.store.errors",
    "ReadOnlyError": "eventscope.store.errors",
    "SourceNotFound": "eventscope.store.errors",
    "StoreError": "eventscope.store.errors",
    "StreamNotFound": "eventscope.store.errors",
    "EventStore": "eventscope.store.native.event_store",
    "open_source": "eventscope.store.open",
    "ANY": "eventscope.store.records",
    "NO_STREAM": "eventscope.store.records",
    "Digest": "eventscope.store.records",
    "ExpectedVersion": "eventscope.store.records",
    "NewEvent": "eventscope.store.records",
    "ProjectionRow": "eventscope.store.records",
    "RecordedEvent": "eventscope.store.records",
    "Snapshot": "eventscope.store.records",
    "SourceInfo": "eventscope.store.records",
    "StreamInfo": "eventscope.store.records",
    "VerifyReport": "eventscope.store.records",
    "EventFilter": "eventscope.store.source",
    "EventSource": "eventscope.store.source",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventscope.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
