"""The registry of source kinds: what each kind of history is called, how it is
recognised, and how it is opened.

A source kind lives in one folder (`store/native/`, `store/sources/<kind>/`) whose
`kind.py` defines ``KIND = SourceKind(...)``; joining eventscope is that folder plus one
line in `REGISTERED`. `store.open` asks the kinds, in this order, whether a database or
file is theirs, and the CLI's `--format` choices are their names. A `kind.py` imports
nothing heavy (its opener imports the source on first use), so the registry is cheap to
load even for a command that opens one JSON Lines file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from eventscope.store.source import EventSource, ProgressCallback

if TYPE_CHECKING:
    from eventscope.store.location import Location
    from eventscope.store.sql.tables import Tables

# One line per kind; detection asks them in this order.
REGISTERED = (
    "eventscope.store.native.kind",
    "eventscope.store.sources.emmett.kind",  # before eventsourcing: no column reflection
    "eventscope.store.sources.eventsourcing.kind",
    "eventscope.store.sources.eventuous.kind",
    "eventscope.store.sources.jsonl.kind",
    "eventscope.store.sources.marten.kind",
    "eventscope.store.sources.axon.kind",
    "eventscope.store.sources.messagedb.kind",
)


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """How the caller wants a source opened."""

    read_only: bool = True
    progress: ProgressCallback | None = None  # (done, total) while a file is indexed


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of history eventscope can open.

    `in_database` recognises the kind in a SQLite file or a PostgreSQL schema (one of
    `dialects`) by its tables; `in_file` recognises a file that is not SQLite by its
    first bytes. `noun` names the kind in "neither ... nor ..." messages about
    databases, `file_noun` in the message about an unrecognised file.
    """

    name: str  # the `kind:` prefix and the `--format` value
    open: Callable[[Location, OpenRequest], EventSource]
    noun: str | None = None
    file_noun: str | None = None
    dialects: tuple[str, ...] = ()
    in_database: Callable[[Tables], bool] | None = None
    in_file: Callable[[bytes, Path], bool] | None = None
    writable: bool = False  # only the native store can be written (or created)


@cache
def kinds() -> tuple[SourceKind, ...]:
    """Every registered kind, in detection order."""
    return tuple(importlib.import_module(module).KIND for module in REGISTERED)


def names() -> tuple[str, ...]:
    """The kind names, for `kind:` prefixes and `--format`."""
    return tuple(kind.name for kind in kinds())


def kind_named(name: str) -> SourceKind:
    """The kind called `name` (a KeyError names nothing the user typed: callers check
    `names()` first)."""
    for kind in kinds():
        if kind.name == name:
            return kind
    raise KeyError(name)
