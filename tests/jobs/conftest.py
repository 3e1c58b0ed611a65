"""Fixtures for the queue and worker tiers: a fresh migrated database with the effects ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.jobs import queue
from app.jobs.worker import Worker
from tests.jobs import sample_tasks


@dataclass
class JobsDb:
    url: str
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    async def enqueue(self, task_name: str, args: dict[str, Any] | None = None, **options: Any) -> int:
        async with self.engine.begin() as conn:
            return await queue.enqueue(conn, task_name, args, **options)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return await conn.scalar(text(sql), params)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(text(sql), params))

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def job(self, job_id: int) -> Any:
        rows = await self.rows("SELECT * FROM jobs WHERE id = :id", id=job_id)
        return rows[0]

    async def status(self, job_id: int) -> str:
        return str(await self.scalar("SELECT status FROM jobs WHERE id = :id", id=job_id))

    async def effects(self) -> list[Any]:
        return await self.rows("SELECT * FROM job_effects ORDER BY created_at")


@asynccontextmanager
async def open_jobs_db(url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[JobsDb]:
    """`JobsDb` on a migrated database, with the `job_effects` ledger table created."""
    settings = make_settings(database_url=url)
    engine = create_engine(settings, application_name="tieout-test")
    db = JobsDb(url, settings, engine, create_sessionmaker(engine))
    try:
        await db.execute(sample_tasks.LEDGER_DDL)
        yield db
    finally:
        await engine.dispose()


@pytest.fixture
async def jobs_db(
    create_database: Callable[[], Awaitable[str]], make_settings: Callable[..., Settings]
) -> AsyncIterator[JobsDb]:
    """A fresh database at head (real commits) with the `job_effects` ledger table."""
    async with open_jobs_db(await create_database(), make_settings) as db:
        yield db


@pytest.fixture
async def make_worker(jobs_db: JobsDb) -> AsyncIterator[Callable[..., Worker]]:
    """Factory of in-process workers running the sample tasks; started ones are stopped at the end."""
    made: list[Worker] = []

    def make(**overrides: Any) -> Worker:
        worker = Worker(
            sessionmaker=jobs_db.sessionmaker,
            engine=jobs_db.engine,
            settings=jobs_db.settings,
            tasks=sample_tasks.registry,
            **overrides,
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        if worker._main is not None:
            await worker.stop()
