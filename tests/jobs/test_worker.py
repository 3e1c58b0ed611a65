"""In-process workers on a real database: drain mode, retries, timeouts, cancellation, LISTEN loss,
heartbeats, reaping, killed connections and graceful stop (reliability.md scenarios 5, 6, 7, 8, 9 at
the worker level)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.jobs import queue
from app.jobs import worker as worker_module
from app.jobs.retry import RetryPolicy
from app.jobs.worker import Worker, WorkerConfig
from tests.jobs.conftest import JobsDb
from tests.jobs.waiting import wait_until

FAST_RETRY = RetryPolicy(base_seconds=0.1, factor=2.0, cap_seconds=0.5, jitter=0.2)


async def wait_status(db: JobsDb, job_id: int, status: str, timeout: float = 10.0) -> None:
    async def reached() -> bool:
        return await db.status(job_id) == status

    await wait_until(reached, timeout=timeout, what=f"job {job_id} {status}")


async def test_run_until_empty_runs_every_job_once(
    jobs_db: JobsDb, make_worker: Callable[..., Worker]
) -> None:
    ids = [await jobs_db.enqueue("test.effect", {"key": str(i)}) for i in range(20)]
    ids += [await jobs_db.enqueue("test.noop") for _ in range(5)]
    assert await make_worker(concurrency=4).run_until_empty() == 25
    statuses = await jobs_db.rows("SELECT status, attempts, count(*) FROM jobs GROUP BY 1, 2")
    assert [tuple(r) for r in statuses] == [("succeeded", 1, 25)]
    assert sorted(e.job_id for e in await jobs_db.effects()) == sorted(ids[:20])


async def test_progress_is_visible_while_the_job_runs(
    jobs_db: JobsDb, make_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    job_id = await jobs_db.enqueue("test.progress", {"gate": str(gate)})
    await make_worker().start()
    for percent, stage in ((10, "text"), (60, "detect"), (85, "verify")):

        async def at(percent: int = percent) -> bool:
            return await jobs_db.scalar("SELECT progress FROM jobs WHERE id = :id", id=job_id) == percent

        await wait_until(at, timeout=10, what=f"progress {percent}")
        assert (await jobs_db.job(job_id)).stage == stage
        Path(f"{gate}.{percent}").touch()
    await wait_status(jobs_db, job_id, "succeeded")
    assert (await jobs_db.job(job_id)).progress == 100


class TestRetries:
    async def test_retryable_error_backs_off_then_fails_with_history(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        """Scenario 7a: 5 attempts, growing gaps within jitter of base·factor^n (capped), then failed."""
        job_id = await jobs_db.enqueue("test.fail", {"retryable": True}, max_attempts=5)
        await make_worker(retry=FAST_RETRY, poll_interval=0.05).start()
        await wait_status(jobs_db, job_id, "failed", timeout=20)
        job = await jobs_db.job(job_id)
        assert job.attempts == 5 and job.error["message"] == "failure on attempt 5"
        delays = [h["delay_seconds"] for h in job.history if h["event"] == "retry"]
        assert len(delays) == 4
        for n, delay in enumerate(delays):
            expected = min(0.5, 0.1 * 2.0**n)
            assert 0.5 * expected <= delay <= 1.5 * expected
        assert delays[2] > delays[0]
        assert [h["attempt"] for h in job.history] == [1, 2, 3, 4, 5]

    async def test_terminal_error_fails_at_once(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        """Scenario 7b."""
        job_id = await jobs_db.enqueue("test.fail", {"retryable": False, "message": "bad pdf"})
        await make_worker(retry=FAST_RETRY).run_until_empty()
        job = await jobs_db.job(job_id)
        assert (job.status, job.attempts, job.error["message"]) == ("failed", 1, "bad pdf")

    async def test_unknown_task_fails_terminally(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        job_id = await jobs_db.enqueue("test.nobody_registered_this")
        await make_worker().run_until_empty()
        job = await jobs_db.job(job_id)
        assert job.status == "failed" and "no task registered" in job.error["message"]

    async def test_timeout_frees_the_slot(self, jobs_db: JobsDb, make_worker: Callable[..., Worker]) -> None:
        """Scenario 7c: `test.hang` (1 s timeout) is cancelled; the next job runs in its slot."""
        hung = await jobs_db.enqueue("test.hang", max_attempts=1, priority=1)
        after = await jobs_db.enqueue("test.effect", {"key": "after"})
        await make_worker(concurrency=1).run_until_empty()
        job = await jobs_db.job(hung)
        assert job.status == "failed" and "timed out" in job.error["message"]
        assert await jobs_db.status(after) == "succeeded"

    async def test_handler_ignoring_its_timeout_is_abandoned_and_its_slot_freed(
        self,
        jobs_db: JobsDb,
        make_worker: Callable[..., Worker],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """`test.stubborn` swallows the cancellation: past the grace its slot serves the next job, and
        nothing is written for it (its lease expires; the next claim runs it again)."""
        monkeypatch.setattr(worker_module, "ABANDON_AFTER_SECONDS", 0.3)
        gate = tmp_path / "gate"
        stuck = await jobs_db.enqueue("test.stubborn", {"gate": str(gate)}, priority=1)
        after = await jobs_db.enqueue("test.effect", {"key": "after"})
        worker = make_worker(concurrency=1)
        await worker.start()
        try:
            await wait_status(jobs_db, after, "succeeded", timeout=10)
            assert await jobs_db.status(stuck) == "running"
            assert stuck not in worker._running
        finally:
            gate.touch()


class TestReaping:
    async def _dead_workers_last_attempt(self, jobs_db: JobsDb, *, lease_seconds: float) -> int:
        job_id = await jobs_db.enqueue("test.noop", max_attempts=1)
        async with jobs_db.engine.begin() as conn:
            await queue.claim(conn, "dead-worker", lease_seconds=lease_seconds)
        return job_id

    async def _assert_reaped(self, jobs_db: JobsDb, job_id: int) -> None:
        job = await jobs_db.job(job_id)
        assert (job.status, job.attempts, job.error["message"]) == ("failed", 1, "worker died during attempt")

    async def test_heartbeat_reaps_an_expired_last_attempt(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        job_id = await self._dead_workers_last_attempt(jobs_db, lease_seconds=1.0)
        await make_worker(heartbeat_seconds=0.2).start()  # its start finds the lease still valid
        await wait_status(jobs_db, job_id, "failed", timeout=5)
        await self._assert_reaped(jobs_db, job_id)

    async def test_drain_reaps_before_claiming(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        job_id = await self._dead_workers_last_attempt(jobs_db, lease_seconds=0.0)
        assert await make_worker().run_until_empty() == 0
        await self._assert_reaped(jobs_db, job_id)


async def test_killed_claim_and_completion_connections_are_replaced(
    jobs_db: JobsDb, make_worker: Callable[..., Worker]
) -> None:
    """`pg_terminate_backend` on the worker's own connections between jobs: it reconnects and goes on."""
    await make_worker(listen=False, poll_interval=0.1).start()
    for round_number in range(3):
        ids = [await jobs_db.enqueue("test.noop") for _ in range(5)]
        for job_id in ids:
            await wait_status(jobs_db, job_id, "succeeded", timeout=10)
        killed = await jobs_db.scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE 'tieout-worker-%'"
        )
        assert killed >= 2, round_number  # the claim and the completion connection at least


