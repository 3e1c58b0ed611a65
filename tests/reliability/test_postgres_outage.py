"""Scenario 10, API side: while PostgreSQL is down, or when every app connection is terminated, each
API answer is a JSON 503 with `Retry-After` (never a 500), `/health/ready` names the database, and
once the server accepts connections again the same app serves without a restart; a 202 given before
the outage is durable.

Real embedded PostgreSQL (`second_postgres`, stopped and started by the test), the real app and
routes over ASGI; nothing of ours is mocked. The full-scale run (`tieout serve`, two worker
processes, 100 jobs, a crash restart and 10 s of killed connections under live traffic) is
`test_postgres_restart_full_scale.py`.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.pgserver import EmbeddedPostgres, ensure_database
from app.main import create_app
from tests.conftest import open_client
from tests.documents.conftest import make_pdf
from tests.jobs.waiting import wait_until

# Every route that reads or writes the database, as (method, path template); {job} and {document}
# are filled with ids that existed before the outage.
ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{job}"),
    ("POST", "/api/v1/jobs/{job}/cancel"),
    ("POST", "/api/v1/jobs/{job}/retry"),
    ("GET", "/api/v1/documents"),
    ("GET", "/api/v1/documents/{document}"),
    ("GET", "/api/v1/documents/{document}/file"),
    ("GET", "/api/v1/documents/{document}/statements"),
    ("POST", "/api/v1/documents/{document}/reprocess"),
    ("DELETE", "/api/v1/documents/{document}"),
    ("GET", "/api/v1/statements"),
    ("GET", f"/api/v1/statements/{uuid.uuid4()}"),
    ("GET", "/api/v1/usage"),
]


def upload_files(data: bytes, name: str = "report.pdf") -> dict:
    return {"file": (name, io.BytesIO(data), "application/pdf")}


def assert_outage_answer(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json"), what
    assert int(response.headers["Retry-After"]) > 0, what
    body = response.json()
    assert body["error"]["code"] in {"database_unavailable", "not_ready"}, (what, body)
    assert "Traceback" not in response.text and "asyncpg" not in response.text, what


@pytest.fixture
async def outage_app(
    make_settings: Callable[..., Settings], second_postgres: EmbeddedPostgres
) -> AsyncIterator[tuple[httpx.AsyncClient, EmbeddedPostgres, str]]:
    name = f"outage_{uuid.uuid4().hex[:8]}"
    await ensure_database(second_postgres, name)
    url = second_postgres.url(name)
    settings = make_settings(
        database_url=url, run_migrations=True, db_connect_timeout=2.0, db_pool_timeout=2.0
    )
    async with open_client(create_app(settings)) as client:
        try:
            yield client, second_postgres, url
        finally:
            if not second_postgres.running:
                await asyncio.to_thread(second_postgres.start)


async def call(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    return await client.request(method, path)


class TestPostgresStopped:
    async def test_every_route_is_a_json_503_then_serves_again_without_restart(
        self, outage_app: tuple[httpx.AsyncClient, EmbeddedPostgres, str]
    ) -> None:
        client, server, _ = outage_app
        before = await client.post("/api/v1/documents", files=upload_files(make_pdf(1, "before")))
        assert before.status_code == 202, before.text
        ids = {"job": before.json()["job_id"], "document": before.json()["document"]["id"]}
        assert (await client.get("/health/ready")).status_code == 200

        await asyncio.to_thread(server.stop, force=True)
        try:
            answers = {
                f"{method} {path}": await call(client, method, path.format(**ids)) for method, path in ROUTES
            }
            answers["POST /api/v1/documents"] = await client.post(
                "/api/v1/documents", files=upload_files(make_pdf(1, "during"))
            )
            ready = await client.get("/health/ready")
            live = await client.get("/health")
        finally:
            await asyncio.to_thread(server.start)

        for what, response in answers.items():
            assert_outage_answer(response, what)
        assert_outage_answer(ready, "/health/ready")
        assert ready.json()["error"]["details"]["checks"]["database"].startswith("unreachable")
        assert live.status_code == 200  # liveness does not depend on the database

        async def serving() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await wait_until(serving, timeout=20, interval=0.1, what="readiness after the restart")
        # The same app object serves reads and writes again; the 202 from before is durable.
        job = await client.get(f"/api/v1/jobs/{ids['job']}")
        assert job.status_code == 200 and job.json()["status"] == "pending"
        document = await client.get(f"/api/v1/documents/{ids['document']}")
        assert document.status_code == 200
        after = await client.post("/api/v1/documents", files=upload_files(make_pdf(1, "after")))
        assert after.status_code == 202, after.text
        listing = await client.get("/api/v1/documents")
        assert listing.status_code == 200 and len(listing.json()["items"]) == 2


class TestConnectionsTerminated:
    async def test_killed_backends_never_give_a_500(
        self, outage_app: tuple[httpx.AsyncClient, EmbeddedPostgres, str]
    ) -> None:
        """`pg_terminate_backend` every connection of the app's database, repeatedly, between requests."""
        client, _, url = outage_app
        created = await client.post("/api/v1/documents", files=upload_files(make_pdf(1, "kept")))
        assert created.status_code == 202
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        statuses: list[int] = []
        try:
            for round_number in range(10):
                async with admin.connect() as conn:
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                responses = [
                    await client.get("/api/v1/jobs"),
                    await client.get("/api/v1/documents"),
                    await client.post(
                        "/api/v1/documents", files=upload_files(make_pdf(1, f"round {round_number}"))
                    ),
                    await client.get("/health/ready"),
                ]
                for response in responses:
                    statuses.append(response.status_code)
                    if response.status_code == 503:
                        assert_outage_answer(response, str(response.request.url))
                    else:
                        assert response.status_code in (200, 202), response.text
        finally:
            await admin.dispose()

        assert 500 not in statuses
        # pool_pre_ping replaces dead connections: the API keeps serving while the server is up.
        assert statuses.count(503) <= len(statuses) // 4, statuses
        async with create_async_engine(url, poolclass=NullPool).connect() as conn:
            documents = await conn.scalar(text("SELECT count(*) FROM documents"))
            jobs_without_document = await conn.scalar(
                text(
                    "SELECT count(*) FROM jobs j WHERE j.args ? 'document_id' AND NOT EXISTS "
                    "(SELECT 1 FROM documents d WHERE d.id::text = j.args ->> 'document_id')"
                )
            )
        assert documents == 1 + statuses[2::4].count(202)
        assert jobs_without_document == 0
