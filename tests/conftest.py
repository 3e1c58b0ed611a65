"""Shared fixtures: one PostgreSQL per test session, migrated template databases, sessions, app clients.

Tiers (STYLE.md): DB tests take `session` (rolled back); worker tests take `fresh_database_url` or call
`create_database()` (real commits, a clone of the migrated template); API tests take `client`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import create_engine, migrate
from app.core.pgserver import EmbeddedPostgres
from app.main import create_app
from tests.fakes.whisper_server import FakeWhisperServer

# No timed assertions: hypothesis's per-example deadline is off. Under CI the examples are
# derandomized, so a run that passed once passes again; developers keep exploring new examples.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The reliability test profile (reliability.md (c)): short leases, small limits.
TEST_PROFILE: dict[str, Any] = {
    "env": "development",
    "log_level": "WARNING",
    "run_migrations": False,
    "run_worker": False,
    "lease_seconds": 3.0,
    "heartbeat_seconds": 1.0,
    "poll_interval": 0.5,
    "shutdown_grace_seconds": 3.0,
    "job_timeout_seconds": 5.0,
    "retry_base_seconds": 0.1,
    "max_upload_bytes": 1024 * 1024,
    "max_pdf_pages": 50,
    "text_engine": "local",
    "header_timeout_seconds": 2.0,
    "idempotency_ttl_seconds": 60.0,
}


def database_url_for(server_url: str, database: str) -> str:
    """The same server URL with another database name."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


async def _admin_execute(server_url: str, *statements: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def fast_temp_dir(prefix: str) -> Path:
    """A temp folder on tmpfs (/dev/shm) when it has room: test databases are disposable."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and shutil.disk_usage(shm).free > 2 * 1024**3:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=shm))
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix=prefix))


def using_external_server() -> bool:
    """True when DATABASE_URL names the server the tests run against."""
    return Settings(_env_file=None).database_url is not None  # type: ignore[call-arg]


async def start_test_server(folder: Path) -> EmbeddedPostgres:
    """An embedded server tuned for tests: no fsync, so CREATE/DROP DATABASE and commits stay cheap."""
    server = EmbeddedPostgres(folder / "pg")
    await asyncio.to_thread(server.start)
    await _admin_execute(
        server.url("postgres"),
        "ALTER SYSTEM SET fsync = off",
        "ALTER SYSTEM SET full_page_writes = off",
        "ALTER SYSTEM SET synchronous_commit = off",
        "SELECT pg_reload_conf()",
    )
    return server


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """SQLAlchemy asyncpg URL of the session's PostgreSQL server (its maintenance database).

    With DATABASE_URL set, that server is used (the role needs CREATEDB); otherwise ONE embedded
    server is started in a temp folder for the whole session and deleted afterwards.
    """
    if using_external_server():
        yield Settings(_env_file=None).database_url  # type: ignore[call-arg, misc]
        return
    folder = fast_temp_dir("tieout-test-pg-")
    server = await start_test_server(folder)
    try:
        yield server.url("postgres")
    finally:
        await asyncio.to_thread(server.stop, force=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(postgres_url: str) -> AsyncIterator[str]:
    """Name of a database migrated to head once per session; `create_database` clones it."""
    name = f"tieout_template_{uuid.uuid4().hex[:8]}"
    await _admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    engine = create_engine(Settings(_env_file=None), url=database_url_for(postgres_url, name))  # type: ignore[call-arg]
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    yield name
    if using_external_server():
        await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def create_database(
    postgres_url: str, template_database: str
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Factory: `url = await create_database()` gives a fresh database at head (a template clone).

    Use it for tests that need real commits seen by other connections (worker, e2e). Every
    database made this way is dropped at the end of the session.
    """
    created: list[str] = []

    async def make() -> str:
        name = f"tieout_test_{uuid.uuid4().hex[:12]}"
        await _admin_execute(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        created.append(name)
        return database_url_for(postgres_url, name)

    yield make
    # An embedded test server is deleted with its folder; only an external one needs cleaning.
    if created and using_external_server():
        await _admin_execute(
            postgres_url, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in created)
        )


@pytest.fixture
async def fresh_database_url(create_database: Callable[[], Awaitable[str]]) -> str:
    """URL of a database at head made for this test alone (real commits allowed)."""
    return await create_database()


@pytest.fixture(scope="session")
async def db_engine(create_database: Callable[[], Awaitable[str]]) -> AsyncIterator[AsyncEngine]:
    """Engine on one migrated database shared by the session; pair it with `session` (rolled back)."""
    url = await create_database()
    engine = create_engine(Settings(_env_file=None), url=url, application_name="tieout-test")  # type: ignore[call-arg]
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """AsyncSession inside an outer transaction that is rolled back after the test.

    `session.commit()` only releases a savepoint (join_transaction_mode="create_savepoint"), so
    code under test may commit freely and nothing leaks into the next test.
    """
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        async_session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield async_session
        finally:
            await async_session.close()
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture(scope="session")
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    """Factory: `make_settings(database_url=..., **overrides)` → Settings with the test profile.

    Ignores `.env`; `data_dir` defaults to a new temp folder.
    """

    def make(**overrides: Any) -> Settings:
        values = {**TEST_PROFILE, **overrides}
        values.setdefault("data_dir", tmp_path_factory.mktemp("data"))
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def app_settings(make_settings: Callable[..., Settings], fresh_database_url: str, tmp_path: Path) -> Settings:
    """Settings for `app`/`client`: a fresh migrated database, the test profile, no worker."""
    return make_settings(database_url=fresh_database_url, data_dir=tmp_path / "data")


@pytest.fixture
def app(app_settings: Settings) -> FastAPI:
    """The app built by `create_app(app_settings)`; request it too to add test routes or overrides."""
    return create_app(app_settings)


def open_client(app: FastAPI) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield an AsyncClient talking to it in-process (base URL http://test)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[httpx.AsyncClient]:
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client

    return opened()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """httpx.AsyncClient over ASGITransport with the lifespan running (`app` on a fresh database)."""
    async with open_client(app) as http_client:
        yield http_client


@pytest.fixture(scope="session")
async def second_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A second embedded server (its own temp folder) that a test may stop and start again.

    Stands in for "another PostgreSQL" behind DATABASE_URL; `.url(db)`, `.stop(force=True)`, `.start()`.
    A test that stops it must start it again before it ends.
    """
    folder = fast_temp_dir("tieout-test-pg2-")
    server = await start_test_server(folder)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop, force=True)
        shutil.rmtree(folder, ignore_errors=True)


WHISPER_KEY = "test-key"


@pytest.fixture
def whisper() -> Iterator[FakeWhisperServer]:
    """The fake LLMWhisperer on 127.0.0.1, accepting `WHISPER_KEY`."""
    with FakeWhisperServer(api_keys={WHISPER_KEY}) as server:
        yield server


def using_whisper(settings: Settings, server: FakeWhisperServer, **overrides: Any) -> Settings:
    """`settings` pointed at the fake LLMWhisperer with its key (and any other overrides)."""
    update = {"llmwhisperer_api_key": SecretStr(WHISPER_KEY), "llmwhisperer_base_url": server.base_url}
    return settings.model_copy(update={**update, **overrides})
