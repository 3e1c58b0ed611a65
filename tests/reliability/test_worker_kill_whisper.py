"""Scenarios 1 and 23(b) with real `tieout worker` processes and the fake LLMWhisperer on 127.0.0.1:
SIGKILL the worker while the service holds a status poll (the hash is already persisted) or the
retrieve (the service then delivers the text into a dead socket). A second worker finishes the job
after the lease: 0 extra submits in the first case, exactly one re-submit in the second, one
statement set either way.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from app.core.config import Settings
from app.documents.sandboxed import local_page_text
from tests.core.test_serve import TIEOUT
from tests.fakes.whisper_server import FakeWhisperServer
from tests.jobs.waiting import wait_until
from tests.pdfs import balance_sheet, income_statement, statement_pdf

pytestmark = pytest.mark.slow

KEY = "worker-kill-key"


@pytest.fixture
def whisper() -> Iterator[FakeWhisperServer]:
    with FakeWhisperServer(api_keys={KEY}) as server:
        yield server


@pytest.fixture
def app_settings(app_settings: Settings, whisper: FakeWhisperServer) -> Settings:
    return app_settings.model_copy(
        update={"llmwhisperer_api_key": SecretStr(KEY), "llmwhisperer_base_url": whisper.base_url}
    )


@pytest.fixture
def start_worker(
    fresh_database_url: str, whisper: FakeWhisperServer, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def launch() -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": fresh_database_url,
            "RUN_MIGRATIONS": "false",
            "TIEOUT_DATA_DIR": str(tmp_path / "data"),
            "LLMWHISPERER_API_KEY": KEY,
            "LLMWHISPERER_BASE_URL": whisper.base_url,
            "LEASE_SECONDS": "3",
            "HEARTBEAT_SECONDS": "1",
            "POLL_INTERVAL": "0.5",
            "RETRY_BASE_SECONDS": "0.1",
            "WORKER_CONCURRENCY": "1",
            "JOB_TIMEOUT_SECONDS": "60",
            # The dead worker's claim on the retrieve step lapses after this (production: 120 s).
            "LLMWHISPERER_STEP_LEASE_SECONDS": "4",
        }
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [TIEOUT, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
            )
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


@pytest.mark.parametrize(
    ("held", "submits"),
    [
        pytest.param("whisper-status", 1, id="killed-while-polling-no-resubmit"),
        pytest.param("whisper-retrieve", 2, id="killed-after-retrieve-one-resubmit"),
    ],
)
async def test_sigkilled_worker_costs_at_most_one_extra_submit(
    app: FastAPI,
    client: httpx.AsyncClient,
    whisper: FakeWhisperServer,
    start_worker,
    held: str,
    submits: int,
) -> None:
    data = statement_pdf(income_statement(), balance_sheet())
    whisper.register(data, [page.text for page in local_page_text(data, None, 10)])
    gate = whisper.hold(held)
    files = {"file": ("k.pdf", io.BytesIO(data), "application/pdf")}
    accepted = await client.post("/api/v1/documents", files=files, data={"engine": "llmwhisperer"})
    assert accepted.status_code == 202, accepted.text
    job_id, document_id = accepted.json()["job_id"], accepted.json()["document"]["id"]

    first = start_worker()

    async def held_call_arrived() -> bool:
        assert first.poll() is None
        return whisper.calls[held] >= 1

    await wait_until(held_call_arrived, timeout=60, interval=0.05, what=f"the worker's {held} call")
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait, 30)
    gate.set()  # the fake answers now, to a socket nobody reads (a retrieve counts as delivered)

    second = start_worker()

    async def finished() -> dict | None:
        assert second.poll() is None
        job = (await client.get(f"/api/v1/jobs/{job_id}")).json()
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    job = await wait_until(finished, timeout=90, interval=0.2, what="the job to finish on the second worker")
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert whisper.calls["whisper"] == submits
    async with app.state.engine.connect() as conn:
        per_type = (
            (
                await conn.execute(
                    text("SELECT count(*) FROM statements WHERE document_id = :d GROUP BY type"),
                    {"d": document_id},
                )
            )
            .scalars()
            .all()
        )
    assert per_type and set(per_type) == {1}, per_type