class TestCancellation:
    async def _cancel_running(self, jobs_db: JobsDb, worker: Worker, tmp_path: Path) -> None:
        job_id = await jobs_db.enqueue("test.effect", {"gate": str(tmp_path / "never")})
        await worker.start()
        await wait_status(jobs_db, job_id, "running")
        async with jobs_db.engine.begin() as conn:
            assert await queue.request_cancel(conn, job_id) == "running"
        await wait_status(jobs_db, job_id, "cancelled", timeout=2.0)
        job = await jobs_db.job(job_id)
        assert job.attempts == 1 and job.lease_owner is None
        assert await jobs_db.effects() == []

    async def test_running_job_is_cancelled_through_notify(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        await self._cancel_running(jobs_db, make_worker(heartbeat_seconds=2.5), tmp_path)

    async def test_running_job_is_cancelled_by_polling_without_listen(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        await self._cancel_running(jobs_db, make_worker(listen=False), tmp_path)

    async def test_pending_job_is_never_claimed(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        job_id = await jobs_db.enqueue("test.effect")
        async with jobs_db.engine.begin() as conn:
            assert await queue.request_cancel(conn, job_id) == "cancelled"
        worker = make_worker()
        assert await worker.run_until_empty() == 0
        assert (await jobs_db.job(job_id)).attempts == 0 and worker.claimed == 0


class TestListenLoss:
    async def test_worker_relistens_and_catches_up_after_losing_its_connection(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        """Scenario 9: with a 30 s poll, only LISTEN (or the catch-up claim) can start jobs quickly."""
        worker = make_worker(poll_interval=30.0)
        await worker.start()

        async def listening() -> bool:
            return worker.listener.connects >= 1

        await wait_until(listening, timeout=10, what="LISTEN connection")
        first = await jobs_db.enqueue("test.effect", {"key": "1"})
        await wait_status(jobs_db, first, "succeeded", timeout=5)
        await jobs_db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name LIKE 'tieout-listen-%'"
        )
        during = await jobs_db.enqueue("test.effect", {"key": "during"})

        async def relistened() -> bool:
            return worker.listener.connects >= 2

        await wait_until(relistened, timeout=10, what="LISTEN reconnect")
        await wait_status(jobs_db, during, "succeeded", timeout=5)
        after = await jobs_db.enqueue("test.effect", {"key": "after"})
        await wait_status(jobs_db, after, "succeeded", timeout=5)

    async def test_polling_alone_picks_up_jobs(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        await make_worker(listen=False, poll_interval=0.2).start()
        ids = [await jobs_db.enqueue("test.effect", {"key": str(i)}) for i in range(3)]
        for job_id in ids:
            await wait_status(jobs_db, job_id, "succeeded", timeout=5)


class TestHeartbeat:
    async def test_long_job_keeps_its_lease(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker]
    ) -> None:
        """Scenario 5a: a job running 4× the lease, next to an idle rival worker, runs once."""
        job_id = await jobs_db.enqueue("test.effect", {"sleep": 4.0})
        await make_worker(lease_seconds=1.0, heartbeat_seconds=0.25, poll_interval=0.1).start()
        await wait_status(jobs_db, job_id, "running")
        await make_worker(lease_seconds=1.0, heartbeat_seconds=0.25, poll_interval=0.1).start()
        await wait_status(jobs_db, job_id, "succeeded", timeout=15)
        assert (await jobs_db.job(job_id)).attempts == 1
        assert len(await jobs_db.effects()) == 1

    async def test_losing_the_lease_stops_the_handler(
        self, jobs_db: JobsDb, make_worker: Callable[..., Worker], tmp_path: Path
    ) -> None:
        """A reclaimed job: the old owner's heartbeat notices and stops its handler without writing."""
        gate = tmp_path / "gate"
        job_id = await jobs_db.enqueue("test.effect", {"gate": str(gate)})
        worker = make_worker(heartbeat_seconds=0.2)
        await worker.start()
        await wait_status(jobs_db, job_id, "running")
        await jobs_db.execute("UPDATE jobs SET fence = fence + 100 WHERE id = :id", id=job_id)

        async def stopped() -> bool:
            return job_id not in worker._running

        await wait_until(stopped, timeout=5, what="the handler to stop")
        gate.touch()
        assert await jobs_db.effects() == []
        assert await jobs_db.status(job_id) == "running"  # the (simulated) new owner's to finish


async def test_graceful_stop_finishes_short_jobs_and_releases_long_ones(
    jobs_db: JobsDb, make_worker: Callable[..., Worker]
) -> None:
    """Scenario 6 (in process): stop claiming, let short jobs finish in the grace, release the rest."""
    short = [await jobs_db.enqueue("test.effect", {"sleep": 0.3, "key": f"s{i}"}) for i in range(3)]
    long = await jobs_db.enqueue("test.sleep", {"seconds": 60})
    worker = make_worker(concurrency=4, shutdown_grace_seconds=2.0)
    await worker.start()

    async def all_running() -> bool:
        return await jobs_db.scalar("SELECT count(*) FROM jobs WHERE status = 'running'") == 4

    await wait_until(all_running, timeout=10, what="4 running jobs")
    waiting = [await jobs_db.enqueue("test.noop") for _ in range(5)]
    claimed = worker.claimed
    await asyncio.wait_for(worker.stop(), timeout=10)
    assert worker.claimed == claimed
    for job_id in short:
        assert await jobs_db.status(job_id) == "succeeded"
    job = await jobs_db.job(long)
    assert (job.status, job.attempts, job.history[-1]["event"]) == ("pending", 0, "released")
    for job_id in waiting:
        assert await jobs_db.status(job_id) == "pending"
    assert await jobs_db.scalar(text("SELECT count(*) FROM workers").text) == 0


def test_retry_backoff_comes_from_the_settings() -> None:
    """RETRY_BASE_SECONDS and RETRY_MAX_SECONDS shape the worker's backoff (4x per attempt, capped)."""
    settings = Settings(_env_file=None, retry_base_seconds=0.5, retry_max_seconds=7.0)  # type: ignore[call-arg]
    policy = WorkerConfig.from_settings(settings).retry
    assert (policy.base_seconds, policy.factor, policy.cap_seconds) == (0.5, 4.0, 7.0)
    assert policy.delay(3, random.Random(1)) <= 7.0 * (1 + policy.jitter)
