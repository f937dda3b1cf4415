"""The aggregate and temporal engine: events with upcasters, aggregates, repositories,
projections, state at any moment, diff, blame, bisect, plugins and the demo domains.

`domain` reads only through `store`'s public API and knows nothing of Textual.
"""
