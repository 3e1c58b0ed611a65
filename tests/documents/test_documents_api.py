"""Documents API: filenames, shared blobs, idempotency, delete semantics, pagination, 404 bodies."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.documents.blobs import FolderBlobStore
from app.documents.service import DocumentService
from app.documents.upload import sanitize_filename
from tests.documents.conftest import Upload, make_pdf, scalar
from tests.jobs.waiting import LOCK_WAITERS, wait_until


class TestFilenames:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("../../etc/passwd.pdf", "passwd.pdf"),
            ("..\\..\\x.pdf", "x.pdf"),
            ("/abs/x.pdf", "x.pdf"),
            ("a\x00b.pdf", "ab.pdf"),
            ("\u202efdp.exe", "fdp.exe"),
            ("CON.pdf", "_CON.pdf"),
            ("com1", "_com1"),
            ("report\r\nX-Injected: 1.pdf", "report X-Injected_ 1.pdf"),
            ("  ..hidden.pdf  ", "hidden.pdf"),
            ("", "document.pdf"),
            ("..", "document.pdf"),
        ],
    )
    def test_sanitize_filename(self, raw: str, expected: str) -> None:
        assert sanitize_filename(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [(b"../../etc/passwd.pdf", "passwd.pdf"), (b"a\x00b.pdf", "ab.pdf"), (b"..\\..\\x.pdf", "x.pdf")],
    )
    async def test_raw_names_on_the_wire_are_sanitized(
        self, client: httpx.AsyncClient, raw: bytes, expected: str
    ) -> None:
        body = (
            b'--zz\r\nContent-Disposition: form-data; name="file"; filename="'
            + raw
            + b'"\r\n\r\n'
            + make_pdf(1)
            + b"\r\n--zz--\r\n"
        )
        response = await client.post(
            "/api/v1/documents", content=body, headers={"content-type": "multipart/form-data; boundary=zz"}
        )
        assert response.status_code == 202
        assert response.json()["document"]["filename"] == expected

    async def test_long_names_are_cut_keeping_the_extension(self, upload: Upload) -> None:
        response = await upload(make_pdf(1), filename="é" * 300 + ".pdf")
        name = response.json()["document"]["filename"]
        assert name.endswith(".pdf")
        assert len(name.encode()) <= 200

    async def test_download_sends_a_safe_content_disposition(
        self, upload: Upload, client: httpx.AsyncClient
    ) -> None:
        data = make_pdf(1)
        created = await upload(data, filename="Bilanz März\r\n2024.pdf")
        response = await client.get(created.headers["location"] + "/file")
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert "filename*=UTF-8''Bilanz%20M%C3%A4rz%202024.pdf" in disposition

    async def test_folder_store_paths_come_only_from_the_hash(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, tmp_path: Path, upload: Upload
    ) -> None:
        root = tmp_path / "blobs"
        app.state.document_service = DocumentService(app_settings, FolderBlobStore(root))
        data = make_pdf(1)
        response = await upload(data, filename="../../../../tmp/evil.pdf")
        assert response.status_code == 202
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        sha = hashlib.sha256(data).hexdigest()
        assert files == [root / sha[:2] / sha]
        download = await client.get(response.headers["location"] + "/file")
        assert download.content == data


class TestDuplicates:
    async def test_same_bytes_twice_share_one_blob(self, upload: Upload, db: AsyncEngine) -> None:
        data = make_pdf(2)
        first, second = await upload(data), await upload(data)
        assert first.status_code == second.status_code == 202
        assert first.json()["document"]["id"] != second.json()["document"]["id"]
        assert first.json()["document"]["sha256"] == second.json()["document"]["sha256"]
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        assert await scalar(db, "SELECT count(*) FROM documents") == 2

    async def test_concurrent_uploads_of_one_new_file(self, upload: Upload, db: AsyncEngine) -> None:
        data = make_pdf(3, text="concurrent")
        responses = await asyncio.gather(*(upload(data) for _ in range(20)))
        assert sorted({r.status_code for r in responses}) == [202]
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        assert await scalar(db, "SELECT count(*) FROM documents") == 20
        assert await scalar(db, "SELECT count(*) FROM jobs WHERE type = 'extract.document'") == 20


class TestIdempotency:
    async def test_retry_returns_the_first_answer(self, upload: Upload, db: AsyncEngine) -> None:
        data = make_pdf(1)
        first = await upload(data, headers={"Idempotency-Key": "k-1"})
        again = await upload(data, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert await scalar(db, "SELECT count(*) FROM jobs") == 1

    async def test_same_key_with_another_body_is_422(self, upload: Upload, db: AsyncEngine) -> None:
        await upload(make_pdf(1, text="one"), headers={"Idempotency-Key": "k-2"})
        for other in ({"data": make_pdf(1, text="two")}, {"data": make_pdf(1, text="one"), "pages": "1"}):
            response = await upload(headers={"Idempotency-Key": "k-2"}, **other)
            assert response.status_code == 422
            body = response.json()
            assert set(body) == {"error", "request_id"}
            assert body["error"]["code"] == "idempotency_key_reused"
        assert await scalar(db, "SELECT count(*) FROM documents") == 1

    async def test_a_request_racing_the_first_with_its_key_gets_the_first_answer(
        self, app: FastAPI, upload: Upload, db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The second request arrives while the first holds the key (paused after claiming it)."""
        service = app.state.document_service
        count_pages = service._count_pages
        first_inside, release = asyncio.Event(), asyncio.Event()

        async def paused_once(data: bytes, options: object) -> int:
            if not first_inside.is_set():
                first_inside.set()
                await release.wait()
            return await count_pages(data, options)

        monkeypatch.setattr(service, "_count_pages", paused_once)
        data, key = make_pdf(1, text="race"), {"Idempotency-Key": "k-race"}
        first = asyncio.create_task(upload(data, headers=key))
        await asyncio.wait_for(first_inside.wait(), 30)
        second = asyncio.create_task(upload(data, headers=key))

        async def second_waits_on_the_key() -> bool:
            return bool(await scalar(db, LOCK_WAITERS)) or second.done()

        await wait_until(second_waits_on_the_key, timeout=30, what="the second request to reach the key")
        release.set()
        one, two = await first, await second
        assert one.status_code == 202
        assert two.status_code == 409 or (two.status_code == 202 and two.json() == one.json()), two.text
        if two.status_code == 202:
            assert two.headers["idempotent-replayed"] == "true"
        assert await scalar(db, "SELECT count(*) FROM documents") == 1
        assert await scalar(db, "SELECT count(*) FROM jobs") == 1

    async def test_concurrent_requests_with_one_key_make_one_document(
        self, upload: Upload, db: AsyncEngine
    ) -> None:
        data = make_pdf(1, text="race")
        responses = await asyncio.gather(
            *(upload(data, headers={"Idempotency-Key": "k-3"}) for _ in range(5))
        )
        assert {r.status_code for r in responses} <= {202, 409}
        accepted = [r for r in responses if r.status_code == 202]
        assert accepted
        assert len({r.json()["document"]["id"] for r in accepted}) == 1
        assert await scalar(db, "SELECT count(*) FROM documents") == 1

    async def test_a_failed_first_attempt_does_not_burn_the_key(self, upload: Upload) -> None:
        assert (await upload(b"not a pdf at all", headers={"Idempotency-Key": "k-4"})).status_code == 415
        response = await upload(make_pdf(1), headers={"Idempotency-Key": "k-4"})
        assert response.status_code == 202

    async def test_an_expired_key_is_free_again(self, upload: Upload, db: AsyncEngine) -> None:
        await upload(make_pdf(1, text="old"), headers={"Idempotency-Key": "k-5"})
        async with db.begin() as conn:
            await conn.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"))
        response = await upload(make_pdf(1, text="new"), headers={"Idempotency-Key": "k-5"})
        assert response.status_code == 202
        assert "idempotent-replayed" not in response.headers


