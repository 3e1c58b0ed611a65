"""Scenarios 1 and 23(b) with real `tieout worker` processes and the fake LLMWhisperer on 127.0.0.1.

Scenario 1 at full scale: two workers (concurrency 4 each), 50 extract jobs of generated PDFs, every
`/whisper-retrieve` held at a gate. Worker A is SIGKILLed by pid while it holds its four jobs, each
with its whisper_hash committed; worker C starts; the gate opens. A's jobs succeed on their second
attempt within lease + 10 s of the kill, all 50 within a bound that adds the extraction work; one
statement set per document; no document is submitted twice.

Scenario 23(b) in miniature: one job, the worker killed while the service holds a status poll (0
extra submits) or the retrieve, which the service then delivers into the dead socket (exactly one
re-submit). One statement set either way.
"""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from app.core.config import Settings
from app.documents.sandboxed import analyse_pages, local_page_text
from tests.fakes.whisper_server import FakeWhisperServer, Fault, _Handler
from tests.jobs.waiting import wait_until
from tests.pdfs import balance_sheet, income_statement, statement_pdf
from tests.reliability.processes import LEASE, Workers, owner_pattern

pytestmark = pytest.mark.slow

KEY = "worker-kill-key"
STEP_LEASE = 4.0  # the dead worker's claim on a submit/retrieve step lapses after this (prod 120 s)
JOBS = 50
CONCURRENCY = 4
# A's jobs must be done within lease + 10 s of the kill (measured 5-7 s). All 50 get that plus the
# extraction work itself: 50 analyse children (~0.5 CPU-s each, interpreter start included) on 2
# shared cores, and the dead worker's step lease (measured 8-14 s after the gate opens, 19 s with
# the whole suite running alongside).
EXTRACTION_ALLOWANCE = 20.0
BOUND = LEASE + 10.0 + STEP_LEASE + EXTRACTION_ALLOWANCE


def client_gone(connection: socket.socket) -> bool:
    """The peer closed (or reset) the connection: a killed process's sockets are closed by its kernel."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class _DeliverOnlyToLiveClients(_Handler):
    """A held retrieve whose client has died is answered without delivering the text (as a server
    that notices the disconnect before it builds the body); the dead-socket delivery is 23(b)."""

    def _answer(self, fake: FakeWhisperServer, method: str, endpoint: str, query: dict, body: bytes):
        if endpoint == "whisper-retrieve" and client_gone(self.connection):
            return 499, {"message": "client closed the connection"}
        return super()._answer(fake, method, endpoint, query, body)


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
def workers(fresh_database_url: str, whisper: FakeWhisperServer, tmp_path: Path) -> Iterator[Workers]:
    env = {
        "LLMWHISPERER_API_KEY": KEY,
        "LLMWHISPERER_BASE_URL": whisper.base_url,
        "LLMWHISPERER_STEP_LEASE_SECONDS": str(STEP_LEASE),
        "JOB_TIMEOUT_SECONDS": "60",
    }
    pool = Workers(fresh_database_url, tmp_path, env)
    yield pool
    pool.stop_all()


async def upload(client: httpx.AsyncClient, data: bytes, name: str) -> dict[str, Any]:
    files = {"file": (name, io.BytesIO(data), "application/pdf")}
    accepted = await client.post("/api/v1/documents", files=files, data={"engine": "llmwhisperer"})
    assert accepted.status_code == 202, accepted.text
    return {"job": accepted.json()["job_id"], "document": accepted.json()["document"]["id"]}


async def rows(app: FastAPI, sql: str, **params: Any) -> list[Any]:
    async with app.state.engine.connect() as conn:
        return list(await conn.execute(text(sql), params))


HELD_BY = """
    SELECT j.id, d.sha256, r.whisper_hash
    FROM jobs j
    JOIN documents d ON d.id::text = j.args ->> 'document_id'
    LEFT JOIN whisper_runs r ON r.sha256 = d.sha256
    WHERE j.status = 'running' AND j.lease_owner LIKE :owner
