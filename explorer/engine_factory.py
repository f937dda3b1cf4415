"""Choose the domain logic for a source, the same way in the explorer and every command.

A `--domain` module wins; a store that `eventscope demo` built (it carries the
``eventscope.demo`` store label, never guessed from stream names) gets the demo domains,
so `eventscope diff demo.db ACCOUNT --snapshot V` compares like the explorer does;
anything else is explored with the generic fold, and `--domain generic` forces the generic
fold even on a demo store. No Textual here: headless commands use it.
"""

from __future__ import annotations

from typing import Any

from eventscope.store import EventSource

GENERIC = "generic"


def build_engine(source: EventSource, domain_module: str | None = None) -> Any:
    """`domain.Engine(source, plugin)` for `source`, with the plugin chosen as above."""
    from eventscope.domain import Engine, load_plugin

    if domain_module == GENERIC:
        return Engine(source, None)
    if domain_module:
        return Engine(source, load_plugin(domain_module))
    from eventscope.domain.demo import DOMAIN, built_by_demo

    return Engine(source, DOMAIN if built_by_demo(source) else None)
