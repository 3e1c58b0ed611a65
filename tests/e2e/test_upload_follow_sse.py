"""Upload over HTTP, follow the job's Server-Sent Events to the end, read the verified statements.

The app runs with its in-process worker (as `tieout serve` does) on a fresh embedded database; the
event stream ends by itself when the job does.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from app.statements.format import StatementSet
from tests.conftest import open_client
from tests.corpus.truth import corpus_file, load_truth, score
from tests.pdfs import balance_sheet, income_statement, statement_pdf


def parse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields.get("data", "{}"))))
    return events


async def upload_and_follow(client: httpx.AsyncClient, data: bytes, filename: str) -> tuple[str, list]:
    files = {"file": (filename, data, "application/pdf")}
    accepted = await client.post("/api/v1/documents", files=files)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    stream = await client.get(f"/api/v1/jobs/{job_id}/events", timeout=300)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    return accepted.json()["document"]["id"], parse_events(stream.text)


@pytest.fixture
def serving_settings(make_settings: Callable[..., Settings], fresh_database_url: str) -> Settings:
    """The test profile with the in-process worker on and a realistic job timeout."""
    return make_settings(
        database_url=fresh_database_url,
        run_worker=True,
        job_timeout_seconds=300.0,
        max_pdf_pages=1000,
        max_upload_bytes=50 * 1024 * 1024,
    )


@pytest.mark.slow
async def test_generated_filing_streams_to_succeeded_then_reads_verified(serving_settings: Settings):
    async with open_client(create_app(serving_settings)) as client:
        pdf = statement_pdf(income_statement(), balance_sheet())
        document_id, events = await upload_and_follow(client, pdf, "generated.pdf")
        statuses = [data.get("status") for name, data in events if name != "end"]
        progress = [data["progress"] for name, data in events if name != "end" and "progress" in data]
        assert statuses[-1] == "succeeded", events
        assert progress == sorted(progress) and progress[-1] == 100
        assert events[-1][0] == "end"
        body = (await client.get(f"/api/v1/documents/{document_id}/statements")).json()
        assert sorted(s["type"] for s in body["statements"]) == ["balance_sheet", "income_statement"]
        assert all(s["verified"] for s in body["statements"])


@pytest.mark.slow
@pytest.mark.corpus
async def test_nvidia_10k_streams_to_five_verified_statements_equal_to_the_truth(
    serving_settings: Settings, capsys
):
    pdf = corpus_file("pdf", "nvidia-10k-fy2020.pdf")
    truth = load_truth("nvidia-10k-fy2020")
    async with open_client(create_app(serving_settings)) as client:
        document_id, events = await upload_and_follow(client, pdf.read_bytes(), pdf.name)
        assert [data.get("status") for name, data in events if name != "end"][-1] == "succeeded", events
        answer = await client.get(f"/api/v1/documents/{document_id}/statements")
        statements = StatementSet.model_validate(answer.json()).statements
    assert len(statements) == 5 and all(s.verified for s in statements)
    result = score(statements, truth)
    with capsys.disabled():
        print(f"\nnvidia-10k over HTTP: {result}")
    assert result.exact == result.total and result.silent == 0, result.misses[:10]
