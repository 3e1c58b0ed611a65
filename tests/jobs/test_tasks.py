"""`run_handler`: the handler runs in the job's own task; `ctx.stop()` cancels only the handler.

Pure asyncio (no database): the context's sessionmaker is never used here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.jobs.queue import ClaimedJob
from app.jobs.retry import JobError, JobTimeoutError
from app.jobs.tasks import Outcome, TaskContext, TaskSpec, run_handler


def make_context() -> TaskContext:
    job = ClaimedJob(1, "test.unit", {}, 1, 5, 42, 0)
    return TaskContext(job, sessionmaker=None, worker_id="w")  # type: ignore[arg-type]


async def run_in_task(spec: TaskSpec, ctx: TaskContext, *, after: Any = None) -> asyncio.Task[Any]:
    """Start `run_handler` in its own task (as the worker does); `after()` runs in it afterwards."""

    async def job() -> tuple[Outcome, Any]:
        outcome = await run_handler(spec, ctx, timeout_seconds=1.0)
        return outcome, await after() if after else None

    return asyncio.create_task(job())


async def test_a_handler_returning_is_ok() -> None:
    async def handler(ctx: TaskContext) -> int:
        return 7

    task = await run_in_task(TaskSpec("t", handler), make_context())
    outcome, _ = await task
    assert (outcome.kind, outcome.value) == ("ok", 7)


async def test_stop_cancels_the_handler_and_the_rest_of_the_task_runs_uncancelled() -> None:
    started = asyncio.Event()

    async def handler(ctx: TaskContext) -> None:
        started.set()
        await asyncio.Event().wait()

    async def write_outcome() -> str:
        await asyncio.sleep(0.01)  # an await after the stop: must not be cancelled
        return "written"

    ctx = make_context()
    task = await run_in_task(TaskSpec("t", handler), ctx, after=write_outcome)
    await started.wait()
    ctx.stop("shutdown")
    ctx.stop("shutdown")  # twice: both cancellations are withdrawn
    outcome, written = await task
    assert (outcome.kind, written, task.cancelling()) == ("shutdown", "written", 0)


async def test_a_timeout_stop_is_a_timeout_error() -> None:
    ctx = make_context()

    async def handler(ctx: TaskContext) -> None:
        ctx.stop("timeout")  # what the worker's deadline check does from outside
        await asyncio.sleep(10)

    outcome, _ = await (await run_in_task(TaskSpec("t", handler), ctx))
    assert outcome.kind == "error" and isinstance(outcome.value, JobTimeoutError)


async def test_a_job_stopped_before_it_started_never_runs_its_handler() -> None:
    ran = False

    async def handler(ctx: TaskContext) -> None:
        nonlocal ran
        ran = True

    ctx = make_context()
    ctx.stop("cancelled")
    outcome, _ = await (await run_in_task(TaskSpec("t", handler), ctx))
    assert (outcome.kind, ran, ctx.cancel_requested) == ("cancelled", False, True)


async def test_a_handler_cancelling_itself_is_an_error() -> None:
    async def handler(ctx: TaskContext) -> None:
        raise asyncio.CancelledError

    outcome, _ = await (await run_in_task(TaskSpec("t", handler), make_context()))
    assert outcome.kind == "error" and isinstance(outcome.value, JobError)


async def test_cancelling_the_task_itself_propagates() -> None:
    started = asyncio.Event()

    async def handler(ctx: TaskContext) -> None:
        started.set()
        await asyncio.Event().wait()

    task = await run_in_task(TaskSpec("t", handler), make_context())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
