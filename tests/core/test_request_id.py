"""X-Request-ID: accepted or made, returned on every response, bound into every log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import structlog
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from tests.conftest import open_client


@pytest.fixture
async def verbose_client(
    make_settings: Callable[..., Settings], fresh_database_url: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(database_url=fresh_database_url, log_level="INFO"))

    @app.get("/test/log")
    async def log_something() -> dict[str, bool]:
        structlog.get_logger("tests").info("test.inside_handler")
        logging.getLogger("tests.stdlib").warning("plain stdlib line")
        return {"ok": True}

    async with open_client(app) as client:
        yield app, client


class TestRequestId:
    async def test_incoming_id_is_returned(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "req-123.abc"})
        assert response.headers["X-Request-ID"] == "req-123.abc"

    async def test_missing_id_is_made(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/health")).headers["X-Request-ID"]
        second = (await client.get("/health")).headers["X-Request-ID"]
        assert len(first) == 32
        assert first != second

    @pytest.mark.parametrize("bad", ["has space", "x" * 129, "new\\nline", "<script>"])
    async def test_unsafe_incoming_id_is_replaced(self, client: httpx.AsyncClient, bad: str) -> None:
        response = await client.get("/health", headers={"X-Request-ID": bad})
        assert response.headers["X-Request-ID"] != bad
        assert len(response.headers["X-Request-ID"]) == 32

    async def test_id_is_bound_into_every_log_line_of_the_request(
        self, verbose_client: tuple[FastAPI, httpx.AsyncClient], capsys: pytest.CaptureFixture[str]
    ) -> None:
        _, client = verbose_client
        capsys.readouterr()
        await client.get("/test/log", headers={"X-Request-ID": "trace-me-42"})
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        inside = [line for line in lines if "test.inside_handler" in line]
        stdlib = [line for line in lines if "plain stdlib line" in line]
        access = [line for line in lines if "http.request" in line and "/test/log" in line]
        for found in (inside, stdlib, access):
            assert len(found) == 1
            assert "request_id=trace-me-42" in found[0]
        assert "duration_ms=" in access[0]
        assert "status=200" in access[0]
