"""Folders: how a stream's events become its state -- the generic fold, or a user's
aggregate appliers. The temporal engine, the consistency checks and bisect all replay
through one of these, so "replay with code A vs code B" is just two folders.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventscope.domain.aggregate import Aggregate
from eventscope.domain.fold import merge
from eventscope.store.records import JSONObject


class Folder:
    """How a stream's events become state: the generic fold, or an aggregate's appliers."""

    name = "generic"

    def initial(self) -> JSONObject:
        return {}

    def refuse(self, event_type: str) -> str | None:
        """A reason this folder cannot apply `event_type`, or None."""
        return None

    def apply(self, state: JSONObject, event_type: str, data: JSONObject) -> JSONObject:
        return merge(state, data)


class AggregateFolder(Folder):
    """Folds with a user's `Aggregate.fold` (its `@applies` functions)."""

    def __init__(self, aggregate: type[Aggregate[Any]]) -> None:
        self.aggregate = aggregate
        self.name = aggregate.__name__
        self._initial = orjson.dumps(aggregate.initial_state())
        self._appliers = aggregate._appliers  # the same functions `Aggregate.fold` calls

    def initial(self) -> JSONObject:
        return orjson.loads(self._initial)

    def refuse(self, event_type: str) -> str | None:
        if self.aggregate.handles(event_type):
            return None
        return f"{self.aggregate.__name__} has no handler for {event_type}"

    def apply(self, state: JSONObject, event_type: str, data: JSONObject) -> JSONObject:
        # User appliers may alias payload containers into the state and mutate them
        # later; give them a private copy so cached events stay as stored.
        kinds = set(map(type, data.values()))
        if dict in kinds or list in kinds:
            data = orjson.loads(orjson.dumps(data))
        result = self._appliers[event_type](state, data)
        return state if result is None else result
