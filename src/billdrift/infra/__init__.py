"""Runtime plumbing kept apart from the domain: database connections, provider HTTP,
DuckDB connections, and the process tuning a large check needs."""
