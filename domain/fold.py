"""The generic fold: what a stream's state means when no aggregate is registered for it.

Foreign stores and unknown stream types still get a state, defined exactly as follows
(the README repeats it, because an auditor must know what a "generic state" claims):

* the state starts as ``{}``;
* each event's ``data`` object is deep-merged into it, in version order;
* a key whose new value is ``null`` is removed (so a generic state never holds ``null``);
* an object merges recursively into the existing object -- or into an empty object when
  the old value was not an object (nulls inside it remove keys there too);
* every other value (string, number, boolean, and lists) replaces the old value.

`merge` mutates the state in place and never mutates or aliases a *dict* from the event
(lists and scalars are shared but never mutated by the fold), so cached events stay
intact and one decoded event can be folded into many states.
"""

from __future__ import annotations

from typing import Any

from eventscope.store.records import JSONObject


def merge(state: JSONObject, data: JSONObject) -> JSONObject:
    """Deep-merge `data` into `state` in place by the rules above; return `state`."""
    values = data.values()
    if None not in values and dict not in map(type, values):
        state.update(data)  # nothing to remove or merge: a flat update (C speed)
        return state
    for key, value in data.items():
        if value is None:
            state.pop(key, None)
        elif type(value) is dict:
            old = state.get(key)
            if type(old) is not dict:
                old = {}
                state[key] = old
            merge(old, value)
        else:
            state[key] = value
    return state


def fold_generic(events_data: Any, state: JSONObject | None = None) -> JSONObject:
    """Fold an iterable of payloads from `state` (default ``{}``); handy for tests/tools."""
    out: JSONObject = {} if state is None else state
    for data in events_data:
        merge(out, data)
    return out
