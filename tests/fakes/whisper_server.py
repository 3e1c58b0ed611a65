"""A real HTTP fake of LLMWhisperer v2 on 127.0.0.1, with fault switches, for tests and local runs.

Input: HTTP requests under `/api/v2` as the real service takes them (query parameters, raw body,
`unstract-key` header). Output: the answers of `whisper_jobs.FakeWhisperState`, unless a queued
`Fault` for that endpoint says otherwise (status + Retry-After, 5xx bursts, connection reset before or
after the request is processed, delays beyond the client time-out, malformed bodies, held answers).
Invariants: binds loopback only; every request is counted per endpoint before faults apply; `stop()`
releases every held or delayed handler.

It is built on `http.server` rather than an ASGI app because a connection reset after the job was
accepted needs the raw socket. Standalone:
    python -m tests.fakes.whisper_server --port 8765 --canned DIR [--api-key KEY]
DIR holds `name.pdf` + `name.txt` pairs or `<sha256>.txt` files (pages split on `<<<` + form feed).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.whisper_jobs import FakeWhisperState

PREFIX = "/api/v2/"
ENDPOINTS = (
    "whisper",
    "whisper-status",
    "whisper-retrieve",
    "whisper-detail",
    "highlights",
    "get-usage-info",
    "whisper-manage-callback",
    "test-connection",
)


@dataclass
class Fault:
    """What to do instead of (or after) the real answer; `status=None` keeps the real answer."""

    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    process: bool = False
    delay: float = 0.0
    gate: threading.Event | None = None


@dataclass(frozen=True)
class Call:
    method: str
    endpoint: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: dict[str, str]
    at: float


class FakeWhisperServer:
    def __init__(self, port: int = 0, api_keys: set[str] | None = None) -> None:
        self.state = FakeWhisperState(api_keys)
        self.calls: Counter[str] = Counter()
        self.log: list[Call] = []
        self.latency = 0.0
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def start(self) -> FakeWhisperServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-whisper", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeWhisperServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def register(
        self, pdf: bytes | str, pages: list[str] | dict[int, str], low_confidence: dict | None = None
    ) -> str:
        return self.state.register(pdf, pages, low_confidence)

    def fail(self, endpoint: str, fault: Fault, times: int = 1) -> None:
        """Apply `fault` to the next `times` requests to `endpoint` (e.g. "whisper-status")."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            self._faults.setdefault(endpoint, deque()).extend([fault] * times)

    def hold(self, endpoint: str) -> threading.Event:
        """Hold the next request to `endpoint` until the returned event is set (or the server stops)."""
        gate = threading.Event()
        self.fail(endpoint, Fault(gate=gate))
        return gate

    def next_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(endpoint)
            return queue.popleft() if queue else None

    def wait(self, fault: Fault) -> None:
        delay = max(fault.delay, self.latency)
        if fault.gate is not None:
            while not fault.gate.wait(0.05) and not self.stopping.is_set():
                pass
        elif delay:
            self.stopping.wait(delay)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls[call.endpoint] += 1
            self.log.append(call)

    def queries(self, endpoint: str) -> list[dict[str, str]]:
        with self._lock:
            return [dict(c.query) for c in self.log if c.endpoint == endpoint]


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeLLMWhisperer/2"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        fake: FakeWhisperServer = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        endpoint = url.path.removeprefix(PREFIX).strip("/")
        query = parse_qsl(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.record(
            Call(
                method,
                endpoint,
                query,
                url.query,
                {k.lower(): v for k, v in self.headers.items()},
                time.monotonic(),
            )
        )
        fault = fake.next_fault(endpoint) or Fault()
        fake.wait(fault)
        if fake.stopping.is_set():
            return self._reset()
        if fault.process or (fault.status is None and not fault.reset):
            status, payload = self._answer(fake, method, endpoint, dict(query), body)
        if fault.reset:
            return self._reset()
        if fault.status is not None:
            status, payload = fault.status, fault.body if fault.body is not None else b""
        self._respond(status, payload, fault.headers)

    def _answer(self, fake: FakeWhisperServer, method: str, endpoint: str, query: dict, body: bytes):
        state = fake.state
        denied = state.authorized(self.headers.get("unstract-key"))
        if endpoint not in ENDPOINTS:
            return 404, {"message": "Not Found"}
        if denied:
            return denied
        whisper_hash = query.get("whisper_hash", "")
        if endpoint == "whisper" and method == "POST":
            return state.submit(query, body)
        if endpoint == "whisper-status":
            return state.status(whisper_hash)
        if endpoint == "whisper-retrieve":
            return state.retrieve(whisper_hash)
        if endpoint == "whisper-detail":
            return state.detail(whisper_hash)
        if endpoint == "highlights":
            return state.highlights(whisper_hash, query.get("lines", ""))
        if endpoint == "get-usage-info":
            return state.usage_info()
        if endpoint == "whisper-manage-callback":
            payload = json.loads(body or b"{}") if method in ("POST", "PUT") else {}
            return state.webhook(method, query, payload)
        if endpoint == "test-connection":
            return 200, {"message": "OK"}
        return 405, {"message": "Method Not Allowed"}

    def _respond(self, status: int, payload: object, headers: dict[str, str]) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if not isinstance(payload, bytes):
                self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0) so the client sees a reset, not a clean end of stream."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.wfile = BytesIO()
        self.close_connection = True


def load_canned(directory: Path, server: FakeWhisperServer) -> int:
    """Register `name.pdf`+`name.txt` pairs and `<sha256>.txt` files; returns how many."""
    count = 0
    for text_file in sorted(directory.glob("*.txt")):
        pages = split_canned(text_file.read_text(encoding="utf-8"))
        pdf = text_file.with_suffix(".pdf")
        if pdf.exists():
            server.register(pdf.read_bytes(), pages)
        elif len(text_file.stem) == 64:
            server.register(text_file.stem.lower(), pages)
        else:
            continue
        count += 1
    return count


def split_canned(text: str) -> dict[int, str]:
    """Pages of a saved output. A corpus `# …` header ending in a `====` line is dropped; its
    `# Pages Extracted: [39, 41, …]` (or `# Page: 39`) line says which pages the text holds."""
    numbers: list[int] = []
    head, rule, rest = text.partition("\n" + "=" * 80 + "\n")
    if rule and all(line.startswith("#") for line in head.splitlines() if line.strip()):
        text = rest
        listed = re.search(r"^# Pages? (?:Extracted)?:\s*\[?([\d, ]+)\]?", head, re.MULTILINE)
        numbers = sorted(int(n) for n in re.findall(r"\d+", listed.group(1))) if listed else []
    separator = "<<<\f" if "<<<\f" in text else "\f"
    chunks = [chunk for chunk in text.split(separator) if chunk.strip()] or [text]
    if len(numbers) != len(chunks):
        numbers = list(range(1, len(chunks) + 1))
    return dict(zip(numbers, chunks, strict=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake LLMWhisperer v2 on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--canned", type=Path)
    parser.add_argument("--api-key", action="append", dest="api_keys")
    parser.add_argument("--status-script", default="processing,processed")
    args = parser.parse_args(argv)
    server = FakeWhisperServer(args.port, set(args.api_keys or ["test-key"]))
    server.state.status_script = args.status_script.split(",")
    loaded = load_canned(args.canned, server) if args.canned else 0
    print(f"fake LLMWhisperer on {server.base_url} ({loaded} canned files)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
