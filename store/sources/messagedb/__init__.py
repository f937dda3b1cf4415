"""Message DB (Eventide's PostgreSQL message store) as a read-only source."""
