"""The native eventscope store: the only kind eventscope writes (or creates).

`event_store.EventStore` is the facade; its jobs are the modules beside it (see that
module's docstring). `kind.py` registers the store with `store.kinds`.
"""
