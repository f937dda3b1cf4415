"""SQL plumbing every SQL-backed source shares: engines and read-only connections for
SQLite and PostgreSQL (`sqlite`, `postgres`), reading through the driver with one error
rule (`reader`), looking at a database's tables for detection (`tables`), and the fixed
SQL fragments that keep filter text literal (`fragments`).

Nothing here knows a source's tables: the native store and each foreign source build
their own queries on top.
"""
