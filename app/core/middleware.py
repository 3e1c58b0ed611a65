"""ASGI middleware: request id in and out, bound into every log line; access log; CORS."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import (
    REQUEST_ID_SCOPE_KEY,
    PayloadTooLargeError,
    error_response,
    unexpected_error_response,
)

log = structlog.get_logger("tieout.http")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and cannot smuggle anything into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
QUIET_PATHS = frozenset({"/health", "/health/ready"})
# Room for multipart boundaries and small fields on top of the file itself, so an upload route's
# own, exact size check answers first.
MULTIPART_ALLOWANCE = 64 * 1024


def describe_size(size: int) -> str:
    """`52428800` → `"50 MB"`, `1000` → `"1000 bytes"`: sizes as a person reads them."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Outermost middleware: request id, access log with duration, last-resort error body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        status_code = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status_code, started
            if message["type"] == "http.response.start":
                started = True
                status_code = message["status"]
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers.append(REQUEST_ID_HEADER, request_id)
            await send(message)

        begin = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if started:
                    log.error("request.failed_after_response_started", exc_info=exc)
                    raise
                response = unexpected_error_response(request_id, exc)
                await response(scope, receive, send_with_id)
            finally:
                self._log_access(scope, status_code, time.perf_counter() - begin)

    @staticmethod
    def _log_access(scope: Scope, status_code: int, seconds: float) -> None:
        path = scope.get("path", "")
        client = scope.get("client")
        fields = {
            "method": scope.get("method"),
            "path": path,
            "status": status_code,
            "duration_ms": round(seconds * 1000, 2),
            "client": f"{client[0]}:{client[1]}" if client else None,
        }
        if path in QUIET_PATHS and status_code < 400:
            log.debug("http.request", **fields)
        else:
            log.info("http.request", **fields)


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, counting streamed bytes, not only Content-Length."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_limit_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # The limit users configure (MAX_UPLOAD_BYTES), which the message names instead of the
        # slightly larger body limit that leaves room for the multipart framing.
        self.upload_limit_bytes = upload_limit_bytes or max_bytes

    def _too_large(self, scope: Scope) -> Message:
        return error_response(
            scope.get(REQUEST_ID_SCOPE_KEY),
            413,
            "payload_too_large",
            f"The request is larger than the upload limit of {describe_size(self.upload_limit_bytes)}.",
            {"limit_bytes": self.max_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(scope)(scope, receive, send)
                return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise PayloadTooLargeError(details={"limit_bytes": self.max_bytes})
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Once the limit is hit, whatever the app makes of the error is replaced by our 413.
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not (exceeded and not started):
                raise
        if exceeded and not started:
            await self._too_large(scope)(scope, receive, send)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    # add_middleware wraps: the last one added runs first.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_upload_bytes + MULTIPART_ALLOWANCE,
        upload_limit_bytes=settings.max_upload_bytes,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[REQUEST_ID_HEADER, "Location", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)
