"""Alembic environment: async engine from tieout settings, metadata from every domain's models.

`app.core.db.migrate` passes an open connection in `config.attributes["connection"]`; the
`alembic` command line has none, so this file starts the embedded server or uses DATABASE_URL.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from app.models import load_all_models

target_metadata = load_all_models().metadata


def run_with_connection(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from app.core.config import get_settings
    from app.core.db import create_engine
    from app.core.pgserver import EmbeddedPostgres, ensure_database

    settings = get_settings()
    server = None
    url = settings.database_url
    if url is None:
        server = EmbeddedPostgres(settings.pg_dir)
        server.start()
        await ensure_database(server)
        url = server.url()
    engine = create_engine(settings, application_name="tieout-migrate", url=url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with_connection)
            await connection.commit()
    finally:
        await engine.dispose()
        if server is not None:
            server.stop()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")

provided = context.config.attributes.get("connection")
if provided is not None:
    run_with_connection(provided)
else:
    asyncio.run(run_from_settings())
