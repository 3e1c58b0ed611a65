"""The one error body as the OpenAPI document describes it, for routes to declare their error answers.

Every error the API sends is `{"error": {"code", "message", "details"}, "request_id"}` (rendered by
`app.core.errors`); routes list the statuses they can answer with `error_responses(...)`, so /docs
shows that body (and not FastAPI's default `{"detail": [...]}`) under each of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorInfo(BaseModel):
    code: str = Field(
        description="Stable machine-readable code, e.g. `document_not_found`.", examples=["not_found"]
    )
    message: str = Field(description="One sentence for people.")
    details: Any = Field(None, description="Extra facts, e.g. the failing fields of a 422.")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorInfo
    request_id: str | None = Field(description="Also in the X-Request-ID header; quote it in reports.")


ERROR_DESCRIPTIONS = {
    400: "Malformed request (e.g. a broken multipart body).",
    404: "No such resource, or not yours.",
    408: "The upload stalled or took too long.",
    409: "Conflicts with the current state.",
    413: "The upload is larger than the limit.",
    415: "Not multipart/form-data, or the file is not a PDF.",
    422: "Validation failed: `details` lists the failing fields.",
    500: "Unexpected error; logged under the request id.",
    503: "Database unavailable (or, for readiness, not ready yet); see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these statuses, each with the error body."""
    return {status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}
