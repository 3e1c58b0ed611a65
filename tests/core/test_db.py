"""Session fixtures and the request session: rollback isolation, commit-once, commit-time failure."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.db import DbSession
from app.jobs.registry import latest_heartbeat_age, register_worker


class TestSessionFixture:
    async def test_commit_inside_test_is_rolled_back_afterwards(self, session: AsyncSession) -> None:
        await register_worker(session, "fixture-worker")
        await session.commit()
        assert await latest_heartbeat_age(session) is not None

    async def test_previous_test_left_nothing(self, session: AsyncSession) -> None:
        count = await session.scalar(text("SELECT count(*) FROM workers WHERE id = 'fixture-worker'"))
        assert count == 0


class TestGetSession:
    async def test_commits_once_after_the_handler(
        self, app: FastAPI, client: httpx.AsyncClient, fresh_database_url: str
    ) -> None:
        @app.post("/test/workers/{worker_id}", status_code=201)
        async def create_worker(worker_id: str, db: DbSession) -> dict[str, str]:
            await register_worker(db, worker_id)
            return {"id": worker_id}

        response = await client.post("/test/workers/w1")
        assert response.status_code == 201

        engine = create_async_engine(fresh_database_url)
        try:
            async with engine.connect() as conn:
                count = await conn.scalar(text("SELECT count(*) FROM workers WHERE id = 'w1'"))
        finally:
            await engine.dispose()
        assert count == 1

    async def test_commit_time_failure_returns_the_error_body(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        # A deferred constraint fails only at COMMIT, after the handler has returned its 201 body.
        @app.post("/test/deferred-failure", status_code=201)
        async def fail_at_commit(db: DbSession) -> dict[str, bool]:
            await db.execute(
                text(
                    "CREATE TEMP TABLE commit_probe (id int PRIMARY KEY, parent int "
                    "REFERENCES commit_probe (id) DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP"
                )
            )
            await db.execute(text("INSERT INTO commit_probe VALUES (1, 999)"))
            return {"created": True}

        response = await client.post("/test/deferred-failure", headers={"X-Request-ID": "commit-fail"})
        assert response.status_code == 500
        assert response.json() == {
            "error": {"code": "internal_error", "message": "Internal server error", "details": None},
            "request_id": "commit-fail",
        }
