"""The OpenAPI document at /docs describes what the API really answers: summaries, the one error body
under every error status, 404 on every route that takes an id, the SSE stream's media type."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.config import Settings
from app.main import create_app

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


class TestErrorResponses:
    def test_every_error_status_shows_the_one_error_body(self, spec: dict[str, Any]) -> None:
        for method, path, op in operations(spec):
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == ERROR_BODY, f"{method} {path} {status}"

    def test_fastapis_default_validation_body_is_not_advertised(self, spec: dict[str, Any]) -> None:
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        body = spec["components"]["schemas"]["ErrorBody"]
        assert set(body["properties"]) == {"error", "request_id"}

    def test_every_api_route_lists_validation_and_outage_errors(self, spec: dict[str, Any]) -> None:
        for method, path, op in operations(spec):
            if path.startswith("/api/v1/"):
                assert {"422", "500", "503"} <= set(op["responses"]), f"{method} {path}"

    def test_routes_with_an_id_can_answer_404(self, spec: dict[str, Any]) -> None:
        for method, path, op in operations(spec):
            if "_id}" in path:
                assert "404" in op["responses"], f"{method} {path}"

    @pytest.mark.parametrize(
        ("method", "path", "statuses"),
        [
            ("post", "/api/v1/documents", {"400", "408", "409", "413", "415"}),
            ("post", "/api/v1/documents/{document_id}/reprocess", {"409"}),
            ("post", "/api/v1/jobs/{job_id}/cancel", {"409"}),
            ("post", "/api/v1/jobs/{job_id}/retry", {"409"}),
            ("get", "/health/ready", {"503"}),
        ],
    )
    def test_conflicts_and_upload_limits_are_documented(
        self, spec: dict[str, Any], method: str, path: str, statuses: set[str]
    ) -> None:
        assert statuses <= set(spec["paths"][path][method]["responses"])


class TestDescriptions:
    def test_every_operation_has_a_written_summary(self, spec: dict[str, Any]) -> None:
        for method, path, op in operations(spec):
            generated = op["operationId"].split("_api_v1")[0].split("_health")[0].replace("_", " ").title()
            assert op.get("summary") and op["summary"] != generated, f"{method} {path}: {op.get('summary')}"

    def test_the_event_stream_is_text_event_stream(self, spec: dict[str, Any]) -> None:
        ok = spec["paths"]["/api/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]
        assert list(ok["content"]) == ["text/event-stream"]

    @pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/documents/{document_id}/reprocess"])
    def test_accepted_answers_document_their_location_header(self, spec: dict[str, Any], path: str) -> None:
        assert "Location" in spec["paths"][path]["post"]["responses"]["202"]["headers"]
