"""Fixtures for the documents tests: small PDFs made with fpdf2 and an upload helper."""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI, Request
from fpdf import FPDF
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.documents.dependencies import current_owner_id
from tests.reliability.pdf_bombs import pdf_with

Upload = Callable[..., Awaitable[httpx.Response]]

# Two users until authentication lands: `X-Test-User: A` or `B` picks the owner (no header: the
# shared scope). Only the dependency that names the owner is replaced; the routes are the real ones.
USERS = {"A": uuid.UUID(int=0xA), "B": uuid.UUID(int=0xB)}
AS_A, AS_B = {"X-Test-User": "A"}, {"X-Test-User": "B"}


async def owner_from_test_header(request: Request) -> uuid.UUID | None:
    name = request.headers.get("x-test-user")
    return USERS[name] if name else None


@pytest.fixture
def two_users(app: FastAPI) -> None:
    """Requests act as user A or B by the `X-Test-User` header (AS_A, AS_B)."""
    app.dependency_overrides[current_owner_id] = owner_from_test_header


def make_pdf(pages: int = 1, text: str = "tieout test document", *, pad_to: int = 0) -> bytes:
    """A valid PDF of `pages` pages; `pad_to` embeds random bytes to reach about that size (±2 KB)."""

    def build(padding: int) -> bytes:
        pdf = FPDF()
        pdf.set_font("helvetica", size=12)
        for number in range(1, pages + 1):
            pdf.add_page()
            pdf.cell(0, 10, f"{text} - page {number}")
        if padding > 0:
            # Random bytes do not compress, so the file really is that big.
            noise = random.Random(padding).randbytes(padding)
            pdf.embed_file(bytes=noise, basename="pad.bin", compress=False)
        return bytes(pdf.output())

    data = build(0)
    if pad_to > len(data):
        data = build(pad_to - len(data) - 400)
    return data


@pytest.fixture
def pdf_bytes() -> bytes:
    return make_pdf(2)


@pytest.fixture
def upload(client: httpx.AsyncClient) -> Upload:
    """`await upload(data, filename=..., headers=..., **fields)` posts one file to the upload route."""

    async def post(
        data: bytes,
        *,
        filename: str = "report.pdf",
        content_type: str = "application/pdf",
        headers: dict[str, str] | None = None,
        **fields: str,
    ) -> httpx.Response:
        files = {"file": (filename, io.BytesIO(data), content_type)}
        return await client.post("/api/v1/documents", files=files, data=fields, headers=headers or {})

    return post


def make_encrypted_pdf(*, user_password: str | None) -> bytes:
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 10, "confidential")
    return bytes(pdf.output())


async def call_asgi(app, chunks, *, headers: list[tuple[bytes, bytes]], stall: bool = False):
    """Drive the ASGI app by hand: returns (status, body, bytes_the_app_read).

    Lets a test send a body the client libraries would not (a lying Content-Length, a stalled
    stream) and see how much of it the server consumed before answering.
    """
    import asyncio

    pending = list(chunks)
    consumed = 0
    messages: list[dict] = []

    async def receive() -> dict:
        nonlocal consumed
        if pending:
            chunk = pending.pop(0)
            consumed += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or stall}
        if stall:
            await asyncio.Event().wait()  # never set: the client stopped sending
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/documents",
        "raw_path": b"/api/v1/documents",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "root_path": "",
        "state": {},
    }
    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body, consumed


def raw_pdf(page_extra: bytes = b"", *, declared_pages: int = 1, circular_prev: bool = False) -> bytes:
    """A hand-written one-page PDF with hostile details (reliability scenario 15).

    `declared_pages` lies in the page tree's /Count; `page_extra` goes into the page dictionary (e.g.
    100,000 nested arrays); `circular_prev` makes the trailer's /Prev point at its own xref.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % declared_pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " + page_extra + b" >>",
    ]
    return pdf_with(objects, trailer_extra=b" /Prev {xref}" if circular_prev else b"")


@pytest.fixture
async def db(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the app's database, to look at what the API committed."""
    engine = create_async_engine(fresh_database_url)
    yield engine
    await engine.dispose()


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)
