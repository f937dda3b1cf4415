"""Eventuous's PostgreSQL event store (schema `eventuous`: `streams`, `messages`,
`checkpoints`), read directly and never written: `source.EventuousSource` over the
schema found by `layout`, with stream names kept in memory by `catalog`, versions
numbered by `numbering`, rows decoded by `rows` and filters turned into SQL by
`filters`; `kind.py` registers the kind with `store.kinds`.
"""
