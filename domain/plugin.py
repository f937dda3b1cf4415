"""Plugins: `--domain package.module` loads a user's own domain code into the engine.

The module exposes ONE object named `DOMAIN`, a `DomainPlugin`::

    # mycompany/audit_domain.py
    from eventscope.domain.plugin import DomainPlugin
    from mycompany.accounts import Account, AccountBalances, EVENTS, UPCASTERS

    DOMAIN = DomainPlugin(
        aggregates={"account": Account},        # stream_type -> Aggregate subclass
        projections=[AccountBalances()],        # Projection instances (or classes)
        events=EVENTS,                          # DomainEvent classes
        upcasters=UPCASTERS,                    # Upcaster objects (see domain.events)
        display_units={"balance_cents": MONEY_CENTS},  # optional, see domain.units
    )

Then ``eventscope state audit.db acct-1 --domain mycompany.audit_domain`` replays with the
real aggregate logic; streams of other types still use the generic fold. A different
attribute can be named as ``package.module:ATTRIBUTE``.

Loading never shows a traceback: a missing module, an error while importing it, a
`sys.exit()` in it, or a missing/wrong `DOMAIN` object becomes one `PluginError` sentence.

The module is the user's code and runs with the user's rights -- name only modules you
trust. What it prints while eventscope runs it is captured, never mixed into eventscope's
output (`domain.plugin_guard`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventscope.domain.aggregate import Aggregate
from eventscope.domain.errors import PluginError
from eventscope.domain.events import DomainEvent, EventRegistry, Upcaster
from eventscope.domain.plugin_guard import guarded, plugin_code, trusted
from eventscope.domain.projection import Projection
from eventscope.domain.units import DisplayUnit

DEFAULT_ATTRIBUTE = "DOMAIN"


@dataclass
class DomainPlugin:
    """A user's domain: aggregates by stream type, projections, event classes, upcasters.

    Event classes handled by the aggregates need not be listed again in `events`; they
    only have to be listed if upcasters or the event detail view should know them.
    """

    aggregates: Mapping[str, type[Aggregate[Any]]] = field(default_factory=dict)
    projections: Iterable[Projection | type[Projection]] = ()
    events: Iterable[type[DomainEvent]] = ()
    upcasters: Iterable[Upcaster] = ()
    name: str = ""
    display_units: Mapping[str, DisplayUnit] = field(default_factory=dict)
    """How the explorer labels numeric fields (by dotted path or field name): display only."""

    def __post_init__(self) -> None:
        self.aggregates = dict(self.aggregates)
        self.projections = [p() if isinstance(p, type) else p for p in self.projections]
        self.events = list(self.events)
        self.upcasters = list(self.upcasters)
        for stream_type, cls in self.aggregates.items():
            if not (isinstance(cls, type) and issubclass(cls, Aggregate)):
                raise PluginError(
                    f"the aggregate for stream type {stream_type!r} is not an Aggregate subclass"
                )
        names = [p.name for p in self.projections]
        if len(set(names)) != len(names):
            raise PluginError("two projections of the domain plugin share a name")
        self._registry = EventRegistry(self.events, self.upcasters)

    @property
    def registry(self) -> EventRegistry:
        """Event classes and upcasters of this domain (shared by all its streams)."""
        return self._registry

    def aggregate_for(self, stream_type: str) -> type[Aggregate[Any]] | None:
        """The aggregate class for a stream type, or None (then the generic fold applies)."""
        return self.aggregates.get(stream_type)

    def projection(self, name: str) -> Projection:
        """The projection called `name`, or a PluginError naming the ones there are."""
        for projection in self.projections:  # type: ignore[union-attr]
            if projection.name == name:
                return projection
        known = ", ".join(sorted(p.name for p in self.projections)) or "none"  # type: ignore[union-attr]
        raise PluginError(f"the domain has no projection named {name!r} (it has: {known})")

    def projection_names(self) -> list[str]:
        return sorted(p.name for p in self.projections)  # type: ignore[union-attr]


def load_plugin(spec: str) -> DomainPlugin:
    """Import ``package.module`` (or ``package.module:ATTRIBUTE``) and return its plugin."""
    module_name, _, attribute = spec.strip().partition(":")
    attribute = attribute or DEFAULT_ATTRIBUTE
    if not module_name:
        raise PluginError("--domain needs a module name such as mypackage.domain")
    try:
        with plugin_code(module_name):
            module = importlib.import_module(module_name)
    except PluginError:
        raise  # it called sys.exit() while importing
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if missing == module_name or module_name.startswith(f"{missing}."):
            raise PluginError(
                f"cannot import domain module {module_name!r}: no such module "
                "(is its package installed or on PYTHONPATH?)"
            ) from None
        raise PluginError(
            f"domain module {module_name!r} failed to import: it needs module {missing!r}, "
            "which is not installed"
        ) from None
    except Exception as exc:  # the user's module raised while importing
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise PluginError(f"domain module {module_name!r} failed to import ({detail})") from None
    plugin = getattr(module, attribute, None)
    if plugin is None:
        raise PluginError(
            f"domain module {module_name!r} has no {attribute} object; "
            f"define {attribute} = DomainPlugin(...) in it"
        )
    if not isinstance(plugin, DomainPlugin):
        raise PluginError(
            f"{module_name}.{attribute} is a {type(plugin).__name__}, not a DomainPlugin"
        )
    if not plugin.name:
        plugin.name = module_name
    if not trusted(module_name):
        _guard(plugin, module_name)
    return plugin


def _guard(plugin: DomainPlugin, module: str) -> None:
    """Route every call eventscope makes into the plugin through `plugin_guard.guarded`,
    so its prints are captured and its `sys.exit()` is refused (see `domain.plugin_guard`)."""
    for cls in plugin.aggregates.values():
        appliers = cls._appliers
        for event_type, func in list(appliers.items()):
            appliers[event_type] = guarded(func, module)
    for projection in plugin.projections:  # type: ignore[union-attr]
        for name in ("key", "initial", "apply"):
            try:
                setattr(projection, name, guarded(getattr(projection, name), module))
            except AttributeError:
                pass  # a slotted projection: its methods run unwrapped
    plugin.upcasters = [
        Upcaster(step.event_type, step.from_version, guarded(step.func, module))
        for step in plugin.upcasters  # type: ignore[union-attr]
    ]
    plugin._registry = EventRegistry(plugin.events, plugin.upcasters)
