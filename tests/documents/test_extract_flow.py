"""Upload → extraction job → stored statements, end to end on the embedded database.

The generated PDF always runs; the NVIDIA 10-K run needs ../shared/corpus and skips without it.
The worker runs in-process with `run_until_empty` (no sleeps), its PDF work in sandboxed children.
"""

from __future__ import annotations

import io

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from app.documents.sandboxed import local_page_text
from app.statements.format import StatementSet
from tests.conftest import using_whisper
from tests.corpus.truth import corpus_file, load_truth, score
from tests.fakes.whisper_server import FakeWhisperServer
from tests.jobs.waiting import drain_queue
from tests.pdfs import balance_sheet, income_statement, statement_pdf


async def upload(client: httpx.AsyncClient, data: bytes, filename: str, **fields: str) -> dict:
    files = {"file": (filename, io.BytesIO(data), "application/pdf")}
    response = await client.post("/api/v1/documents", files=files, data=fields)
    assert response.status_code == 202, response.text
    return response.json()


async def run_worker(app: FastAPI, settings: Settings) -> int:
    """Run the queue dry in-process, retries included (bounded); jobs finished.

    The 5 s job timeout of the test profile is for the reliability tests: a real extraction (two
    sandboxed child processes) gets a realistic one.
    """
    settings = settings.model_copy(update={"job_timeout_seconds": 120.0})
    return await drain_queue(app, settings, timeout=300)


async def job_error(app: FastAPI, job_id: int) -> object:
    async with app.state.engine.connect() as conn:
        return await conn.scalar(text("SELECT error FROM jobs WHERE id = :id"), {"id": job_id})


