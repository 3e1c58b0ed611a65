"""Scenario 15 (b) and (c) through the real job path: a nested FlateDecode bomb and a giant page or
image end in the sandbox's limits (or are skipped); the job is `failed` with a clear message or
finishes without statements, nothing stays `running`, and the worker runs the next job.

The extraction children run under a 256 MiB RLIMIT_AS (the test profile in reliability.md (c)).
"""

from __future__ import annotations

import io
import zlib

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.jobs.waiting import drain_queue
from tests.pdfs import income_statement, statement_pdf

SANDBOX_MEMORY = 256 * 1024**2


def deflate_repeated(byte: bytes, size: int, chunk: int = 32 * 1024**2) -> bytes:
    """zlib of `size` copies of `byte`, compressed in chunks (never holds `size` bytes at once)."""
    packer = zlib.compressobj(9)
    block = byte * chunk
    out = [packer.compress(block) for _ in range(size // chunk)]
    out.append(packer.flush())
    return b"".join(out)


def pdf_with(objects: list[bytes]) -> bytes:
    """A hand-written PDF; object 1 is the catalog, 2 the page tree, 3 the only page."""
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def flate_bomb() -> bytes:
    """A content stream of 1 GiB of spaces, FlateDecode applied twice (a few KB on the wire)."""
    twice = zlib.compress(deflate_repeated(b" ", 1024**3), 9)
    return pdf_with(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            stream(b"/Filter [/FlateDecode /FlateDecode]", twice),
        ]
    )


def giant_image() -> bytes:
    """One Letter page showing a 50,000 × 50,000 grey image (2.5 GB decoded, a few KB on the wire)."""
    side = 50_000
    pixels = zlib.compress(deflate_repeated(b"\xff", side * side), 9)
    return pdf_with(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /XObject << /Im1 5 0 R >> >> >>",
            stream(b"", b"q 612 0 0 792 0 0 cm /Im1 Do Q"),
            stream(
                b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
                b" /BitsPerComponent 8 /Filter [/FlateDecode /FlateDecode]" % (side, side),
                pixels,
            ),
        ]
    )


def giant_page() -> bytes:
    """A blank page of the largest legal size (200 × 200 inches): 40,000² pixels at the OCR's 200 dpi."""
    return pdf_with(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",
        ]
    )


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    return app_settings.model_copy(
        update={"sandbox_memory_bytes": SANDBOX_MEMORY, "job_timeout_seconds": 30.0, "max_attempts": 2}
    )


async def upload(client: httpx.AsyncClient, data: bytes, **fields: str) -> tuple[int, str]:
    files = {"file": ("bomb.pdf", io.BytesIO(data), "application/pdf")}
    response = await client.post("/api/v1/documents", files=files, data=fields)
    assert response.status_code == 202, response.text
    return response.json()["job_id"], response.json()["document"]["id"]


async def drain(app: FastAPI, settings: Settings) -> None:
    await drain_queue(app, settings)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "fields"),
    [
        pytest.param(flate_bomb, {}, id="nested-flate-1GiB"),
        pytest.param(giant_image, {"pages": "1"}, id="image-50000x50000"),
        pytest.param(giant_page, {"pages": "1"}, id="page-200x200-inches"),
    ],
)
async def test_bomb_ends_in_a_clear_final_state_and_the_worker_goes_on(
    app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, build, fields: dict[str, str]
) -> None:
    data = build()
    assert len(data) < app_settings.max_upload_bytes
    bomb, document = await upload(client, data, **fields)
    await drain(app, app_settings)

    job = (await client.get(f"/api/v1/jobs/{bomb}")).json()
    if job["status"] == "failed":
        assert job["error"]["code"] in {"resource_limit_exceeded", "sandbox_crashed", "pdf_invalid"}, job
        assert job["error"]["message"], job
        if job["error"]["code"] == "resource_limit_exceeded":
            assert "resource limit exceeded" in job["error"]["message"]
    else:  # PDFium refused the allocation itself: the page is skipped, nothing is made up.
        assert job["status"] == "succeeded", job
        statements = (await client.get(f"/api/v1/documents/{document}/statements")).json()
        assert statements["statements"] == []

    # The worker is unharmed: an ordinary document is extracted next.
    normal, _ = await upload(client, statement_pdf(income_statement()))
    await drain(app, app_settings.model_copy(update={"job_timeout_seconds": 120.0}))
    assert (await client.get(f"/api/v1/jobs/{normal}")).json()["status"] == "succeeded"
