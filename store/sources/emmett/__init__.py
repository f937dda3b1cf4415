"""Emmett's event stores (`@event-driven-io/emmett-postgresql`, `emmett-sqlite`) as a
read-only source: `kind` recognises them, `source` reads them, `dialect` holds the SQL
that differs between PostgreSQL and SQLite, `claims` the derived claims beside them."""
