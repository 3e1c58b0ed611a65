"""Poll a condition with a deadline instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T]], *, timeout: float, interval: float = 0.05, what: str = "condition"
) -> T:
    """Await `probe()` until it returns something truthy; that value, or AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {value!r})")
        await asyncio.sleep(interval)


async def drain_queue(app, settings, *, timeout: float = 120, what: str = "the job queue to drain") -> int:
    """Run an in-process worker on `app`'s database until no job is pending or running; jobs finished.

    Retries are included (the loop goes on while a retried job waits for its `run_after`), bounded by
    `timeout`.
    """
    from sqlalchemy import text

    from app.jobs.worker import Worker

    worker = Worker(sessionmaker=app.state.sessionmaker, engine=app.state.engine, settings=settings)
    finished = 0

    async def drained() -> bool:
        nonlocal finished
        finished += await worker.run_until_empty()
        async with app.state.engine.connect() as conn:
            open_jobs = await conn.scalar(
                text("SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')")
            )
        return open_jobs == 0

    await wait_until(drained, timeout=timeout, interval=0.1, what=what)
    return finished


LOCK_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def wait_for_lock_waiter(engine: Any, *, what: str, timeout: float = 10) -> None:
    """Until a backend of `engine`'s database waits on a row or advisory lock (a race staged on purpose)."""

    async def someone_waits() -> bool:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text(LOCK_WAITERS)))

    await wait_until(someone_waits, timeout=timeout, what=what)
