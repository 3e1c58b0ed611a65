"""One error body everywhere: 404, 405, 422, domain errors, HTTPException, unexpected 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from app.core.errors import ConflictError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError
from app.core.middleware import MULTIPART_ALLOWANCE

LIMIT = 1024 * 1024 + MULTIPART_ALLOWANCE  # the test profile's MAX_UPLOAD_BYTES plus multipart room


class Payload(BaseModel):
    name: str
    count: int


@pytest.fixture
def routes(app: FastAPI) -> FastAPI:
    @app.post("/test/items")
    async def create_item(payload: Payload) -> Payload:
        return payload

    @app.get("/test/missing")
    async def get_missing() -> None:
        raise NotFoundError("document_not_found", "No such document", {"document_id": 7})

    @app.get("/test/conflict")
    async def get_conflict() -> None:
        raise ConflictError()

    @app.get("/test/too-large")
    async def get_too_large() -> None:
        raise PayloadTooLargeError(details={"limit": 10})

    @app.get("/test/unavailable")
    async def get_unavailable() -> None:
        raise ServiceUnavailableError("whisper_down", "LLMWhisperer is unavailable", retry_after=30)

    @app.get("/test/http")
    async def get_http() -> None:
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/test/boom")
    async def get_boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body["error"]


class TestErrorBody:
    async def test_unknown_route_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Not Found", "details": None}

    async def test_wrong_method_is_405(self, routes: FastAPI, client: httpx.AsyncClient) -> None:
        response = await client.delete("/test/items")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"

    async def test_payload_validation_is_422_without_echoing_input(
        self, routes: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/test/items", json={"name": "hunter2", "count": "many"})
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert error["details"] == [
            {
                "loc": ["body", "count"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ]
        assert error["message"] == (
            "Invalid body field 'count': Input should be a valid integer, "
            "unable to parse string as an integer."
        )
        assert "hunter2" not in response.text

    async def test_validation_message_names_the_first_bad_query_parameter(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/documents", params={"limit": "lots", "status": "bogus"})
        assert response.status_code == 422
        message = error_of(response)["message"]
        assert message.startswith("Invalid query parameter '") and "(and 1 more)" in message, message

    @pytest.mark.parametrize(
        ("path", "status", "code"),
        [
            ("/test/missing", 404, "document_not_found"),
            ("/test/conflict", 409, "conflict"),
            ("/test/too-large", 413, "payload_too_large"),
            ("/test/unavailable", 503, "whisper_down"),
            ("/test/http", 401, "unauthorized"),
        ],
    )
    async def test_raised_errors_keep_their_status_and_code(
        self, routes: FastAPI, client: httpx.AsyncClient, path: str, status: int, code: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == status
        assert error_of(response)["code"] == code

    async def test_domain_error_details_and_headers(self, routes: FastAPI, client: httpx.AsyncClient) -> None:
        missing = await client.get("/test/missing")
        assert error_of(missing)["details"] == {"document_id": 7}
        assert (await client.get("/test/unavailable")).headers["Retry-After"] == "30"
        assert (await client.get("/test/http")).headers["WWW-Authenticate"] == "Bearer"

    async def test_unexpected_exception_is_500_without_internals(
        self, routes: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/test/boom", headers={"X-Request-ID": "boom-1"})
        assert response.status_code == 500
        assert response.json() == {
            "error": {"code": "internal_error", "message": "Internal server error", "details": None},
            "request_id": "boom-1",
        }
        assert "hunter2" not in response.text

    async def test_declared_body_over_the_limit_is_413(
        self, routes: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/test/items", content=b"x" * (LIMIT + 1))
        assert response.status_code == 413
        assert error_of(response)["code"] == "payload_too_large"

    async def test_streamed_body_over_the_limit_is_413(
        self, routes: FastAPI, client: httpx.AsyncClient
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(LIMIT // 65536 + 2):
                yield b"x" * 65536

        response = await client.post("/test/items", content=chunks())
        assert response.status_code == 413
        assert error_of(response)["details"] == {"limit_bytes": LIMIT}

    async def test_body_under_the_limit_passes(self, routes: FastAPI, client: httpx.AsyncClient) -> None:
        response = await client.post("/test/items", json={"name": "n" * 1000, "count": 1})
        assert response.status_code == 200


class TestDatabaseUnavailable:
    def test_socket_errors_outside_the_driver_are_not_database_outages(self) -> None:
        from app.core.errors import is_database_unavailable

        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            assert not is_database_unavailable(exc)

    def test_sqlalchemy_operational_error_is_an_outage(self) -> None:
        from sqlalchemy.exc import OperationalError

        from app.core.errors import is_database_unavailable

        assert is_database_unavailable(OperationalError("SELECT 1", {}, Exception("server closed")))
