"""Queue SQL against real PostgreSQL: claim, leases, fencing, retries, cancellation, NOTIFY, contention.

Most tests run inside one rolled-back transaction (`session`), where `now()` stands still: a lease
"expires" by back-dating `lease_expires_at`, the technique of Oban's and River's rescuer tests.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.jobs import queue
from app.jobs.fencing import Fence, LeaseLost, lock_fence
from tests.jobs.conftest import JobsDb


async def job_row(session: AsyncSession, job_id: int) -> Any:
    return (await session.execute(text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id})).one()


async def expire(session: AsyncSession, job_id: int) -> None:
    sql = "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = :id"
    await session.execute(text(sql), {"id": job_id})


class TestEnqueueAndClaim:
    async def test_claim_sets_lease_fence_and_counts_the_attempt(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.noop", {"n": 1}, max_attempts=3)
        [job] = await queue.claim(session, "w1", limit=5, lease_seconds=30)
        assert (job.id, job.type, job.args, job.attempts, job.max_attempts) == (
            job_id,
            "test.noop",
            {"n": 1},
            1,
            3,
        )
        row = await job_row(session, job_id)
        assert row.status == "running" and row.lease_owner == "w1" and row.fence == job.fence != 0
        assert row.lease_expires_at > row.started_at
        assert await queue.claim(session, "w2", limit=5) == []

    async def test_priority_then_age_order_and_delayed_jobs_wait(self, session: AsyncSession) -> None:
        low = await queue.enqueue(session, "test.noop", priority=0)
        high = await queue.enqueue(session, "test.noop", priority=5)
        await queue.enqueue(session, "test.noop", priority=9, delay_seconds=60)
        claimed = await queue.claim(session, "w1", limit=10)
        assert [j.id for j in claimed] == [high, low]

    async def test_batch_claim_never_exceeds_its_limit(self, session: AsyncSession) -> None:
        await queue.enqueue_many(session, "test.noop", [{"i": i} for i in range(12)])
        sizes = [len(await queue.claim(session, "w1", limit=5)) for _ in range(4)]
        assert sizes == [5, 5, 2, 0]


class TestExpiredLeases:
    async def test_expired_lease_is_claimed_by_the_normal_query_with_a_new_fence(
        self, session: AsyncSession
    ) -> None:
        job_id = await queue.enqueue(session, "test.noop")
        [first] = await queue.claim(session, "w1")
        await expire(session, job_id)
        [second] = await queue.claim(session, "w2")
        assert second.id == job_id and second.fence != first.fence and second.attempts == 2
        row = await job_row(session, job_id)
        assert row.lease_owner == "w2"
        assert row.history[-1]["event"] == "lease_expired" and row.history[-1]["owner"] == "w1"

    async def test_stale_owner_cannot_write_anything(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.noop")
        [stale] = await queue.claim(session, "w1")
        await expire(session, job_id)
        [current] = await queue.claim(session, "w2")
        error = {"code": "x", "message": "m"}
        for write in (
            queue.complete(session, stale.lease, "zombie"),
            queue.set_progress(session, stale.lease, 50, "parse"),
            queue.retry_later(session, stale.lease, error, delay_seconds=1),
            queue.fail(session, stale.lease, error),
            queue.mark_cancelled(session, stale.lease),
            lock_fence(session, stale.lease),
        ):
            with pytest.raises(LeaseLost):
                await write
        assert not await queue.release(session, stale.lease)
        await queue.complete(session, current.lease, {"by": "w2"})
        row = await job_row(session, job_id)
        assert (row.status, row.result, row.attempts) == ("succeeded", {"by": "w2"}, 2)

    async def test_expired_with_no_attempt_left_is_reaped_as_worker_died(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.crash", max_attempts=1)
        await queue.claim(session, "w1")
        await expire(session, job_id)
        assert await queue.claim(session, "w2") == []  # never run again...
        assert (await job_row(session, job_id)).status == "running"
        assert await queue.reap_expired(session) == [job_id]  # ...but finished by the reaper
        row = await job_row(session, job_id)
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.error["message"] == "worker died during attempt"
        assert row.lease_owner is None and row.finished_at is not None

    async def test_expired_with_cancel_requested_is_reaped_cancelled(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.noop")
        await queue.claim(session, "w1")
        assert await queue.request_cancel(session, job_id) == "running"
        await expire(session, job_id)
        assert await queue.claim(session, "w2") == []
        assert await queue.reap_expired(session) == [job_id]
        assert (await job_row(session, job_id)).status == "cancelled"
        assert await queue.reap_expired(session) == []


class TestLeaseRenewal:
    async def test_renew_extends_current_leases_and_reports_cancel_requests(
        self, session: AsyncSession
    ) -> None:
        a = await queue.enqueue(session, "test.noop")
        b = await queue.enqueue(session, "test.noop")
        jobs = {j.id: j for j in await queue.claim(session, "w1", limit=2, lease_seconds=5)}
        await queue.request_cancel(session, b)
        renewed = await queue.renew_leases(session, [j.lease for j in jobs.values()], lease_seconds=60)
        assert renewed == {a: False, b: True}
        stale = Fence(a, jobs[a].fence - 1)
        assert await queue.renew_leases(session, [stale], lease_seconds=60) == {}


class TestOutcomes:
    async def test_retry_later_puts_the_job_back_with_backoff(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.fail")
        [job] = await queue.claim(session, "w1")
        await queue.retry_later(session, job.lease, {"code": "flaky", "message": "m"}, delay_seconds=30)
        row = await job_row(session, job_id)
        assert row.status == "pending" and row.lease_owner is None and row.error["code"] == "flaky"
        assert row.history[-1]["event"] == "retry" and row.history[-1]["delay_seconds"] == 30
        assert await queue.claim(session, "w1") == []  # run_after is in the future

    async def test_release_does_not_count_the_interrupted_attempt(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.sleep")
        [job] = await queue.claim(session, "w1")
        assert await queue.release(session, job.lease, reason="shutdown")
        row = await job_row(session, job_id)
        assert (row.status, row.attempts, row.history[-1]["event"]) == ("pending", 0, "released")
        [again] = await queue.claim(session, "w2")
        assert again.attempts == 1


class TestCancelAndRetry:
    async def test_cancel_pending_at_once_running_by_flag_final_not_at_all(
        self, session: AsyncSession
    ) -> None:
        pending = await queue.enqueue(session, "test.noop")
        running = await queue.enqueue(session, "test.noop", priority=1)
        await queue.claim(session, "w1")
        assert await queue.request_cancel(session, pending) == "cancelled"
        assert await queue.request_cancel(session, running) == "running"
        assert (await job_row(session, running)).cancel_requested
        assert await queue.request_cancel(session, pending) is None
        assert await queue.claim(session, "w2") == []

    async def test_retry_now_resets_failed_and_cancelled_only(self, session: AsyncSession) -> None:
        job_id = await queue.enqueue(session, "test.fail", max_attempts=1)
        [job] = await queue.claim(session, "w1")
        assert not await queue.retry_now(session, job_id)  # running
        await queue.fail(session, job.lease, {"code": "bad", "message": "boom"})
        assert await queue.retry_now(session, job_id)
        row = await job_row(session, job_id)
        assert (row.status, row.attempts, row.error) == ("pending", 0, None)
        assert [h["event"] for h in row.history] == ["failed", "retried"]


async def test_claim_uses_the_partial_indexes_at_scale(session: AsyncSession) -> None:
    """200k finished rows: the claim reads indexes only (the partial ones, or status + id), no seq scan."""
    await session.execute(
        text(
            "INSERT INTO jobs (type, status, finished_at) "
            "SELECT 'test.noop', 'succeeded', now() FROM generate_series(1, 200000)"
        )
    )
    await queue.enqueue_many(session, "test.noop", [{}] * 20)
    await session.execute(text("ANALYZE jobs"))
    statement, direct = queue._claim_statement(5)
    sql = str(statement).replace(":owner", "'w'").replace(":lease", "30")
    plan = json.dumps((await session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar_one())
    assert '"Seq Scan"' not in plan and "ix_jobs_" in plan
    # The plan a prepared claim keeps (the worker's direct path) must be as good.
    await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    await session.execute(text(f"PREPARE claim_probe AS {direct.sql}"))
    try:
        explain = text("EXPLAIN (FORMAT JSON) EXECUTE claim_probe('w', 30)")
        plan = json.dumps((await session.execute(explain)).scalar_one())
    finally:
        await session.execute(text("DEALLOCATE claim_probe"))
    assert '"Seq Scan"' not in plan and "ix_jobs_" in plan


async def test_direct_claim_and_completion_commit_on_their_own(jobs_db: JobsDb) -> None:
    """The worker's asyncpg path: the same statements in autocommit, the completion fenced."""
    ids = [await jobs_db.enqueue("test.noop", {"i": i}) for i in range(3)]
    conn = await asyncpg.connect(jobs_db.url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        jobs = await queue.claim_direct(conn, "w1", limit=2, lease_seconds=30)
        assert [(j.id, j.args, j.attempts) for j in jobs] == [(ids[0], {"i": 0}, 1), (ids[1], {"i": 1}, 1)]
        assert await jobs_db.status(ids[0]) == "running"  # committed: another connection sees it
        stale = Fence(jobs[1].id, jobs[1].fence + 1)
        assert await queue.complete_many_direct(conn, [(jobs[0].lease, {"r": 1}), (stale, None)]) == {ids[0]}
        row = await jobs_db.job(ids[0])
        assert (row.status, row.result, row.lease_owner) == ("succeeded", {"r": 1}, None)
        assert await jobs_db.status(ids[1]) == "running"
        assert await queue.reap_expired_direct(conn) == []
    finally:
        await conn.close()


async def test_complete_and_claim_completes_fenced_and_claims_only_other_rows(jobs_db: JobsDb) -> None:
    """One statement: successes written (stale fence refused), then fresh jobs leased for the slots."""
    ids = [await jobs_db.enqueue("test.noop") for _ in range(4)]
    conn = await asyncpg.connect(jobs_db.url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        first, second = await queue.claim_direct(conn, "w1", limit=2, lease_seconds=30)
        # The lease of the job being completed ran out: the same statement must not re-claim it.
        sql = "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = :id"
        await jobs_db.execute(sql, id=first.id)
        stale = Fence(second.id, second.fence + 1)
        done, claimed = await queue.complete_and_claim_direct(
            conn, [(first.lease, {"ok": 1}), (stale, None)], "w1", limit=3, lease_seconds=30
        )
        assert done == {first.id}
        assert [(j.id, j.attempts) for j in claimed] == [(ids[2], 1), (ids[3], 1)]
        row = await jobs_db.job(first.id)
        assert (row.status, row.result, row.attempts) == ("succeeded", {"ok": 1}, 1)
        assert await jobs_db.status(second.id) == "running"
        done, claimed = await queue.complete_and_claim_direct(
            conn, [(second.lease, None)], "w1", limit=1, lease_seconds=30
        )
        assert (done, claimed) == ({second.id}, [])
    finally:
        await conn.close()


async def test_notify_is_delivered_at_commit_only(jobs_db: JobsDb) -> None:
    conn = await asyncpg.connect(jobs_db.url.replace("postgresql+asyncpg://", "postgresql://", 1))
    received: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener(queue.JOBS_CHANNEL, lambda *args: received.put_nowait(args[3]))
    try:
        async with jobs_db.engine.connect() as db:
            await queue.enqueue(db, "test.noop")
            await conn.execute("SELECT 1")  # a round trip on the listener: nothing delivered yet
            assert received.empty()
            await db.commit()
        assert await asyncio.wait_for(received.get(), timeout=5) == ""
    finally:
        await conn.close()


async def test_concurrent_claimers_never_share_a_job(jobs_db: JobsDb) -> None:
    """Scenario 2 (micro): 16 claimers, LIMIT 5, 1,000 jobs: each job claimed once, no claim > 5."""
    async with jobs_db.engine.begin() as conn:
        await queue.enqueue_many(conn, "test.noop", [{}] * 1000, max_attempts=1)
    engine = create_async_engine(jobs_db.url, pool_size=16, isolation_level="AUTOCOMMIT")
    sizes: list[int] = []
    seen: list[int] = []

    async def claimer(n: int) -> None:
        async with engine.connect() as conn:
            while jobs := await queue.claim(conn, f"w{n}", limit=5):
                sizes.append(len(jobs))
                seen.extend(j.id for j in jobs)

    try:
        await asyncio.wait_for(asyncio.gather(*(claimer(n) for n in range(16))), timeout=120)
    finally:
        await engine.dispose()
    assert max(sizes) <= 5
    assert len(seen) == len(set(seen)) == 1000
    rows = await jobs_db.rows("SELECT status, attempts, count(*) FROM jobs GROUP BY 1, 2")
    assert [tuple(r) for r in rows] == [("running", 1, 1000)]
