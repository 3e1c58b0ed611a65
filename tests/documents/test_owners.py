"""Two users through the real routes (reliability.md scenarios 17, 18 and 8, cross-user parts).

There is no sign-in yet: the `two_users` fixture swaps only the dependency that names the owner for
one that reads `X-Test-User`, so every route, service and query below is the product's own.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.documents.sandboxed import local_page_text
from tests.conftest import using_whisper
from tests.documents.conftest import AS_A, AS_B, USERS, Upload, make_pdf, scalar
from tests.documents.test_extract_flow import run_worker
from tests.fakes.whisper_server import FakeWhisperServer
from tests.pdfs import income_statement, statement_pdf

pytestmark = pytest.mark.usefixtures("two_users")


def not_found_error(response: httpx.Response) -> dict:
    """The error part of a 404 (its request id differs from call to call)."""
    assert response.status_code == 404, response.text
    return response.json()["error"]


async def accepted(response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    return response.json()


class TestSameBytes:
    async def test_a_uploading_twice_makes_two_documents_over_one_blob(
        self, upload: Upload, db: AsyncEngine
    ) -> None:
        data = make_pdf(2, "twice")
        first = await accepted(await upload(data, headers=AS_A))
        second = await accepted(await upload(data, headers=AS_A))
        assert first["document"]["id"] != second["document"]["id"]
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        assert await scalar(db, "SELECT count(*) FROM documents WHERE owner_id = :a", a=USERS["A"]) == 2

    async def test_b_gets_its_own_document_and_learns_nothing_of_as(
        self, upload: Upload, client: httpx.AsyncClient, db: AsyncEngine
    ) -> None:
        data = make_pdf(1, "shared bytes")
        a_answer = await upload(data, filename="A-secret-merger-plan.pdf", headers=AS_A)
        a_doc, a_job = (await accepted(a_answer))["document"]["id"], a_answer.json()["job_id"]
        b_answer = await upload(data, filename="mine.pdf", headers=AS_B)
        b_body = await accepted(b_answer)
        assert b_body["document"]["id"] != a_doc and b_body["job_id"] != a_job
        assert b_body["document"]["filename"] == "mine.pdf"
        for leak in (a_doc, "A-secret-merger-plan"):
            assert leak not in b_answer.text and leak not in str(b_answer.headers)
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1

        listed = (await client.get("/api/v1/documents", headers=AS_B)).json()["items"]
        assert [item["id"] for item in listed] == [b_body["document"]["id"]]
        unknown = f"/api/v1/documents/{uuid.uuid4()}"
        for suffix in ("", "/file", "/statements"):
            theirs = await client.get(f"/api/v1/documents/{a_doc}{suffix}", headers=AS_B)
            missing = await client.get(unknown + suffix, headers=AS_B)
            assert not_found_error(theirs) == not_found_error(missing)
            assert "A-secret" not in theirs.text
        for method, suffix in (("DELETE", ""), ("POST", "/reprocess")):
            theirs = await client.request(method, f"/api/v1/documents/{a_doc}{suffix}", headers=AS_B)
            missing = await client.request(method, unknown + suffix, headers=AS_B)
            assert not_found_error(theirs) == not_found_error(missing)
        statements = (await client.get("/api/v1/statements", headers=AS_B)).json()
        assert statements["items"] == []
        # A still sees exactly its own document, untouched.
        mine = (await client.get("/api/v1/documents", headers=AS_A)).json()["items"]
        assert [item["id"] for item in mine] == [a_doc]

    async def test_twenty_concurrent_uploads_of_a_new_file_by_two_users(
        self, upload: Upload, db: AsyncEngine
    ) -> None:
        data = make_pdf(3, "stampede")
        responses = await asyncio.gather(*(upload(data, headers=(AS_A, AS_B)[i % 2]) for i in range(20)))
        failed = [r.text for r in responses if r.status_code != 202]
        assert failed == []  # no unique-violation 500s, no 503 races
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        for user in ("A", "B"):
            owned = "SELECT count(*) FROM documents WHERE owner_id = :o"
            assert await scalar(db, owned, o=USERS[user]) == 10


class TestDeleteAcrossUsers:
    @pytest.fixture(params=["postgres", "folder"])
    def app_settings(
        self, request: pytest.FixtureRequest, app_settings: Settings, tmp_path: Path
    ) -> Settings:
        return app_settings.model_copy(update={"blob_store": request.param, "blob_dir": tmp_path / "blobs"})

    async def test_a_deleting_leaves_bs_document_and_bytes(
        self, app: FastAPI, upload: Upload, client: httpx.AsyncClient, db: AsyncEngine, app_settings: Settings
    ) -> None:
        data = make_pdf(2, "both keep a copy")
        a_doc = (await accepted(await upload(data, headers=AS_A)))["document"]["id"]
        b_doc = (await accepted(await upload(data, headers=AS_B)))["document"]["id"]
        assert (await client.delete(f"/api/v1/documents/{a_doc}", headers=AS_A)).status_code == 204
        assert (await client.get(f"/api/v1/documents/{a_doc}", headers=AS_A)).status_code == 404
        if app_settings.blob_store == "folder":  # even a sweep right now (no minimum age) keeps B's file
            async with app.state.sessionmaker.begin() as session:
                await app.state.document_service.blobs.sweep(session, min_age_seconds=0)
        got = await client.get(f"/api/v1/documents/{b_doc}", headers=AS_B)
        assert got.status_code == 200 and got.json()["sha256"] == hashlib.sha256(data).hexdigest()
        download = await client.get(f"/api/v1/documents/{b_doc}/file", headers=AS_B)
        assert download.status_code == 200 and download.content == data
        assert await scalar(db, "SELECT count(*) FROM blobs") == 1
        assert await scalar(db, "SELECT count(*) FROM jobs WHERE owner_id = :b", b=USERS["B"]) == 1


class TestIdempotencyAcrossUsers:
    async def test_b_using_as_key_gets_bs_own_result(
        self, upload: Upload, client: httpx.AsyncClient, db: AsyncEngine
    ) -> None:
        data = make_pdf(1, "keyed")
        key = {"Idempotency-Key": "shared-key-1"}
        a_first = await accepted(await upload(data, headers={**AS_A, **key}))
        b_answer = await upload(data, headers={**AS_B, **key})
        b_first = await accepted(b_answer)
        assert "idempotent-replayed" not in b_answer.headers
        assert b_first["document"]["id"] != a_first["document"]["id"]
        assert (await client.get(b_answer.headers["location"], headers=AS_B)).status_code == 200
        # A different body under the same key is B's business too: no 422 because of A's upload.
        assert (await upload(make_pdf(1, "other"), headers={**AS_A, **key})).status_code == 422
        b_again = await upload(data, headers={**AS_B, **key})
        a_again = await upload(data, headers={**AS_A, **key})
        assert b_again.json() == b_first and a_again.json() == a_first
        assert await scalar(db, "SELECT count(*) FROM documents") == 2


class TestJobsAcrossUsers:
    async def test_another_users_job_is_404_on_every_route_and_stays_untouched(
        self, upload: Upload, client: httpx.AsyncClient
    ) -> None:
        a_job = (await accepted(await upload(make_pdf(1, "a's job"), headers=AS_A)))["job_id"]
        unknown = 2**62
        for method, suffix in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("GET", "/events")):
            theirs = await client.request(method, f"/api/v1/jobs/{a_job}{suffix}", headers=AS_B)
            missing = await client.request(method, f"/api/v1/jobs/{unknown}{suffix}", headers=AS_B)
            assert not_found_error(theirs) == not_found_error(missing), (method, suffix)
        assert (await client.get("/api/v1/jobs", headers=AS_B)).json()["items"] == []
        job = (await client.get(f"/api/v1/jobs/{a_job}", headers=AS_A)).json()
        assert job["status"] == "pending" and not job["cancel_requested"]
        cancelled = await client.post(f"/api/v1/jobs/{a_job}/cancel", headers=AS_A)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


class TestSharedTextCache:
    """Scenario 17's cache part: B's upload of A's bytes costs no second LLMWhisperer submit."""

    @pytest.fixture
    def app_settings(self, app_settings: Settings, whisper: FakeWhisperServer) -> Settings:
        return using_whisper(app_settings, whisper)

    async def test_one_submit_for_two_users_and_each_sees_only_its_statements(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        upload: Upload,
    ) -> None:
        data = statement_pdf(income_statement())
        whisper.register(data, [page.text for page in local_page_text(data, None, 10)])
        a_doc = (await accepted(await upload(data, headers=AS_A, engine="llmwhisperer")))["document"]["id"]
        await run_worker(app, app_settings)
        b_doc = (await accepted(await upload(data, headers=AS_B, engine="llmwhisperer")))["document"]["id"]
        await run_worker(app, app_settings)
        assert whisper.calls["whisper"] == 1
        for doc, mine, other in ((a_doc, AS_A, AS_B), (b_doc, AS_B, AS_A)):
            own = await client.get(f"/api/v1/documents/{doc}/statements", headers=mine)
            assert [s["type"] for s in own.json()["statements"]] == ["income_statement"]
            assert (await client.get(f"/api/v1/documents/{doc}/statements", headers=other)).status_code == 404
            listed = (await client.get("/api/v1/statements", headers=mine)).json()["items"]
            assert {item["document_id"] for item in listed} == {doc}