class TestIdempotencyWindow:
    @pytest.fixture
    def app_settings(self, app_settings: Settings) -> Settings:
        return app_settings.model_copy(update={"idempotency_ttl_seconds": 1.5})

    async def test_the_key_is_held_for_the_retention_window_then_free(
        self, upload: Upload, db: AsyncEngine
    ) -> None:
        first = await upload(make_pdf(1, text="kept"), headers={"Idempotency-Key": "k-ttl"})
        assert first.status_code == 202
        started = asyncio.get_running_loop().time()
        outcomes: list[int] = []

        async def key_is_free() -> httpx.Response | None:
            response = await upload(make_pdf(1, text="later"), headers={"Idempotency-Key": "k-ttl"})
            outcomes.append(response.status_code)
            return response if response.status_code != 422 else None

        later = await wait_until(key_is_free, timeout=15, interval=0.2, what="the key's window to pass")
        assert outcomes[0] == 422  # inside the window the key still belongs to the first upload
        assert asyncio.get_running_loop().time() - started >= 1.0
        assert later.status_code == 202 and "idempotent-replayed" not in later.headers
        assert later.json()["document"]["id"] != first.json()["document"]["id"]
        assert await scalar(db, "SELECT count(*) FROM documents") == 2


class TestDelete:
    async def test_delete_removes_document_jobs_and_unshared_blob(
        self, upload: Upload, client: httpx.AsyncClient, db: AsyncEngine
    ) -> None:
        location = (await upload(make_pdf(1))).headers["location"]
        assert (await client.delete(location)).status_code == 204
        assert (await client.get(location)).status_code == 404
        for table in ("documents", "jobs", "blobs"):
            assert await scalar(db, f"SELECT count(*) FROM {table}") == 0
        assert (await client.delete(location)).status_code == 404

    async def test_delete_keeps_a_blob_another_document_uses(
        self, upload: Upload, client: httpx.AsyncClient, db: AsyncEngine
    ) -> None:
        data = make_pdf(2)
        first, second = await upload(data), await upload(data)
        assert (await client.delete(first.headers["location"])).status_code == 204
        download = await client.get(second.headers["location"] + "/file")
        assert download.status_code == 200
        assert download.content == data
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        assert await scalar(db, "SELECT count(*) FROM jobs") == 1
        assert (await client.delete(second.headers["location"])).status_code == 204
        assert await scalar(db, "SELECT count(*) FROM blobs") == 0


