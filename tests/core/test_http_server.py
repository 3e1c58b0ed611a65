"""The request-head deadline of `tieout serve` (reliability.md scenario 19, "Request receipt" default),
against a real uvicorn server on 127.0.0.1 running each of uvicorn's two HTTP parsers.

A head that is late is closed (408 with the one error body when part of it arrived); a head that
arrives in time is not, however long its body or its response takes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from app.cli import server_config
from app.core.config import Settings
from app.core.http import server_protocol

TIMEOUT = 0.6  # the head deadline of the server under test
GIVE_UP = TIMEOUT + 5.0  # a client waits this long before deciding the server never closed


async def tiny_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """`/slow` answers after 2 deadlines; anything else reads the whole body and answers its size."""
    if scope["type"] != "http":
        return
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    if scope["path"] == "/slow":
        await asyncio.sleep(2 * TIMEOUT)
    body = str(size).encode()
    headers = [(b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Running:
    port: int
    server: uvicorn.Server


@asynccontextmanager
async def uvicorn_on_loopback(parser: str, head_timeout: float, **options: Any) -> AsyncIterator[Running]:
    """`tiny_app` on a real uvicorn server on 127.0.0.1 with our protocol class; stopped on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        tiny_app,
        lifespan="off",
        log_config=None,
        access_log=False,
        http=server_protocol(head_timeout, parser=parser),
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield Running(sock.getsockname()[1], server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture(params=["httptools", "h11"])
async def running(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    async with uvicorn_on_loopback(request.param, TIMEOUT) as server:
        yield server


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes; b"<open>" if it is still open after GIVE_UP."""
    data = b""
    try:
        async with asyncio.timeout(GIVE_UP):
            while chunk := await reader.read(4096):
                data += chunk
    except TimeoutError:
        return data + b"<open>"
    except ConnectionResetError:
        return data + b"<reset>"
    return data


def request(path: str = "/ok", body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP)
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    length = int({name.lower(): value for name, value in fields.items()}[b"content-length"])
    return head + await asyncio.wait_for(reader.readexactly(length), GIVE_UP)


class TestLateHeads:
    async def test_a_silent_connection_is_closed_at_the_deadline(self, running: Running) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        started = time.monotonic()
        answer = await until_closed(reader)
        elapsed = time.monotonic() - started
        writer.close()
        assert answer in (b"", b"<reset>")  # nothing of a request arrived: closed without an answer
        assert 0.8 * TIMEOUT <= elapsed <= TIMEOUT + 2

    async def test_a_partial_request_line_gets_408_with_the_error_body(self, running: Running) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.write(b"POST /ok HT")
        await writer.drain()
        started = time.monotonic()
        answer = await until_closed(reader)
        elapsed = time.monotonic() - started
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body == {
            "error": {"code": "header_timeout", "message": body["error"]["message"], "details": None},
            "request_id": None,
        }
        assert 0.8 * TIMEOUT <= elapsed <= TIMEOUT + 2

    async def test_headers_trickled_byte_by_byte_are_cut_at_the_deadline(self, running: Running) -> None:
        """Every byte arrives well inside uvicorn's keep-alive timeout; the head as a whole does not."""
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        head = b"POST /ok HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"a" * 100 + b"\r\n\r\n"
        started = time.monotonic()

        async def trickle() -> None:
            for byte in head:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)

        sender = asyncio.create_task(trickle())
        answer = await until_closed(reader)
        elapsed = time.monotonic() - started
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert elapsed <= TIMEOUT + 2  # the whole head would have taken 6 s

    async def test_the_next_head_on_a_kept_alive_connection_has_its_own_deadline(
        self, running: Running
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        # Three requests spread over more than one deadline since the connection opened: the
        # deadline restarts after each response, so none of them is cut.
        for number in range(3):
            if number:
                await asyncio.sleep(0.7 * TIMEOUT)
            writer.write(request(body=b"x" * number))
            assert (await read_response(reader)).startswith(b"HTTP/1.1 200 ")
        writer.write(b"POST /ok HTTP/1.1\r\nHo")  # a fourth head that never finishes
        await writer.drain()
        answer = await until_closed(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer


class TestTimelyHeads:
    async def test_a_slow_body_after_a_timely_head_is_not_cut(self, running: Running) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        body = b"y" * 50
        writer.write(b"POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\n")
        for start in range(0, len(body), 10):  # 5 pieces over 2 deadlines
            await asyncio.sleep(0.4 * TIMEOUT)
            writer.write(body[start : start + 10])
            await writer.drain()
        response = await read_response(reader)
        writer.close()
        assert response.startswith(b"HTTP/1.1 200 ") and response.endswith(b"\r\n\r\n50")

    async def test_a_response_slower_than_the_deadline_is_not_cut(self, running: Running) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.write(request("/slow"))
        response = await read_response(reader)
        writer.close()
        assert response.startswith(b"HTTP/1.1 200 ")


class TestServeConfig:
    def test_serve_sets_the_head_deadline_and_a_concurrency_limit(self) -> None:
        settings = Settings(_env_file=None, header_timeout_seconds=7, limit_concurrency=42)  # type: ignore[call-arg]
        config = server_config(tiny_app, settings)
        assert config.limit_concurrency == 42
        assert config.http.header_timeout == 7  # type: ignore[union-attr]
        config.load()
        assert issubclass(config.http_protocol_class, uvicorn.protocols.http.httptools_impl.HttpToolsProtocol)

    def test_defaults_follow_the_reliability_guide(self) -> None:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.header_timeout_seconds == 10
        assert settings.limit_concurrency == 500


@pytest.mark.parametrize("parser", ["httptools", "h11"])
async def test_past_the_concurrency_limit_the_503_is_the_json_error_body(parser: str) -> None:
    """uvicorn's own overload answer is plain text; ours is the one error body with Retry-After."""
    # uvicorn counts connections plus running requests against the limit.
    async with uvicorn_on_loopback(parser, 10.0, limit_concurrency=2) as running:
        _, busy = await asyncio.open_connection("127.0.0.1", running.port)
        busy.write(request("/slow"))  # holds a connection and a running request
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        writer.write(request())
        answer = await read_response(reader)
        writer.close()
        busy.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503")
    assert b"retry-after: 1" in head.lower() and b"application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "server_busy"
