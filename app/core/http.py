"""HTTP plumbing: the process-wide outbound httpx client, and the inbound protocol `tieout serve` runs.

uvicorn has no timeout on receiving a request: its keep-alive timer is reset by every byte, so a
client that sends its request line and headers slowly (or never finishes them) holds a connection
for as long as it likes (uvicorn issue 157). `server_protocol()` returns uvicorn's own HTTP protocol
class with a deadline for the request head: armed when the connection opens and again when a
response completes, disarmed once a request's headers are complete (the body has the upload's own
idle and total limits). A late head is answered 408 with the one error body if any of it arrived,
and the connection is closed.

Past LIMIT_CONCURRENCY uvicorn answers 503 itself, in plain text; `server_protocol()` swaps that
answer for the one JSON error body, with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import httpx
import structlog
from uvicorn.protocols.http import h11_impl, httptools_impl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app import __version__
from app.core.config import Settings

log = structlog.get_logger("tieout.http")

_TIMEOUT_BODY = json.dumps(
    {
        "error": {
            "code": "header_timeout",
            "message": "The request line and headers did not arrive in time.",
            "details": None,
        },
        "request_id": None,
    }
).encode()
HEADER_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


_OVERLOADED_BODY = json.dumps(
    {
        "error": {
            "code": "server_busy",
            "message": "The server is at its concurrency limit; retry shortly.",
            "details": None,
        },
        "request_id": None,
    }
).encode()


async def service_unavailable(scope: Any, receive: Any, send: Any) -> None:
    """What uvicorn runs instead of the app past `limit_concurrency`: the one error body, as JSON."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_OVERLOADED_BODY)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _OVERLOADED_BODY, "more_body": False})


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """Shared client with explicit timeouts and connection limits; callers add retries themselves."""
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=10.0)
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": f"tieout/{__version__}"},
        follow_redirects=False,
    )


class _HeadDeadline:
    """Mixed into a uvicorn protocol: close the connection when a request head is late."""

    header_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = False
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: Any

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]  # the uvicorn protocol's
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_bytes = False
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_deadline_passed)

    def _disarm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_deadline_passed(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        # Nothing of a next request yet: an idle keep-alive connection, closed like uvicorn closes one.
        if self._head_bytes:
            self.transport.write(HEADER_TIMEOUT_RESPONSE)
        log.info("http.header_timeout", client=self.client, partial=self._head_bytes)
        self.transport.close()


class H11HeaderTimeout(_HeadDeadline, H11Protocol):
    def data_received(self, data: bytes) -> None:
        self._head_bytes = True
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request head arrived
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # IDLE: ready for the next request and none buffered (a pipelined one would have started).
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()


class HttpToolsHeaderTimeout(_HeadDeadline, HttpToolsProtocol):
    def data_received(self, data: bytes) -> None:
        self._head_bytes = True
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The latest request's response is done, so no pipelined request is waiting its turn.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._arm_head_deadline()


def server_protocol(header_timeout: float, *, parser: str = "httptools") -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (`httptools`, what uvicorn picks itself, or `h11`) with a
    request-head deadline of `header_timeout` seconds."""
    # uvicorn's protocols look this app up by module global each time they are over the limit.
    httptools_impl.service_unavailable = service_unavailable
    h11_impl.service_unavailable = service_unavailable
    base = HttpToolsHeaderTimeout if parser == "httptools" else H11HeaderTimeout
    return type(base.__name__, (base,), {"header_timeout": header_timeout})
