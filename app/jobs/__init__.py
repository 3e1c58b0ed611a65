"""Background jobs: Postgres queue, worker loop, task handlers."""
