"""The FastAPI app factory and the runtime it needs (database, migrations, httpx client, worker).

Nothing is built at import time: `create_app(settings)` wires routes and middleware, the lifespan opens
the runtime. `open_runtime` is shared with `tieout worker`, which runs without the HTTP app.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import __version__
from app.api import include_routers
from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker, head_revisions, migrate
from app.core.docs import install_offline_docs
from app.core.errors import install_error_handlers
from app.core.http import create_http_client
from app.core.logging import configure_logging
from app.core.middleware import install_middleware
from app.core.pgserver import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    ensure_database,
    start_in_background,
)
from app.documents.maintenance import run_maintenance
from app.documents.service import build_document_service

log = structlog.get_logger("tieout.app")


class StartupError(RuntimeError):
    """A start-up failure the operator can fix; its message is one line."""


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    embedded: EmbeddedPostgres | None


async def _start_embedded(settings: Settings, stack: AsyncExitStack) -> tuple[EmbeddedPostgres, str]:
    starting = start_in_background(settings.pg_dir)

    async def stop_when_started() -> None:
        # Also reached when start-up is interrupted while the server is still starting.
        started = await asyncio.to_thread(starting.exception) is None
        if started:
            await asyncio.to_thread(starting.result().stop)

    stack.push_async_callback(stop_when_started)
    try:
        server = await asyncio.wrap_future(starting)
    except EmbeddedPostgresError as exc:
        raise StartupError(str(exc)) from exc
    await ensure_database(server)
    return server, server.url()


async def _check_database(engine: AsyncEngine, settings: Settings) -> None:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        where = settings.redacted_database_url()
        raise StartupError(f"database unreachable at {where}: {type(exc).__name__}: {exc}") from exc


@asynccontextmanager
async def open_runtime(settings: Settings, *, role: str = "api") -> AsyncIterator[Runtime]:
    """Database (embedded unless DATABASE_URL), migrations, sessionmaker, httpx client; closed in reverse."""
    async with AsyncExitStack() as stack:
        # Reading the migration scripts overlaps the database start.
        heads = asyncio.ensure_future(asyncio.to_thread(head_revisions))
        stack.push_async_callback(asyncio.wait, [heads])
        embedded = None
        if settings.embedded_db:
            embedded, url = await _start_embedded(settings, stack)
            settings = settings.model_copy(update={"database_url": url})
        engine = create_engine(settings, application_name=f"tieout-{role}")
        stack.push_async_callback(engine.dispose)
        await _check_database(engine, settings)
        await heads
        if settings.run_migrations:
            await migrate(engine)
        http = create_http_client(settings)
        stack.push_async_callback(http.aclose)
        yield Runtime(settings, engine, create_sessionmaker(engine), http, embedded)


def load_worker_class() -> type | None:
    """`app.jobs.worker.Worker`, or None while that module does not exist yet."""
    try:
        from app.jobs.worker import Worker  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError as exc:
        if exc.name != "app.jobs.worker":
            raise
        return None
    return Worker  # type: ignore[no-any-return]


def build_worker(worker_class: type, runtime: Runtime) -> Any:
    offered = {
        "sessionmaker": runtime.sessionmaker,
        "engine": runtime.engine,
        "settings": runtime.settings,
        "http": runtime.http,
    }
    # Pass only what the constructor names: the worker's **kwargs are its own config overrides.
    params = inspect.signature(worker_class).parameters
    return worker_class(**{k: v for k, v in offered.items() if k in params})


async def start_worker(runtime: Runtime) -> Any:
    worker_class = load_worker_class()
    if worker_class is None:
        log.warning("worker.unavailable", reason="app.jobs.worker is not present")
        return None
    worker = build_worker(worker_class, runtime)
    await worker.start()
    return worker


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(settings)
    async with open_runtime(settings, role="api") as runtime:
        state = app.state
        state.settings = runtime.settings
        state.engine = runtime.engine
        state.sessionmaker = runtime.sessionmaker
        state.http = runtime.http
        state.embedded = runtime.embedded
        state.migration_heads = await asyncio.to_thread(head_revisions)
        state.document_service = build_document_service(runtime.settings)
        state.worker = await start_worker(runtime) if settings.run_worker else None
        maintenance = asyncio.create_task(run_maintenance(runtime.sessionmaker, state.document_service))
        log.info(
            "app.started",
            env=settings.env,
            database=settings.redacted_database_url(),
            data_dir=str(settings.data_dir),
            worker=state.worker is not None,
        )
        try:
            yield
        finally:
            maintenance.cancel()
            await asyncio.wait([maintenance])
            if state.worker is not None:
                await state.worker.stop()
            log.info("app.stopping")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app; the lifespan opens the database, runs migrations and starts the worker."""
    settings = settings or get_settings()
    app = FastAPI(
        title="tieout",
        version=__version__,
        summary="Financial-statement PDFs to verified, structured data.",
        lifespan=lifespan,
        docs_url=None,  # served by install_offline_docs, without a CDN
        redoc_url=None,
        form_limits={
            "max_fields": settings.max_form_fields,
            "max_part_size": settings.max_form_part_bytes,
        },
    )
    app.state.settings = settings
    app.state.worker = None
    install_error_handlers(app)
    install_middleware(app, settings)
    include_routers(app)
    install_offline_docs(app)
    return app