class TestListing:
    async def test_cursor_pages_cover_every_document_once(
        self, upload: Upload, client: httpx.AsyncClient
    ) -> None:
        created = [(await upload(make_pdf(1, text=f"doc {i}"))).json()["document"]["id"] for i in range(5)]
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/documents", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(created))

    async def test_filters(self, upload: Upload, client: httpx.AsyncClient) -> None:
        await upload(make_pdf(1))
        pending = await client.get("/api/v1/documents", params={"status": "pending"})
        assert len(pending.json()["items"]) == 1
        done = await client.get("/api/v1/documents", params={"status": "succeeded"})
        assert done.json()["items"] == []
        assert (await client.get("/api/v1/documents", params={"type": "balance_sheet"})).json()["items"] == []
        today = (await client.get("/api/v1/documents")).json()["items"][0]["created_at"][:10]
        dated = await client.get("/api/v1/documents", params={"uploaded_from": today, "uploaded_to": today})
        assert len(dated.json()["items"]) == 1
        later = await client.get("/api/v1/documents", params={"uploaded_from": "2999-01-01"})
        assert later.json()["items"] == []

    @pytest.mark.parametrize(
        "params", [{"cursor": "garbage!"}, {"limit": 0}, {"status": "weird"}, {"type": "cashflow"}]
    )
    async def test_bad_parameters_are_422(self, client: httpx.AsyncClient, params: dict) -> None:
        response = await client.get("/api/v1/documents", params=params)
        assert response.status_code == 422
        assert "error" in response.json()


class TestNotFound:
    @pytest.mark.parametrize("suffix", ["", "/file", "/statements"])
    async def test_unknown_document_is_one_404_body(self, client: httpx.AsyncClient, suffix: str) -> None:
        response = await client.get(f"/api/v1/documents/{uuid.uuid4()}{suffix}")
        assert response.status_code == 404
        body = response.json()
        assert body["error"] == {
            "code": "document_not_found",
            "message": "No document with this id.",
            "details": None,
        }
        assert body["request_id"]

    async def test_unknown_statement(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/v1/statements/{uuid.uuid4()}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "statement_not_found"

    async def test_malformed_id_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/documents/not-a-uuid")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestAtomicity:
    async def test_a_failure_after_the_blob_is_stored_leaves_no_row(
        self, upload: Upload, db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Blob, document and job commit together or not at all (reliability scenario 20)."""
        from app.documents import service

        async def broken_enqueue(*args: object, **kwargs: object) -> int:
            raise RuntimeError("connection lost mid-upload")

        monkeypatch.setattr(service, "enqueue", broken_enqueue)
        response = await upload(make_pdf(1))
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        for table in ("blobs", "documents", "jobs", "idempotency_keys"):
            assert await scalar(db, f"SELECT count(*) FROM {table}") == 0