"""


class TestKillNineMidJobAtFullScale:
    async def test_jobs_of_the_killed_worker_finish_once_without_paying_twice(
        self, app: FastAPI, client: httpx.AsyncClient, whisper: FakeWhisperServer, workers: Workers
    ) -> None:
        """Scenario 1. reliability.md asks for >= 8 jobs `running` with A as `lease_owner`; with
        concurrency 4 per worker A can hold 4, so the kill waits for A's full concurrency (4 jobs,
        each holding its whisper_hash at the retrieve gate) and for B's 4 at the gate too (8 held)."""
        whisper._httpd.RequestHandlerClass = _DeliverOnlyToLiveClients
        whisper.state.status_script = ["processed"]  # no status-poll sleeps: the gate is the hold
        base = statement_pdf(income_statement(), balance_sheet())
        pages = local_page_text(base, None, 10)
        expected_types = sorted(statement["type"] for statement in analyse_pages(pages))
        gate = threading.Event()
        whisper.fail("whisper-retrieve", Fault(gate=gate), times=3 * JOBS)
        uploads = []
        for number in range(JOBS):
            data = base + b"%% copy %d\n" % number  # distinct bytes: one LLMWhisperer job each
            whisper.register(data, [page.text for page in pages])
            uploads.append(await upload(client, data, f"filing-{number}.pdf"))

        a = workers.spawn(worker_concurrency=CONCURRENCY)
        workers.spawn(worker_concurrency=CONCURRENCY)

        seen: list[Any] = []

        async def a_full_and_all_held() -> list[Any] | None:
            assert a.poll() is None, workers.log_of(a)
            seen[:] = await rows(app, HELD_BY, owner=owner_pattern(a))
            full = len(seen) == CONCURRENCY and all(row.whisper_hash for row in seen)
            return list(seen) if full and whisper.calls["whisper-retrieve"] >= 2 * CONCURRENCY else None

        try:
            held = await wait_until(a_full_and_all_held, timeout=60, interval=0.1, what="A's 4 jobs held")
        except AssertionError as exc:
            logs = [workers.log_of(proc)[-2000:] for proc in workers.procs]
            raise AssertionError(f"{exc}: A holds {seen}; calls {dict(whisper.calls)}; logs {logs}") from None
        a.kill()
        killed_at = (await rows(app, "SELECT now() AS at"))[0].at
        await asyncio.to_thread(a.wait, 30)
        workers.spawn(worker_concurrency=CONCURRENCY)
        gate.set()
        released = time.monotonic()

        async def all_succeeded() -> bool:
            done = await rows(app, "SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'")
            return done[0].n == JOBS

        await wait_until(all_succeeded, timeout=BOUND, interval=0.2, what=f"{JOBS} jobs succeeded")
        took = time.monotonic() - released
        recovered = await rows(
            app,
            "SELECT extract(epoch FROM max(finished_at) - :t) AS s FROM jobs WHERE id = ANY(:ids)",
            t=killed_at,
            ids=[r.id for r in held],
        )
        print(
            f"\nscenario 1: A's jobs succeeded {recovered[0].s:.1f} s after the kill; all {JOBS} "
            f"{took:.1f} s after the gate opened (bound {BOUND:.0f} s)"
        )

        # The jobs the kill interrupted are back and done within lease + 10 s, as reliability.md asks.
        assert recovered[0].s <= LEASE + 10.0, recovered[0].s
        states = await rows(app, "SELECT status, count(*) AS n FROM jobs GROUP BY status")
        assert [(r.status, r.n) for r in states] == [("succeeded", JOBS)]
        attempts = await rows(
            app, "SELECT id, attempts FROM jobs WHERE id = ANY(:ids)", ids=[r.id for r in held]
        )
        assert {r.attempts for r in attempts} == {2}, attempts
        per_document = await rows(
            app,
            "SELECT document_id, array_agg(type ORDER BY type) AS types, count(*) AS n, "
            "count(DISTINCT type) AS kinds FROM statements GROUP BY document_id",
        )
        assert len(per_document) == JOBS
        assert all(r.n == r.kinds and sorted(r.types) == expected_types for r in per_document), per_document
        # The hashes A had committed were polled and retrieved again, never paid for again; and no
        # document at all was submitted twice.
        assert all(whisper.state.submits_by_sha[row.sha256] == 1 for row in held)
        assert whisper.calls["whisper"] == JOBS
        assert sum(whisper.state.submits_by_sha.values()) == JOBS


@pytest.fixture
def start_worker(workers: Workers) -> Any:
    def launch() -> subprocess.Popen[bytes]:
        return workers.spawn(worker_concurrency=1)

    return launch


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
    accepted = await upload(client, data, "k.pdf")
    job_id, document_id = accepted["job"], accepted["document"]

    first = start_worker()

    async def held_call_arrived() -> bool:
        assert first.poll() is None
        return whisper.calls[held] >= 1

    await wait_until(held_call_arrived, timeout=60, interval=0.05, what=f"the worker's {held} call")
    first.kill()
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
    per_type = await rows(
        app, "SELECT count(*) AS n FROM statements WHERE document_id = :d GROUP BY type", d=document_id
    )
    assert per_type and {r.n for r in per_type} == {1}, per_type
