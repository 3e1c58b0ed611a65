"""Recording how a job ended: succeeded (batched), cancelled, released, retried later or failed.

Input: the claimed job, its context and the handler's `Outcome`. Every write is fenced on the
job's `(id, fence)` and retried through database outages for up to one lease; past that the lease
has expired anyway and the next claim runs the job again (at-least-once). Successes of jobs that
finish together are marked in one statement (River's batch completer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import is_database_unavailable
from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.retry import RetryPolicy, describe_error, error_text, next_run_after
from app.jobs.tasks import Outcome, TaskContext

log = structlog.get_logger("tieout.jobs")
T = TypeVar("T")


def job_logger(job: ClaimedJob, worker_id: str) -> Any:
    return log.bind(job_id=job.id, task=job.type, attempt=job.attempts, worker_id=worker_id)


def log_db_error(event: str, exc: BaseException) -> None:
    """A warning for a database outage (expected, retried), an error for anything else."""
    if is_database_unavailable(exc):
        log.warning(event, error=type(exc).__name__, detail=str(exc)[:200])
    else:
        log.error(event, error=repr(exc)[:500])


class OutcomeWriter:
    def __init__(self, engine: AsyncEngine, *, lease_seconds: float, policy: RetryPolicy) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.policy = policy

    async def record(self, job: ClaimedJob, ctx: TaskContext, outcome: Outcome) -> None:
        """Write the new state of a job that did not succeed (successes go through `completer.py`)."""
        lease, kind = job.lease, outcome.kind
        bound = job_logger(job, ctx.worker_id)
        if kind == "ok":
            raise ValueError("successes are written by the completer")
        if kind == "cancelled" or (kind == "shutdown" and ctx.cancel_requested):
            await self.write(lambda conn: queue.mark_cancelled(conn, lease))
            bound.info("job.cancelled")
        elif kind == "shutdown":
            await self.write(lambda conn: queue.release(conn, lease, reason="shutdown"))
            bound.info("job.released")
        elif kind == "error":
            await self._record_error(job, outcome.value, bound)
        else:
            bound.warning(f"job.{kind}")

    async def _record_error(self, job: ClaimedJob, error: BaseException, bound: Any) -> None:
        decision = next_run_after(
            job.attempts, error, max_attempts=job.max_attempts, now=datetime.now(UTC), policy=self.policy
        )
        info = describe_error(error)
        full = error_text(error)  # the stored message is its summary; the log keeps all of it
        logged = {**info, "error_text": full} if full.strip() != info["message"] else info
        delay = decision.delay_seconds
        if delay is not None:
            await self.write(lambda conn: queue.retry_later(conn, job.lease, info, delay_seconds=delay))
            bound.warning("job.retry_scheduled", delay_seconds=round(delay, 3), **logged)
        else:
            await self.write(lambda conn: queue.fail(conn, job.lease, info))
            bound.warning("job.failed", retryable=decision.retryable, **logged)

    async def write(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """`fn(conn)` on an autocommit connection, retrying outages for up to one lease."""

        async def once() -> T:
            async with self.engine.connect() as conn:
                return await fn(conn)

        return await retry_outages(once, within_seconds=self.lease_seconds)


async def retry_outages(call: Callable[[], Awaitable[T]], *, within_seconds: float) -> T:
    """`call()`, again after a database outage (growing pauses) until `within_seconds` have passed:
    a job's write must land before its lease could be taken, or not at all."""
    deadline = time.monotonic() + within_seconds
    delay = 0.05
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_database_unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("job.write_retry", error=type(exc).__name__, detail=str(exc)[:200])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
