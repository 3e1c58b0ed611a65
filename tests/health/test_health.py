"""Liveness and readiness: which part fails is named, and the database coming back is noticed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import DbSession
from app.core.pgserver import EmbeddedPostgres, ensure_database
from app.jobs.registry import register_worker
from app.main import create_app
from tests.conftest import open_client


async def wait_for_status(
    client: httpx.AsyncClient, path: str, status: int, timeout: float
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


class TestLiveness:
    async def test_health_answers_without_touching_the_database(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


class TestReadiness:
    async def test_ready_when_database_and_schema_are_fine(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/ready")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"database": "ok", "migrations": "ok", "worker": "not expected"},
        }

    async def test_schema_behind_head_is_named(
        self, make_settings: Callable[..., Settings], second_postgres: EmbeddedPostgres
    ) -> None:
        await ensure_database(second_postgres, "never_migrated")
        settings = make_settings(database_url=second_postgres.url("never_migrated"), run_migrations=False)
        async with open_client(create_app(settings)) as client:
            response = await client.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["error"]["code"] == "not_ready"
        assert body["error"]["message"] == "Not ready: migrations"
        assert body["error"]["details"]["checks"]["migrations"].startswith("at nothing")

    async def test_expected_worker_needs_a_fresh_heartbeat(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        app.state.worker = object()
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["error"]["details"]["checks"]["worker"] == "no heartbeat yet"

        async with app.state.sessionmaker.begin() as session:
            await register_worker(session, "test-worker")
        response = await client.get("/health/ready")
        assert response.status_code == 200
        assert response.json()["checks"]["worker"] == "ok"
        app.state.worker = None


class TestDatabaseOutage:
    async def test_503_while_database_is_stopped_then_200_when_it_is_back(
        self, make_settings: Callable[..., Settings], second_postgres: EmbeddedPostgres
    ) -> None:
        # The app talks to "another PostgreSQL" through DATABASE_URL and migrates it at start.
        await ensure_database(second_postgres, "outage")
        settings = make_settings(database_url=second_postgres.url("outage"), run_migrations=True)
        app = create_app(settings)

        @app.get("/test/db")
        async def read_db(db: DbSession) -> dict[str, int]:
            return {"one": (await db.execute(text("SELECT 1"))).scalar_one()}

        async with open_client(app) as client:
            assert (await client.get("/health/ready")).status_code == 200
            await asyncio.to_thread(second_postgres.stop, force=True)
            try:
                ready = await client.get("/health/ready")
                query = await client.get("/test/db")
            finally:
                await asyncio.to_thread(second_postgres.start)
            back = await wait_for_status(client, "/health/ready", 200, timeout=15)
            query_back = await client.get("/test/db")

        assert ready.status_code == 503
        assert ready.headers["Retry-After"] == "5"
        assert ready.json()["error"]["message"] == "Not ready: database"
        assert ready.json()["error"]["details"]["checks"]["database"].startswith("unreachable")
        assert query.status_code == 503
        assert query.headers["Retry-After"] == "5"
        assert query.json()["error"]["code"] == "database_unavailable"
        assert back.status_code == 200
        assert query_back.json() == {"one": 1}
