"""The app shell: interactive docs, OpenAPI, CORS from settings, in-process worker wiring."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from tests.conftest import open_client


class TestDocs:
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    async def test_interactive_docs_are_served(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert "/openapi.json" in response.text

    async def test_openapi_lists_health_routes(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/openapi.json")).json()
        assert {"/health", "/health/ready"} <= set(spec["paths"])
        assert spec["info"]["title"] == "tieout"


class TestCors:
    async def test_allowed_origin_gets_cors_headers(
        self, make_settings: Callable[..., Settings], fresh_database_url: str
    ) -> None:
        settings = make_settings(database_url=fresh_database_url, cors_origins=["https://app.example"])
        async with open_client(create_app(settings)) as client:
            preflight = await client.options(
                "/health",
                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
            )
            other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in other.headers

    async def test_no_cors_headers_without_configured_origins(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in response.headers


class TestInProcessWorker:
    async def test_serve_runs_the_worker_and_readiness_sees_its_heartbeat(
        self, make_settings: Callable[..., Settings], fresh_database_url: str
    ) -> None:
        settings = make_settings(database_url=fresh_database_url, run_worker=True)
        app = create_app(settings)
        async with open_client(app) as client:
            assert app.state.worker is not None
            deadline = time.monotonic() + 15
            response = await client.get("/health/ready")
            while response.status_code != 200 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["worker"] == "ok"
