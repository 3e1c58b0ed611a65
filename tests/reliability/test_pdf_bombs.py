"""Scenario 15 (b)–(e) through the real job path.

(b) A nested FlateDecode stream inflating to 1 GiB, (d) 100,000 nested arrays and (e) a circular
`/Prev` run through a real `tieout worker` process, uploaded through the API (in-process, on the same
database): the bomb's extraction child is stopped by its RLIMIT_DATA and the job is `failed` "resource
limit exceeded" after one attempt; (d) and (e) end in a parser error or a timeout (or, as PDFium
reads both without trouble, with no statements); the worker process is never hung or crashed, its
RSS and the API's stay within ±50 MB, and it extracts the next document.
(c) A giant page or image: the OCR render is refused by the pixel cap (page skipped) or the child
hits its limits; in-process worker.

The extraction children run under a 256 MiB RLIMIT_DATA (the test profile in reliability.md (c)).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.conftest import WHISPER_KEY, using_whisper
from tests.fakes.whisper_server import FakeWhisperServer
from tests.jobs.waiting import drain_queue, wait_until
from tests.pdfs import income_statement, statement_pdf
from tests.reliability.pdf_bombs import circular_prev, deep_arrays, flate_bomb, giant_image, giant_page
from tests.reliability.processes import Workers, rss_mib

pytestmark = pytest.mark.slow

SANDBOX_MEMORY = 256 * 1024**2
JOB_TIMEOUT = 30.0
RSS_SLACK_MIB = 50.0
FINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    return app_settings.model_copy(
        update={"sandbox_memory_bytes": SANDBOX_MEMORY, "job_timeout_seconds": JOB_TIMEOUT, "max_attempts": 2}
    )


@pytest.fixture
def workers(fresh_database_url: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(fresh_database_url, tmp_path)
    yield pool
    pool.stop_all()


async def upload(client: httpx.AsyncClient, data: bytes, **fields: str) -> tuple[int, str]:
    files = {"file": ("bomb.pdf", io.BytesIO(data), "application/pdf")}
    response = await client.post("/api/v1/documents", files=files, data=fields)
    assert response.status_code == 202, response.text
    return response.json()["job_id"], response.json()["document"]["id"]


async def final_job(client: httpx.AsyncClient, job_id: int, timeout: float) -> dict:
    async def ended() -> dict | None:
        job = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        return job if job["status"] in FINAL else None

    return await wait_until(ended, timeout=timeout, interval=0.2, what=f"job {job_id} to end")


async def statements_of(client: httpx.AsyncClient, document_id: str) -> list:
    return (await client.get(f"/api/v1/documents/{document_id}/statements")).json()["statements"]


class TestBombsThroughAWorkerProcess:
    async def test_bomb_fails_on_its_limit_parser_traps_end_and_the_worker_serves_on(
        self, client: httpx.AsyncClient, workers: Workers
    ) -> None:
        worker = workers.spawn(
            worker_concurrency=2, sandbox_memory_bytes=SANDBOX_MEMORY, job_timeout_seconds=JOB_TIMEOUT
        )
        warm, _ = await upload(client, statement_pdf(income_statement()))
        assert (await final_job(client, warm, timeout=60))["status"] == "succeeded"
        api_before, worker_before = rss_mib(os.getpid()), rss_mib(worker.pid)

        bomb, _ = await upload(client, flate_bomb())
        traps = {name: await upload(client, build()) for name, build in TRAPS.items()}
        # Bounded: one attempt of the bomb, at most two attempts each up to the job timeout.
        bombed = await final_job(client, bomb, timeout=60)
        assert bombed["status"] == "failed", bombed
        assert bombed["error"]["code"] == "resource_limit_exceeded", bombed["error"]
        assert "resource limit exceeded" in bombed["error"]["message"], bombed["error"]
        assert bombed["attempts"] == 1  # not retried: the same input hits the same limit

        for name, (job_id, document_id) in traps.items():
            job = await final_job(client, job_id, timeout=2 * JOB_TIMEOUT + 30)
            print(f"\n{name}: {job['status']} {job['error']}")
            if job["status"] == "failed":  # a parser error or a limit, typed, not a crash
                assert job["error"]["code"] in TRAP_ERRORS, (name, job["error"])
            else:
                assert job["status"] == "succeeded", (name, job)
                assert await statements_of(client, document_id) == [], name

        after, _ = await upload(client, statement_pdf(income_statement()))
        assert (await final_job(client, after, timeout=60))["status"] == "succeeded"
        assert worker.poll() is None, workers.log_of(worker)
        api_after, worker_after = rss_mib(os.getpid()), rss_mib(worker.pid)
        print(
            f"\nscenario 15: RSS API {api_before:.0f} -> {api_after:.0f} MiB, worker {worker_before:.0f} -> "
            f"{worker_after:.0f} MiB; bomb: {bombed['error']['message']}"
        )
        assert abs(api_after - api_before) <= RSS_SLACK_MIB, (api_before, api_after)
        assert abs(worker_after - worker_before) <= RSS_SLACK_MIB, (worker_before, worker_after)


TRAPS: dict[str, Callable[[], bytes]] = {"deep-arrays": deep_arrays, "circular-prev": circular_prev}
TRAP_ERRORS = {"pdf_corrupt", "pdf_invalid", "timed_out", "resource_limit_exceeded"}


@pytest.mark.parametrize(
    "build",
    [pytest.param(giant_image, id="image-50000x50000"), pytest.param(giant_page, id="page-200x200-inches")],
)
async def test_giant_page_or_image_ends_clearly_and_the_worker_goes_on(
    app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, build: Callable[[], bytes]
) -> None:
    data = build()
    assert len(data) < app_settings.max_upload_bytes
    giant, document = await upload(client, data, pages="1")
    await drain_queue(app, app_settings)

    job = (await client.get(f"/api/v1/jobs/{giant}")).json()
    if job["status"] == "failed":
        assert job["error"]["code"] == "resource_limit_exceeded", job
        assert "resource limit exceeded" in job["error"]["message"]
    else:  # the pixel cap refused the render: the page is skipped, nothing is made up
        assert job["status"] == "succeeded", job
        assert await statements_of(client, document) == []

    normal, _ = await upload(client, statement_pdf(income_statement()))
    await drain_queue(app, app_settings.model_copy(update={"job_timeout_seconds": 120.0}))
    assert (await client.get(f"/api/v1/jobs/{normal}")).json()["status"] == "succeeded"


class TestBombForLLMWhisperer:
    @pytest.fixture
    def app_settings(self, app_settings: Settings, whisper: FakeWhisperServer) -> Settings:
        return using_whisper(app_settings, whisper)

    async def test_bomb_sent_to_llmwhisperer_fails_in_the_sandbox_before_anything_is_billed(
        self, client: httpx.AsyncClient, workers: Workers, whisper: FakeWhisperServer
    ) -> None:
        """The cheap pass that picks the pages to send parses the PDF with PDFium: it runs in the
        sandbox too, so the bomb fails its own job on the memory limit, nothing is submitted (or
        billed), and the worker process stays small and serves on."""
        worker = workers.spawn(
            worker_concurrency=1,
            sandbox_memory_bytes=SANDBOX_MEMORY,
            job_timeout_seconds=JOB_TIMEOUT,
            llmwhisperer_api_key=WHISPER_KEY,
            llmwhisperer_base_url=whisper.base_url,
        )
        bomb, _ = await upload(client, flate_bomb(), engine="llmwhisperer")
        bombed = await final_job(client, bomb, timeout=60)
        assert bombed["status"] == "failed", bombed
        assert bombed["error"]["code"] == "resource_limit_exceeded", bombed["error"]
        assert whisper.calls["whisper"] == 0, whisper.calls
        assert rss_mib(worker.pid) < SANDBOX_MEMORY / 1024**2, "the worker itself parsed the bomb"
        assert worker.poll() is None, workers.log_of(worker)
