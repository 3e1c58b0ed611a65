"""Upload limits and hostile input (reliability.md scenarios 11-18): every answer is a typed JSON error."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import random

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from tests.documents.conftest import Upload, call_asgi, make_encrypted_pdf, make_pdf, raw_pdf

LIMIT = 1024 * 1024  # max_upload_bytes in the test profile


async def count_rows(database_url: str, table: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")))
    finally:
        await engine.dispose()


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error", "request_id"}
    return body["error"]["code"]


def multipart(data: bytes, boundary: str = "b0undary", filename: str = "big.pdf") -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


class TestSizeLimit:
    async def test_file_over_the_limit_is_413_and_stores_nothing(
        self, upload: Upload, fresh_database_url: str
    ) -> None:
        response = await upload(make_pdf(1, pad_to=LIMIT + 4096))
        assert response.status_code == 413
        assert error_code(response) in {"file_too_large", "payload_too_large", "content_too_large"}
        assert await count_rows(fresh_database_url, "documents") == 0
        assert await count_rows(fresh_database_url, "jobs") == 0

    async def test_file_under_the_limit_is_accepted(self, upload: Upload) -> None:
        response = await upload(make_pdf(1, pad_to=LIMIT - 64 * 1024))
        assert response.status_code == 202

    async def test_chunked_body_is_cut_off_while_streaming(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        body = multipart(make_pdf(1, pad_to=8 * LIMIT))
        chunks = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
        headers = [(b"content-type", b"multipart/form-data; boundary=b0undary")]  # no Content-Length
        status, payload, consumed = await call_asgi(app, chunks, headers=headers)
        assert status == 413
        assert "error" in json.loads(payload)
        assert consumed < LIMIT + 1024 * 1024 + 64 * 1024  # stopped long before the 8 MB end

    async def test_lying_content_length_is_cut_off(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        body = multipart(make_pdf(1, pad_to=4 * LIMIT))
        chunks = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
        headers = [
            (b"content-type", b"multipart/form-data; boundary=b0undary"),
            (b"content-length", b"1000"),
        ]
        status, _, consumed = await call_asgi(app, chunks, headers=headers)
        assert status in {400, 413}
        assert consumed < LIMIT + 1024 * 1024 + 64 * 1024

    async def test_declared_length_over_the_limit_is_refused_before_reading(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        headers = [
            (b"content-type", b"multipart/form-data; boundary=b0undary"),
            (b"content-length", str(10 * LIMIT).encode()),
        ]
        status, _, consumed = await call_asgi(app, [b"x" * 1024] * 4, headers=headers)
        assert status == 413
        assert consumed <= 1024

    async def test_big_text_field_is_refused(self, client: httpx.AsyncClient, pdf_bytes: bytes) -> None:
        files = {"file": ("a.pdf", io.BytesIO(pdf_bytes), "application/pdf")}
        response = await client.post("/api/v1/documents", files=files, data={"pages": "1" * (5 * LIMIT)})
        assert response.status_code in {413, 422}
        assert "error" in response.json()


class TestContentSniffing:
    @pytest.mark.parametrize(
        "payload",
        [
            pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 200, id="png"),
            pytest.param(b"<!doctype html><html><body>hi</body></html>", id="html"),
            pytest.param(b"PK\x03\x04" + b"\0" * 200, id="zip"),
            pytest.param(b"MZ\x90\x00" + b"\0" * 2000, id="exe"),
        ],
    )
    async def test_not_a_pdf_is_415_whatever_the_headers_say(self, upload: Upload, payload: bytes) -> None:
        response = await upload(payload, filename="report.pdf", content_type="application/pdf")
        assert response.status_code == 415
        assert error_code(response) == "not_a_pdf"

    async def test_a_pdf_with_a_misleading_name_and_type_is_accepted(
        self, upload: Upload, pdf_bytes: bytes
    ) -> None:
        response = await upload(pdf_bytes, filename="scan.bin", content_type="application/octet-stream")
        assert response.status_code == 202
        assert response.json()["document"]["filename"] == "scan.bin"

    async def test_junk_before_the_header_never_500s(self, upload: Upload, pdf_bytes: bytes) -> None:
        response = await upload(b"\0" * 200 + pdf_bytes)
        # PDFium finds a header within the first 1,024 bytes, as readers do: accepted.
        assert response.status_code in {202, 422}

    async def test_non_multipart_body_is_415(self, client: httpx.AsyncClient, pdf_bytes: bytes) -> None:
        response = await client.post(
            "/api/v1/documents", content=pdf_bytes, headers={"content-type": "application/pdf"}
        )
        assert response.status_code == 415
        assert error_code(response) == "multipart_required"


class TestMalformedPdfs:
    async def test_empty_file(self, upload: Upload) -> None:
        response = await upload(b"")
        assert response.status_code == 422
        assert error_code(response) == "empty_file"

    async def test_truncated_pdf(self, upload: Upload) -> None:
        data = make_pdf(3)
        response = await upload(data[: int(len(data) * 0.6)])
        assert response.status_code == 422
        assert error_code(response) in {"pdf_truncated", "pdf_corrupt"}

    async def test_header_then_garbage(self, upload: Upload) -> None:
        response = await upload(b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
        assert response.status_code == 422
        assert error_code(response) == "pdf_corrupt"

    async def test_user_password_pdf_is_refused(self, upload: Upload) -> None:
        response = await upload(make_encrypted_pdf(user_password="secret"))
        assert response.status_code == 422
        assert error_code(response) == "pdf_encrypted"

    async def test_owner_password_only_pdf_is_accepted(self, upload: Upload) -> None:
        response = await upload(make_encrypted_pdf(user_password=None))
        assert response.status_code == 202

    async def test_a_declared_page_count_bomb_is_refused_before_any_page_is_read(
        self, upload: Upload
    ) -> None:
        response = await upload(raw_pdf(declared_pages=100_000))
        assert response.status_code == 422
        assert error_code(response) == "pdf_too_many_pages"
        assert "100000" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        "data",
        [
            pytest.param(raw_pdf(b"/Junk " + b"[" * 100_000 + b"]" * 100_000), id="deep-arrays"),
            pytest.param(raw_pdf(b"/Junk " + b"<< /A " * 50_000 + b"1" + b" >>" * 50_000), id="deep-dicts"),
            pytest.param(raw_pdf(circular_prev=True), id="circular-prev"),
        ],
    )
    async def test_parser_traps_never_crash_the_api(self, upload: Upload, data: bytes) -> None:
        response = await upload(data)
        assert response.status_code in {202, 422}  # readers cope with these; parsing runs sandboxed later
        assert (await upload(make_pdf(1))).status_code == 202  # and the API is still serving

    async def test_too_many_pages(self, upload: Upload, app_settings: Settings) -> None:
        response = await upload(make_pdf(app_settings.max_pdf_pages + 1))
        assert response.status_code == 422
        assert error_code(response) == "pdf_too_many_pages"


class TestFuzzedPdfs:
    """Mutated generated PDFs (bit flips, truncation, xref damage): 202 or a typed 4xx, never 5xx."""

    @staticmethod
    def mutations(seed: int, count: int) -> list[bytes]:
        rng = random.Random(seed)
        base = make_pdf(2, text="fuzz")
        found: list[bytes] = []
        for _ in range(count):
            data = bytearray(base)
            kind = rng.choice(["flip", "truncate", "xref", "splice"])
            if kind == "flip":
                for _ in range(rng.randint(1, 20)):
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            elif kind == "truncate":
                del data[rng.randrange(8, len(data)) :]
            elif kind == "xref":
                at = data.rfind(b"xref")
                data[at : at + 40] = bytes(rng.randrange(256) for _ in range(40))
            else:
                at = rng.randrange(len(data))
                data[at:at] = rng.randbytes(rng.randint(1, 200))
            found.append(bytes(data))
        return found

    async def test_mutations_never_500(self, upload: Upload) -> None:
        statuses = []
        for data in self.mutations(seed=20261125, count=60):
            response = await upload(data)
            assert response.status_code in {202, 400, 413, 415, 422}, (response.status_code, response.text)
            if response.status_code != 202:
                assert "error" in response.json()
            statuses.append(response.status_code)
        assert 422 in statuses  # the damage is real: some inputs are refused


class TestFormFields:
    async def test_pages_and_engine_are_stored(self, upload: Upload) -> None:
        response = await upload(make_pdf(5), pages="2-3, 5", engine="local")
        assert response.status_code == 202
        document = response.json()["document"]
        assert document["pages"] == [2, 3, 5]
        assert document["engine"] == "local"

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"pages": "7"}, "pdf_page_out_of_range"),
            ({"pages": "3-1"}, "invalid_pages"),
            ({"pages": "one"}, "invalid_pages"),
            ({"engine": "magic"}, "invalid_engine"),
            ({"colour": "blue"}, "unknown_field"),
        ],
    )
    async def test_bad_fields_are_422(self, upload: Upload, fields: dict[str, str], code: str) -> None:
        response = await upload(make_pdf(5), **fields)
        assert response.status_code == 422
        assert error_code(response) == code

    async def test_missing_file_part(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/documents", files={"engine": (None, "local")})
        assert response.status_code == 422
        assert error_code(response) == "file_missing"

    async def test_two_files_are_refused(self, client: httpx.AsyncClient, pdf_bytes: bytes) -> None:
        files = [
            ("file", ("a.pdf", io.BytesIO(pdf_bytes), "application/pdf")),
            ("file", ("b.pdf", io.BytesIO(pdf_bytes), "application/pdf")),
        ]
        response = await client.post("/api/v1/documents", files=files)
        assert response.status_code == 422
        assert error_code(response) == "too_many_files"

    async def test_malformed_multipart(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/documents",
            content=b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-',
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert response.status_code in {400, 422}
        assert "error" in response.json()


class TestSlowClients:
    async def test_a_stalled_body_gets_408(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await client.get("/api/v1/documents")  # builds the process's DocumentService
        service = app.state.document_service
        service.limits = dataclasses.replace(service.limits, idle_seconds=0.2)
        body = multipart(make_pdf(1))
        headers = [(b"content-type", b"multipart/form-data; boundary=b0undary")]
        status, payload, _ = await asyncio.wait_for(
            call_asgi(app, [body[:100]], headers=headers, stall=True), timeout=30
        )
        assert status == 408
        assert json.loads(payload)["error"]["code"] == "upload_timeout"
