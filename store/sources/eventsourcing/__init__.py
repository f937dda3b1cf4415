"""Stores written by the Python `eventsourcing` library (SQLite file or PostgreSQL
tables), read directly and never written: `source.EventsourcingSource` over the tables
found by `tables`, with states decoded by `state`; `kind.py` registers the kind with
`store.kinds`.
"""
