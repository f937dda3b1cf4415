"""Command models: one pydantic model per `@command` method, made from its signature.

A trainer's form needs each command's fields, their types and defaults; the aggregate's
method already says all of it. `command_models(Account)` turns ``deposit(self, amount:
str, currency: str, channel: str = "branch")`` into a model with those three fields, so a
form validates exactly what the method accepts (one definition, no second copy to drift),
and works for any plugin's aggregates, not only the demo's.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any

from eventscope.domain.aggregate import Aggregate
from pydantic import BaseModel, ConfigDict, create_model

__all__ = ["CommandSpec", "command_models"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command of an aggregate: its method name, its model and its first doc line."""

    aggregate: type[Aggregate[Any]]
    name: str
    model: type[BaseModel]
    doc: str

    @property
    def fields(self) -> list[tuple[str, Any, Any]]:
        """(name, annotation, default or ... when required) in signature order."""
        return [
            (name, info.annotation, ... if info.is_required() else info.default)
            for name, info in self.model.model_fields.items()
        ]


def command_models(aggregate: type[Aggregate[Any]]) -> dict[str, CommandSpec]:
    """Every `@command` method of `aggregate` (public, by name) as a `CommandSpec`."""
    out: dict[str, CommandSpec] = {}
    for name in sorted(vars_of(aggregate)):
        method = getattr(aggregate, name)
        if name.startswith("_") or not _is_command(method):
            continue
        signature = inspect.signature(method)
        hints = typing.get_type_hints(method)
        fields: dict[str, Any] = {}
        for parameter in list(signature.parameters.values())[1:]:  # not `self`
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            annotation = hints.get(parameter.name, Any)
            default = ... if parameter.default is parameter.empty else parameter.default
            fields[parameter.name] = (annotation, default)
        model = create_model(
            f"{aggregate.__name__}_{name}",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        doc = (inspect.getdoc(method) or "").strip().splitlines()
        out[name] = CommandSpec(aggregate, name, model, doc[0] if doc else "")
    return out


def vars_of(aggregate: type[Any]) -> set[str]:
    names: set[str] = set()
    for klass in aggregate.__mro__:
        if klass is Aggregate or klass is object:
            break
        names.update(vars(klass))
    return names


def _is_command(method: Any) -> bool:
    """`@command` marks the methods it wraps."""
    return callable(method) and getattr(method, "__command__", False) is True
