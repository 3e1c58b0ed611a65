"""Scenario 13 (fuzz half): Hypothesis mutates generated PDFs (bit flips, truncation, xref and trailer
damage, spliced junk); every upload answers 202 or a typed 4xx JSON error, never a 5xx, and every
202 ends in a final job state when a real worker runs the queue (sandboxed extraction children).

Bounded: a fixed number of examples, one shared app and database per test run.
"""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.config import Settings
from tests.documents.conftest import make_pdf
from tests.jobs.waiting import drain_queue

EXAMPLES = 60
BASES = [make_pdf(1, "fuzz base one"), make_pdf(3, "fuzz base three")]
FINAL = {"succeeded", "failed", "cancelled"}


@st.composite
def mutated_pdfs(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        if len(data) < 16:
            break
        kind = draw(st.sampled_from(["flip", "truncate", "xref", "startxref", "splice", "delete"]))
        if kind == "flip":
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[draw(st.integers(1, len(data) - 1)) :]
        elif kind == "xref":
            at = max(data.rfind(b"xref"), 0)
            junk = draw(st.binary(min_size=1, max_size=64))
            data[at : at + len(junk)] = junk
        elif kind == "startxref":
            at = data.rfind(b"startxref")
            if at >= 0:
                data[at + 10 :] = str(draw(st.integers(-10, 10**12))).encode() + b"\n%%EOF\n"
        elif kind == "splice":
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=256))
        else:
            start = draw(st.integers(0, len(data) - 1))
            del data[start : start + draw(st.integers(1, 512))]
    return bytes(data)


@pytest.mark.slow
async def test_mutated_pdfs_get_202_or_a_typed_4xx_and_every_job_ends(
    app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
) -> None:
    loop = asyncio.get_running_loop()
    job_ids: list[int] = []
    statuses: list[int] = []

    async def post(data: bytes) -> httpx.Response:
        files = {"file": ("fuzz.pdf", io.BytesIO(data), "application/pdf")}
        return await client.post("/api/v1/documents", files=files)

    # Hypothesis drives the examples from a thread; each upload runs on the test's event loop.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=mutated_pdfs())
    def upload_answers_without_5xx(data: bytes) -> None:
        response = asyncio.run_coroutine_threadsafe(post(data), loop).result(timeout=60)
        assert response.status_code in {202, 400, 413, 415, 422}, (response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
        statuses.append(response.status_code)
        if response.status_code == 202:
            job_ids.append(response.json()["job_id"])
        else:
            assert response.json()["error"]["code"], response.text

    await asyncio.to_thread(upload_answers_without_5xx)
    assert len(statuses) >= EXAMPLES // 2, len(statuses)
    assert any(status >= 400 for status in statuses), "the mutations never damaged a PDF"

    # Every accepted upload ends in a final job state when a real worker runs the queue.
    worker_settings = app_settings.model_copy(update={"worker_concurrency": 4, "max_attempts": 2})
    await drain_queue(app, worker_settings, timeout=180, what="every fuzz job to finish")
    for job_id in job_ids:
        job = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        assert job["status"] in FINAL, job
        if job["status"] == "failed":
            assert job["error"]["code"] and job["error"]["message"], job
            if job["error"]["code"].startswith("pdf_"):
                assert job["attempts"] == 1, job  # a damaged PDF fails the same way every time
