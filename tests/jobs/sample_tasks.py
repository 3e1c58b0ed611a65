"""Test-only task handlers (registered in their own registry) and the effects ledger they write.

`job_effects` has no unique key on purpose: a duplicate effect shows up as a second row.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.jobs.retry import RetryableError, TerminalError
from app.jobs.tasks import TaskContext, TaskRegistry

registry = TaskRegistry()
task = registry.task

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS job_effects (
    job_id bigint NOT NULL,
    fence bigint NOT NULL,
    worker text NOT NULL,
    key text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""

_INSERT_EFFECT = text(
    "INSERT INTO job_effects (job_id, fence, worker, key) VALUES (:job_id, :fence, :worker, :key)"
)


async def write_effect(ctx: TaskContext, *, complete: bool = True) -> None:
    """Insert the ledger row and (optionally) complete the job in one fenced transaction."""
    async with ctx.transaction() as session:
        params = {"job_id": ctx.job.id, "fence": ctx.job.fence, "worker": ctx.worker_id}
        await session.execute(_INSERT_EFFECT, {**params, "key": ctx.args.get("key")})
        if complete:
            await ctx.complete(session, {"worker": ctx.worker_id})


async def wait_for_file(path: str, *, interval: float = 0.05) -> None:
    while not Path(path).exists():
        await asyncio.sleep(interval)


@task("test.noop")
async def noop(ctx: TaskContext) -> Any:
    return None


@task("test.effect")
async def effect(ctx: TaskContext) -> None:
    """Optionally sleep / wait for a gate file, then write one ledger row with the completion."""
    if ctx.args.get("gate"):
        await wait_for_file(ctx.args["gate"])
    if ctx.args.get("sleep"):
        await asyncio.sleep(float(ctx.args["sleep"]))
    await write_effect(ctx)


@task("test.sleep")
async def sleep(ctx: TaskContext) -> dict[str, Any]:
    await asyncio.sleep(float(ctx.args.get("seconds", 1.0)))
    return {"slept": ctx.args.get("seconds", 1.0)}


@task("test.progress")
async def progress(ctx: TaskContext) -> None:
    for percent, stage in ((10, "text"), (60, "detect"), (85, "verify")):
        await ctx.set_progress(percent, stage)
        if ctx.args.get("gate"):
            await wait_for_file(f"{ctx.args['gate']}.{percent}")
    await write_effect(ctx)


@task("test.fail")
async def fail(ctx: TaskContext) -> None:
    message = ctx.args.get("message", f"failure on attempt {ctx.attempt}")
    if ctx.args.get("retryable", True):
        raise RetryableError(message)
    raise TerminalError(message)


@task("test.crash")
async def crash(ctx: TaskContext) -> None:
    """Kills its own process (a poison job): the worker dies on every attempt."""
    os.kill(os.getpid(), signal.SIGKILL)


@task("test.hang", timeout_seconds=1.0)
async def hang(ctx: TaskContext) -> None:
    await asyncio.Event().wait()


@task("test.stubborn", timeout_seconds=0.3)
async def stubborn(ctx: TaskContext) -> None:
    """Ignores cancellation until its gate file exists (a handler stuck in work it cannot interrupt)."""
    while not Path(ctx.args["gate"]).exists():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
