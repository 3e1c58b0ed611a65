"""The app shell: interactive docs, OpenAPI, CORS from settings, in-process worker wiring."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx

from app.core.config import Settings
from app.main import create_app
from tests.conftest import open_client


class TestDocs:
    async def test_swagger_ui_is_served_without_any_outside_address(self, client: httpx.AsyncClient) -> None:
        """The machines have no internet: every script and stylesheet /docs loads comes from us."""
        page = await client.get("/docs")
        assert page.status_code == 200
        assert "/openapi.json" in page.text
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        assert assets and all(asset.startswith("/docs/assets/") for asset in assets), assets
        for asset in assets:
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert response.content, asset
        bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert b"SwaggerUIBundle" in bundle.content
        # Swagger UI 5 renders OpenAPI 3.1, the version FastAPI writes (version 4 cannot).
        assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
        assert re.search(rb'"5\.\d+\.\d+"', bundle.content)

    async def test_redoc_is_off_rather_than_a_blank_cdn_page(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/redoc")).status_code == 404

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