class TestGeneratedPdf:
    async def test_upload_then_statements_are_readable(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        accepted = await upload(client, statement_pdf(income_statement(), balance_sheet()), "example.pdf")
        document_id = accepted["document"]["id"]
        assert await run_worker(app, app_settings) >= 1

        document = (await client.get(f"/api/v1/documents/{document_id}")).json()
        assert (document["status"], document["progress"]) == ("succeeded", 100), await job_error(
            app, accepted["job_id"]
        )
        body = (await client.get(f"/api/v1/documents/{document_id}/statements")).json()
        assert body["document"]["id"] == document_id
        statements = {s["type"]: s for s in body["statements"]}
        assert set(statements) == {"income_statement", "balance_sheet"}
        income = statements["income_statement"]
        assert income["verified"] is True
        assert income["company"] == "EXAMPLE CORPORATION AND SUBSIDIARIES"
        revenue = next(item for item in income["items"] if item["label"] == "Revenue")
        assert revenue["values"] == ["10918", "11716", "9714"]
        listed = await client.get("/api/v1/statements", params={"type": "balance_sheet"})
        assert [s["document_id"] for s in listed.json()["items"]] == [document_id]
        assert (await client.get(f"/api/v1/statements/{income['id']}")).json()["title"] == income["title"]

    async def test_reprocessing_replaces_the_statements(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        data = statement_pdf(income_statement())
        first = await upload(client, data, "a.pdf")
        await run_worker(app, app_settings)
        before = (await client.get(f"/api/v1/documents/{first['document']['id']}/statements")).json()
        # The same bytes again reuse the blob; processing them stores a fresh, equal set.
        second = await upload(client, data, "b.pdf")
        await run_worker(app, app_settings)
        after = (await client.get(f"/api/v1/documents/{second['document']['id']}/statements")).json()
        assert [s["type"] for s in after["statements"]] == [s["type"] for s in before["statements"]]
        assert {s["id"] for s in after["statements"]}.isdisjoint({s["id"] for s in before["statements"]})

    async def test_reprocess_endpoint_replaces_one_documents_statements_atomically(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        accepted = await upload(client, statement_pdf(income_statement()), "again.pdf")
        document_id = accepted["document"]["id"]
        busy = await client.post(f"/api/v1/documents/{document_id}/reprocess")
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "document_busy"
        await run_worker(app, app_settings)
        before = (await client.get(f"/api/v1/documents/{document_id}/statements")).json()["statements"]

        again = await client.post(f"/api/v1/documents/{document_id}/reprocess", json={"engine": "local"})
        assert again.status_code == 202, again.text
        job_id = again.json()["job_id"]
        assert job_id != accepted["job_id"] and again.headers["Location"] == f"/api/v1/jobs/{job_id}"
        assert again.json()["document"]["job_id"] == job_id
        await run_worker(app, app_settings)
        after = (await client.get(f"/api/v1/documents/{document_id}/statements")).json()["statements"]
        assert [s["type"] for s in after] == [s["type"] for s in before] == ["income_statement"]
        assert {s["id"] for s in after}.isdisjoint({s["id"] for s in before})
        assert after[0]["items"] == before[0]["items"]

    async def test_reprocess_of_an_unknown_document_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/documents/00000000-0000-0000-0000-000000000000/reprocess")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "document_not_found"

    async def test_a_document_deleted_before_its_job_runs_fails_the_job_cleanly(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        accepted = await upload(client, statement_pdf(income_statement()), "gone.pdf")
        assert (await client.delete(f"/api/v1/documents/{accepted['document']['id']}")).status_code == 204
        assert await run_worker(app, app_settings) == 0  # the job went with the document


class TestThroughLlmWhisperer:
    """The same flow with `engine=llmwhisperer` against the fake service on 127.0.0.1."""

    @pytest.fixture
    def app_settings(self, app_settings: Settings, whisper: FakeWhisperServer) -> Settings:
        return using_whisper(app_settings, whisper)

    async def test_statements_from_the_service_text(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, whisper: FakeWhisperServer
    ) -> None:
        data = statement_pdf(income_statement(), balance_sheet())
        # The service answers with layout text; the local extractor's is a faithful stand-in.
        whisper.register(data, [page.text for page in local_page_text(data, None, 10)])
        accepted = await upload(client, data, "example.pdf", engine="llmwhisperer")
        await run_worker(app, app_settings)
        assert whisper.calls["whisper"] == 1
        body = (await client.get(f"/api/v1/documents/{accepted['document']['id']}/statements")).json()
        assert sorted(s["type"] for s in body["statements"]) == ["balance_sheet", "income_statement"]
        assert {s["text_source"]["engine"] for s in body["statements"]} == {"llmwhisperer"}

    async def test_a_re_upload_reuses_blob_and_text_cache(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, whisper: FakeWhisperServer
    ) -> None:
        data = statement_pdf(income_statement())
        whisper.register(data, [page.text for page in local_page_text(data, None, 10)])
        first = await upload(client, data, "first.pdf", engine="llmwhisperer")
        await run_worker(app, app_settings)
        second = await upload(client, data, "again.pdf", engine="llmwhisperer")
        await run_worker(app, app_settings)
        assert whisper.calls["whisper"] == 1  # one paid submit for two documents with the same bytes
        for accepted in (first, second):
            body = (await client.get(f"/api/v1/documents/{accepted['document']['id']}/statements")).json()
            assert [s["type"] for s in body["statements"]] == ["income_statement"]
        async with app.state.engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM blobs")) == 1


@pytest.mark.corpus
class TestNvidia10K:
    @pytest.fixture
    def app_settings(self, app_settings: Settings) -> Settings:
        """A real 10-K needs the production page and size limits, not the test profile's."""
        return app_settings.model_copy(update={"max_pdf_pages": 1000, "max_upload_bytes": 50 * 1024 * 1024})

    async def test_five_verified_statements_equal_to_the_truth(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        pdf = corpus_file("pdf", "nvidia-10k-fy2020.pdf")  # skips with the reason when ../shared is absent
        truth = load_truth("nvidia-10k-fy2020")
        accepted = await upload(client, pdf.read_bytes(), pdf.name)
        document_id = accepted["document"]["id"]
        assert accepted["document"]["page_count"] == 85
        await run_worker(app, app_settings)
        document = (await client.get(f"/api/v1/documents/{document_id}")).json()
        assert document["status"] == "succeeded", await job_error(app, accepted["job_id"])
        body = StatementSet.model_validate(
            (await client.get(f"/api/v1/documents/{document_id}/statements")).json()
        )
        assert sorted(s.type for s in body.statements) == sorted(s["type"] for s in truth["statements"])
        assert all(s.verified for s in body.statements)
        result = score(body.statements, truth)
        assert result.exact == result.total, "\n".join(result.misses[:20])
