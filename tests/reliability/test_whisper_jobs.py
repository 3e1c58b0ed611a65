"""Scenarios 22 and 24 at the job level: an extract job with engine llmwhisperer against the fake
LLMWhisperer on 127.0.0.1 ends `failed` with a typed error the API shows, after bounded attempts,
with nothing stored. The worker runs in-process on a fresh embedded database (no mocks)."""

from __future__ import annotations

import io

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from app.core.config import Settings
from app.documents.sandboxed import local_page_text
from app.jobs.worker import Worker
from tests.conftest import using_whisper
from tests.fakes.whisper_server import FakeWhisperServer, Fault
from tests.jobs.waiting import drain_queue
from tests.pdfs import balance_sheet, income_statement, statement_pdf

MAX_ATTEMPTS = 3


@pytest.fixture
def app_settings(app_settings: Settings, whisper: FakeWhisperServer) -> Settings:
    return using_whisper(app_settings, whisper, max_attempts=MAX_ATTEMPTS, job_timeout_seconds=60.0)


@pytest.fixture
def pdf(whisper: FakeWhisperServer) -> bytes:
    data = statement_pdf(income_statement(), balance_sheet())  # two pages: separators are required
    whisper.register(data, [page.text for page in local_page_text(data, None, 10)])
    return data


async def upload_for_whisper(client: httpx.AsyncClient, data: bytes) -> dict:
    files = {"file": ("report.pdf", io.BytesIO(data), "application/pdf")}
    response = await client.post("/api/v1/documents", files=files, data={"engine": "llmwhisperer"})
    assert response.status_code == 202, response.text
    return response.json()


async def drain(app: FastAPI, settings: Settings) -> None:
    """Run the queue in-process until no job is pending or running (retries included, bounded)."""
    await drain_queue(app, settings)


async def counts(app: FastAPI) -> dict[str, int]:
    async with app.state.engine.connect() as conn:
        return {
            table: await conn.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("statements", "text_cache")
        }


async def job_of(client: httpx.AsyncClient, accepted: dict) -> dict:
    response = await client.get(f"/api/v1/jobs/{accepted['job_id']}")
    assert response.status_code == 200, response.text
    return response.json()


class TestRefusedByTheService:
    async def test_bad_key_fails_the_job_at_once_with_the_service_message(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        pdf: bytes,
    ) -> None:
        settings = app_settings.model_copy(update={"llmwhisperer_api_key": SecretStr("wrong-key")})
        accepted = await upload_for_whisper(client, pdf)
        await drain(app, settings)

        job = await job_of(client, accepted)
        assert job["status"] == "failed"
        assert job["attempts"] == 1  # 401 is not retried by the job layer
        assert job["error"]["code"] == "whisper_auth_failed"
        assert "Unauthorized" in job["error"]["message"]  # the service's own words
        assert whisper.calls["whisper"] == 1  # and not resent by the transport layer
        assert await counts(app) == {"statements": 0, "text_cache": 0}

    async def test_unsupported_file_is_not_retried(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        pdf: bytes,
    ) -> None:
        message = "Unsupported file type. Please upload a valid document"
        whisper.fail("whisper", Fault(status=400, body=f'{{"message": "{message}"}}'.encode()), times=5)
        accepted = await upload_for_whisper(client, pdf)
        await drain(app, app_settings)

        job = await job_of(client, accepted)
        assert job["status"] == "failed"
        assert job["attempts"] == 1
        assert message in job["error"]["message"]
        assert whisper.calls["whisper"] == 1
        assert await counts(app) == {"statements": 0, "text_cache": 0}


GARBAGE = {
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "truncated_json": b'{"result_text": "<<<\\n page one',
    "empty_text": b'{"result_text": ""}',
    "no_separators": b'{"result_text": "page one without any separator and page two"}',
}


class TestGarbageAnswers:
    @pytest.mark.parametrize("body", list(GARBAGE.values()), ids=list(GARBAGE))
    async def test_garbage_retrieve_fails_the_job_after_bounded_attempts(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        pdf: bytes,
        body: bytes,
    ) -> None:
        # Far more faults than any bounded retry policy would consume.
        whisper.fail(
            "whisper-retrieve", Fault(status=200, body=body, headers={"Content-Type": "text/plain"}), 50
        )
        accepted = await upload_for_whisper(client, pdf)
        await drain(app, app_settings)

        job = await job_of(client, accepted)
        assert job["status"] == "failed", job
        assert 1 <= job["attempts"] <= MAX_ATTEMPTS
        assert job["error"]["code"] == "whisper_malformed_response", job["error"]
        assert job["error"]["message"].startswith("malformed response from LLMWhisperer")
        assert whisper.calls["whisper-retrieve"] <= MAX_ATTEMPTS * 2
        assert await counts(app) == {"statements": 0, "text_cache": 0}

    async def test_garbage_status_fails_the_job_and_the_next_job_still_runs(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        pdf: bytes,
    ) -> None:
        whisper.fail("whisper-status", Fault(status=200, body=b"<html>oops</html>"), times=50)
        accepted = await upload_for_whisper(client, pdf)
        await drain(app, app_settings)
        job = await job_of(client, accepted)
        assert job["status"] == "failed"
        assert job["error"]["code"] == "whisper_malformed_response"
        assert await counts(app) == {"statements": 0, "text_cache": 0}

        with whisper._lock:
            whisper._faults.clear()  # the service is healthy again
        other = statement_pdf(income_statement(), unicode_font=False)
        whisper.register(other, [page.text for page in local_page_text(other, None, 10)])
        again = await upload_for_whisper(client, other)
        await drain(app, app_settings)
        assert (await job_of(client, again))["status"] == "succeeded"


class TestRateLimitedBeyondTheDeadline:
    async def test_long_retry_after_reschedules_the_job_instead_of_sleeping(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        whisper: FakeWhisperServer,
        pdf: bytes,
    ) -> None:
        """Scenario 22: `Retry-After: 3600` on submit frees the worker slot; the job waits in `run_after`."""
        whisper.fail(
            "whisper",
            Fault(status=429, body=b'{"message": "Too many requests"}', headers={"Retry-After": "3600"}),
            times=5,
        )
        accepted = await upload_for_whisper(client, pdf)
        worker = Worker(sessionmaker=app.state.sessionmaker, engine=app.state.engine, settings=app_settings)
        await worker.run_until_empty()  # returns: nothing sleeps for an hour in a worker slot

        job = await job_of(client, accepted)
        assert job["status"] in {"pending", "failed"}, job
        if job["status"] == "pending":
            async with app.state.engine.connect() as conn:
                wait = await conn.scalar(
                    text("SELECT extract(epoch FROM run_after - now()) FROM jobs WHERE id = :id"),
                    {"id": accepted["job_id"]},
                )
            assert wait > 60, wait  # the hint is honoured (capped by the retry policy), not ignored
            assert job["attempts"] == 1
            assert any("whisper_rate_limited" in str(entry) for entry in job["history"]), job["history"]
        else:
            assert job["error"]["code"] == "whisper_rate_limited"
        assert whisper.calls["whisper"] <= 2  # no tight loop of paid submits
        assert await counts(app) == {"statements": 0, "text_cache": 0}
