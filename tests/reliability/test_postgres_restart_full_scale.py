"""Scenario 10 at full scale: `tieout serve` (API only) and two worker processes on a PostgreSQL of
the test's own, 100 ledger jobs, and a client uploading a statement PDF every second while polling
`GET /api/v1/jobs`, `/health/ready` and `/health`.

At 30 % of the jobs PostgreSQL is crashed (`pg_ctl stop -m immediate`: no checkpoint, WAL replay at
start) and started again once the client has seen the outage (so the outage is observed, not merely
possible); at 50 % every backend of the app's database is terminated, again and again, for 10 s.

Pass (reliability.md 10): every answer is 2xx or a JSON 503 with `Retry-After` (no 500, no
traceback, no dropped connection) and `/health/ready` reports the database down during the crash;
within 10 s of PostgreSQL accepting connections (and of the last kill) the API answers 2xx again,
both workers beat, and probe jobs enqueued at that moment are done, none of the three processes
restarted; all 100 jobs and every upload that got a 202 reach a final state within lease + 60 s;
the ledger has one row per job; no document has a statement type twice; no job is left `running`.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.errors import is_database_unavailable
from app.jobs import queue
from tests.conftest import fast_temp_dir
from tests.core.test_serve import free_port, start_serve, wait_until_ready
from tests.jobs import sample_tasks
from tests.jobs.waiting import wait_until
from tests.pdfs import income_statement, statement_pdf
from tests.reliability.dedicated_pg import DedicatedPostgres
from tests.reliability.processes import LEASE, TEST_PROFILE_ENV, Workers

pytestmark = pytest.mark.slow

JOBS = 100
PROBES = 4  # jobs enqueued after each outage, to see the workers finish new work
JOB_SECONDS = 1.5  # each ledger job sleeps this long: 100 jobs on 8 slots span the two outages
BACK_WITHIN = 10.0
FINAL = ("succeeded", "failed", "cancelled")
MONITOR = "tieout-test-monitor"


@dataclass(frozen=True)
class Answer:
    at: float
    what: str
    status: int | None
    body: str
    headers: dict[str, str]


@dataclass
class Client:
    """Uploads one PDF per second and polls the job list and both health checks, recording all."""

    base_url: str
    pdf: bytes
    answers: list[Answer] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Answer:
        try:
            response = await http.request(method, path, **kwargs)
            answer = Answer(
                time.monotonic(),
                f"{method} {path}",
                response.status_code,
                response.text,
                dict(response.headers),
            )
        except httpx.HTTPError as exc:  # a dropped connection or a hung request is a failure too
            answer = Answer(time.monotonic(), f"{method} {path}", None, repr(exc), {})
        self.answers.append(answer)
        return answer

    async def upload_every_second(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=20) as http:
            number = 0
            while not self.stop.is_set():
                began = time.monotonic()
                files = {"file": (f"u{number}.pdf", io.BytesIO(self.pdf), "application/pdf")}
                answer = await self.call(http, "POST", "/api/v1/documents", files=files)
                if answer.status == 202:
                    self.accepted.append(json.loads(answer.body)["job_id"])
                number += 1
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))

    async def poll(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=20) as http:
            while not self.stop.is_set():
                for path in ("/api/v1/jobs", "/health/ready", "/health"):
                    await self.call(http, "GET", path)
                await asyncio.sleep(0.2)

    def since(self, moment: float, what: str | None = None) -> list[Answer]:
        return [a for a in self.answers if a.at >= moment and (what is None or a.what == what)]


def assert_acceptable(answer: Answer) -> None:
    """2xx, or the outage answer: JSON 503 with Retry-After, the error body, no traceback."""
    assert answer.status is not None, f"{answer.what}: no answer ({answer.body})"
    if answer.status in (200, 202):
        return
    assert answer.status == 503, f"{answer.what}: {answer.status} {answer.body[:300]}"
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    assert int(answer.headers["retry-after"]) > 0, answer
    assert '"error"' in answer.body and "Traceback" not in answer.body and "asyncpg" not in answer.body, (
        answer
    )


def reports_database_down(answer: Answer) -> bool:
    return answer.what == "GET /health/ready" and answer.status == 503 and '"database"' in answer.body


@pytest.fixture
async def postgres() -> AsyncIterator[DedicatedPostgres]:
    folder = fast_temp_dir("tieout-outage-pg-")
    server = DedicatedPostgres(folder / "pg")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Stack:
    postgres: DedicatedPostgres
    url: str
    monitor: AsyncEngine
    workers: Workers
    serve: Any
    client: Client

    async def scalar(self, sql: str, **params: Any) -> Any:
        async def attempt() -> list[Any]:
            try:
                async with self.monitor.connect() as conn:
                    return [await conn.scalar(text(sql), params)]
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                return []  # the server is down or restarting: ask again

        return (await wait_until(attempt, timeout=30, interval=0.2, what=sql))[0]

    async def done(self) -> int:
        return int(
            await self.scalar("SELECT count(*) FROM jobs WHERE type = 'test.effect' AND status = 'succeeded'")
        )

    async def database_now(self) -> Any:
        return await self.scalar("SELECT now()")


@pytest.fixture
async def stack(
    postgres: DedicatedPostgres, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Stack]:
    url = await postgres.create_database(make_settings(), sample_tasks.LEDGER_DDL)
    monitor = create_async_engine(
        url, poolclass=NullPool, connect_args={"server_settings": {"application_name": MONITOR}, "timeout": 3}
    )
    async with monitor.begin() as conn:
        args = [{"key": str(number), "sleep": JOB_SECONDS} for number in range(JOBS)]
        await queue.enqueue_many(conn, "test.effect", args)
    port = free_port()
    env = {
        **TEST_PROFILE_ENV,
        "DATABASE_URL": url,
        "RUN_WORKER": "false",
        "TIEOUT_DATA_DIR": str(tmp_path / "api"),
        "DB_CONNECT_TIMEOUT": "2",
        "DB_POOL_TIMEOUT": "2",
        "LOG_LEVEL": "WARNING",
    }
    serve = start_serve(port, tmp_path / "serve.log", **env)
    workers = Workers(
        url, tmp_path, {"DB_CONNECT_TIMEOUT": "2", "DB_POOL_TIMEOUT": "2", "JOB_TIMEOUT_SECONDS": "60"}
    )
    try:
        await wait_until_ready(serve, f"http://127.0.0.1:{port}/health/ready")
        workers.spawn(sample_tasks=True)
        workers.spawn(sample_tasks=True)
        client = Client(f"http://127.0.0.1:{port}", statement_pdf(income_statement()))
        yield Stack(postgres, url, monitor, workers, serve, client)
    finally:
        workers.stop_all()
        if serve.poll() is None:
            serve.kill()
            serve.wait(30)
        await monitor.dispose()


async def wait_for_progress(stack: Stack, fraction: float) -> None:
    async def reached() -> bool:
        return await stack.done() >= JOBS * fraction  # the probes only make it reach it sooner

    await wait_until(reached, timeout=120, interval=0.2, what=f"{fraction:.0%} of the jobs")


async def assert_serving_again(stack: Stack, since: float, database_since: Any) -> float:
    """API 2xx, both workers beating, and probe jobs enqueued now finished, within BACK_WITHIN (the
    100 jobs may all be done by then, so fresh ones show the workers serve); how long it took."""
    args = [{"key": f"probe-{since}-{number}", "sleep": 0.1} for number in range(PROBES)]
    async with stack.monitor.begin() as conn:
        probes = await queue.enqueue_many(conn, "test.effect", args, priority=10)

    async def back() -> bool:
        listed = [a for a in stack.client.since(since, "GET /api/v1/jobs") if a.status == 200]
        beats = await stack.scalar(
            "SELECT count(DISTINCT pid) FROM workers WHERE heartbeat_at > :t AND pid = ANY(:pids)",
            t=database_since,
            pids=[proc.pid for proc in stack.workers.procs],
        )
        finished = await stack.scalar(
            "SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND status = 'succeeded'", ids=probes
        )
        return bool(listed) and beats == 2 and finished == PROBES

    await wait_until(back, timeout=BACK_WITHIN, interval=0.1, what="API and both workers serving again")
    return time.monotonic() - since


async def test_crash_restart_and_killed_connections_lose_nothing(stack: Stack) -> None:
    client = stack.client
    traffic = [asyncio.create_task(client.upload_every_second()), asyncio.create_task(client.poll())]
    try:
        await wait_for_progress(stack, 0.3)
        await stack.postgres.crash()
        crashed = time.monotonic()

        async def outage_seen() -> bool:
            return sum(reports_database_down(a) for a in client.since(crashed)) >= 2

        await wait_until(
            outage_seen, timeout=15, interval=0.1, what="/health/ready to report the database down"
        )
        await stack.postgres.start_again()
        restarted = time.monotonic()
        back_after_restart = await assert_serving_again(stack, restarted, await stack.database_now())

        await wait_for_progress(stack, 0.5)
        killing_began = time.monotonic()
        terminated = 0
        while time.monotonic() - killing_began < 10.0:
            terminated += await stack.scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> :me",
                me=MONITOR,
            )
            await asyncio.sleep(0.3)
        killing_ended = time.monotonic()
        back_after_kills = await assert_serving_again(stack, killing_ended, await stack.database_now())
        await asyncio.sleep(2.0)  # a little more traffic on the recovered stack
    finally:
        client.stop.set()
        await asyncio.gather(*traffic)

    async def all_final() -> bool:
        pending = await stack.scalar(
            "SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'cancelled')"
        )
        return pending == 0

    await wait_until(all_final, timeout=LEASE + 60, interval=0.2, what="every job in a final state")
    print(
        f"\nscenario 10: {len(client.answers)} answers, {len(client.accepted)} uploads accepted, "
        f"{sum(a.status == 503 for a in client.answers)} 503s, {terminated} backends terminated; "
        f"serving again {back_after_restart:.1f} s after the restart, "
        f"{back_after_kills:.1f} s after the kills"
    )

    for answer in client.answers:
        assert_acceptable(answer)
    assert any(reports_database_down(a) for a in client.since(crashed)), "the outage was never observed"
    assert all(a.status in (200, 202) for a in client.since(restarted + BACK_WITHIN) if a.at < killing_began)
    assert all(a.status in (200, 202) for a in client.since(killing_ended + BACK_WITHIN))
    assert stack.serve.poll() is None and all(proc.poll() is None for proc in stack.workers.procs)

    assert await stack.done() == JOBS + 2 * PROBES
    assert await stack.scalar("SELECT count(*) FROM job_effects") == JOBS + 2 * PROBES
    assert await stack.scalar("SELECT count(DISTINCT job_id) FROM job_effects") == JOBS + 2 * PROBES
    assert client.accepted, "no upload was ever accepted"
    uploads = await stack.scalar(
        "SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND status IN ('succeeded', 'failed', 'cancelled')",
        ids=client.accepted,
    )
    assert uploads == len(client.accepted)
    extracted = await stack.scalar(
        "SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND status = 'succeeded'", ids=client.accepted
    )
    print(f"scenario 10: {extracted} of {len(client.accepted)} accepted uploads extracted (succeeded)")
    duplicates = await stack.scalar(
        "SELECT count(*) FROM (SELECT 1 FROM statements GROUP BY document_id, type HAVING count(*) > 1) AS d"
    )
    assert duplicates == 0
    assert await stack.scalar("SELECT count(*) FROM jobs WHERE status = 'running'") == 0
