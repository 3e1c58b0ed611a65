"""The domain error types: a stable code, a message, an HTTP status and details.

Kept free of web-framework imports so pure and command-line code can raise them cheaply;
`app.core.errors` renders them as the one error body.
"""

from __future__ import annotations

from typing import Any

DB_RETRY_AFTER_SECONDS = 5


class TieoutError(Exception):
    """Base of every domain error: a stable `code`, a human message, an HTTP status and details."""

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int = 400,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.details = details
        self.headers = headers or {}


class NotFoundError(TieoutError):
    def __init__(self, code: str = "not_found", message: str = "Not found", details: Any = None) -> None:
        super().__init__(code, message, 404, details)


class ConflictError(TieoutError):
    def __init__(self, code: str = "conflict", message: str = "Conflict", details: Any = None) -> None:
        super().__init__(code, message, 409, details)


class PayloadTooLargeError(TieoutError):
    def __init__(
        self, code: str = "payload_too_large", message: str = "Payload too large", details: Any = None
    ) -> None:
        super().__init__(code, message, 413, details)


class ServiceUnavailableError(TieoutError):
    def __init__(
        self,
        code: str = "service_unavailable",
        message: str = "Service unavailable",
        details: Any = None,
        retry_after: int = DB_RETRY_AFTER_SECONDS,
    ) -> None:
        super().__init__(code, message, 503, details, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after
