"""Read-only sources for histories written by other software, one folder per kind.

Each folder (`jsonl/`, `eventsourcing/`, ...) is independent of the others: it may use
the shared parts at `store/` level (the protocol, records, location, SQL plumbing,
paging, the histogram rule, `store.foreign`) and, for an exported hash chain, the
native store's chain specification, but never another source's folder. A folder's
`kind.py` registers it in `store.kinds.REGISTERED`.
"""
