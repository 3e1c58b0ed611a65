"""One error type and one error body: `{"error": {"code", "message", "details"}, "request_id"}`."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.exceptions import (
    DB_RETRY_AFTER_SECONDS,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    TieoutError,
)

__all__ = [
    "DB_RETRY_AFTER_SECONDS",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceUnavailableError",
    "TieoutError",
]

log = structlog.get_logger("tieout.errors")

REQUEST_ID_SCOPE_KEY = "tieout.request_id"


def error_response(
    request_id: str | None,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {"code": code, "message": message, "details": jsonable_encoder(details)},
        "request_id": request_id,
    }
    response_headers = dict(headers or {})
    if request_id:
        response_headers["X-Request-ID"] = request_id
    return JSONResponse(body, status_code=status_code, headers=response_headers)


def request_id_of(request: Request) -> str | None:
    return request.scope.get(REQUEST_ID_SCOPE_KEY)


def _status_code_name(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


async def handle_tieout_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TieoutError)
    return error_response(
        request_id_of(request), exc.status_code, exc.code, exc.message, exc.details, exc.headers
    )


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.detail, str):
        message, details = exc.detail, None
    else:
        message, details = HTTPStatus(exc.status_code).phrase, exc.detail
    code = _status_code_name(exc.status_code)
    return error_response(request_id_of(request), exc.status_code, code, message, details, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Echoing "input" back could repeat a password or a token; loc, msg and type are enough.
    details = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    message = validation_message(details)
    return error_response(request_id_of(request), 422, "validation_error", message, details)


def validation_message(details: list[dict[str, Any]]) -> str:
    """One line naming the first bad field: "Invalid query parameter 'limit': Input should be ...".

    The full list stays in `details`; the message says where to look without reading it."""
    if not details:
        return "Request validation failed."
    where, *path = [str(part) for part in details[0]["loc"]] or ["request"]
    kind = {"query": "query parameter", "path": "path parameter", "header": "header", "body": "body field"}
    field = ".".join(path)
    place = f"{kind.get(where, where)} '{field}'" if field else kind.get(where, where)
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"Invalid {place}: {details[0]['msg']}{more}."


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it was raised from or during (`__cause__`, else `__context__`), once each."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_database_unavailable(exc: BaseException) -> bool:
    """True for connection-level database failures (server down, restarting, pool exhausted)."""
    return any(_connection_failure(error) for error in exception_chain(exc))


def _connection_failure(current: BaseException) -> bool:
    """One error of the chain: a lost or refused database connection."""
    if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
        return True
    if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    # Socket-level errors count only when the database driver raised them, not e.g. an SMTP call.
    if isinstance(current, ConnectionError | TimeoutError) and _raised_by_driver(current):
        return True
    refused = isinstance(current, OSError) and current.errno in {errno.ECONNREFUSED, errno.ENOENT}
    if refused and _raised_by_driver(current):
        return True
    return type(current).__module__.startswith("asyncpg") and type(current).__name__ in _ASYNCPG_LOST


_ASYNCPG_LOST = frozenset(
    {"CannotConnectNowError", "ConnectionDoesNotExistError", "ConnectionFailureError", "AdminShutdownError"}
)


def is_storage_full(exc: BaseException) -> bool:
    """True when PostgreSQL had no room for a write: SQLSTATE 53100 `disk_full` (e.g. a relation
    that could not be extended); the transaction was rolled back, the server itself is up."""
    return any(
        getattr(error, "sqlstate", None) == "53100" or getattr(error, "pgcode", None) == "53100"
        for error in exception_chain(exc)
    )


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "asyncpg" in filename or "sqlalchemy" in filename:
            return True
        tb = tb.tb_next
    return False


def unexpected_error_response(request_id: str | None, exc: BaseException) -> JSONResponse:
    """The answer to an exception no handler claimed: 503 for a database outage, 507 for a full
    database volume, else a bare 500."""
    if is_database_unavailable(exc):
        log.warning("db.unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return error_response(
            request_id,
            503,
            "database_unavailable",
            "The database is unavailable; retry shortly",
            headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
        )
    if is_storage_full(exc):
        log.warning("db.storage_full", detail=str(exc)[:200])
        return error_response(
            request_id,
            507,
            "storage_full",
            "The server is out of storage space; retry later.",
            headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
        )
    log.error("request.unhandled_exception", exc_info=exc)
    return error_response(request_id, 500, "internal_error", "Internal server error")


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(request_id_of(request), exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TieoutError, handle_tieout_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
