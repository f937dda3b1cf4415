"""Marten's event store tables on PostgreSQL (`mt_events`, `mt_streams`,
`mt_event_progression`), read directly and never written: `layout` finds which of
Marten's optional columns and settings a store has, `identity` turns (tenant, stream id)
into the stream ids eventscope shows and back, `events` decodes rows, `claims` reads
inline snapshot documents and projection progress, and `source.MartenSource` answers the
`EventSource` protocol; `kind.py` registers the kind with `store.kinds`.
"""
