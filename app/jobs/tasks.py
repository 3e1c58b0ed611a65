"""Task registry and the context a handler runs with.

A task is an async function `handler(ctx) -> result` registered under a dotted name:

    @task("extract.document", timeout_seconds=1200)
    async def extract_document(ctx: TaskContext) -> dict: ...

Handlers live in `app/<domain>/tasks.py`; `load_task_modules()` imports them all so a worker knows
every name. Every database write a handler makes goes through `ctx.transaction()`, which locks the
job row with the handler's fencing token first: a worker whose lease was taken gets `LeaseLost`
before writing anything. `ctx.complete(session, result)` marks the job succeeded in that same
transaction, so the task's effects and its completion commit together or not at all.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.jobs import queue
from app.jobs.fencing import Fence, LeaseLost, lock_fence
from app.jobs.queue import ClaimedJob
from app.jobs.retry import JobError, JobTimeoutError, TerminalError

log = structlog.get_logger("tieout.jobs")

Handler = Callable[["TaskContext"], Awaitable[Any]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    handler: Handler
    timeout_seconds: float | None = None  # None: the worker's JOB_TIMEOUT_SECONDS


@dataclass
class TaskRegistry:
    """Task name → handler. One default instance (`registry`); tests may build their own."""

    tasks: dict[str, TaskSpec] = field(default_factory=dict)

    def task(self, name: str, *, timeout_seconds: float | None = None) -> Callable[[Handler], Handler]:
        """Decorator registering `handler` under `name` (re-registering the same function is a no-op)."""

        def register(handler: Handler) -> Handler:
            existing = self.tasks.get(name)
            if existing is not None and existing.handler.__qualname__ != handler.__qualname__:
                raise ValueError(f"task {name!r} is already registered to {existing.handler.__qualname__}")
            self.tasks[name] = TaskSpec(name, handler, timeout_seconds)
            return handler

        return register

    def get(self, name: str) -> TaskSpec | None:
        return self.tasks.get(name)


registry = TaskRegistry()
task = registry.task

_APP_DIR = Path(__file__).resolve().parents[1]


def load_task_modules() -> TaskRegistry:
    """Import `app/<domain>/tasks.py` for every domain so their handlers register; the registry."""
    for tasks_file in sorted(_APP_DIR.glob("*/tasks.py")):
        if tasks_file.parent.name != "jobs":
            importlib.import_module(f"app.{tasks_file.parent.name}.tasks")
    return registry


class TaskContext:
    """What a running handler may use: its job, fenced transactions, progress and cancellation."""

    def __init__(
        self,
        job: ClaimedJob,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        worker_id: str,
        settings: Any = None,
        http: Any = None,
    ) -> None:
        self.job = job
        self.worker_id = worker_id
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.http = http  # the process's shared httpx.AsyncClient, when the worker was given one
        self.completed = False
        self.stop_reason: str | None = None
        self._task: asyncio.Task[Any] | None = None  # the task running the handler, while it runs
        self._cancels_sent = 0
        self._cancel: asyncio.Event | None = None  # made on first use: most jobs are never cancelled
        self._progress_task: asyncio.Task[None] | None = None
        self._pending_progress: tuple[int, str | None] | None = None

    @property
    def args(self) -> dict[str, Any]:
        return self.job.args

    @property
    def lease(self) -> Fence:
        return self.job.lease

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def cancel_requested(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def stop(self, reason: str) -> None:
        """Cancel the running handler: `cancelled` (asked by a user), `lease_lost`, `shutdown`, `timeout`."""
        if self.stop_reason is None or reason == "cancelled":
            self.stop_reason = reason
        if reason == "cancelled":
            self._cancelled_event().set()
        if self._task is not None:
            self._task.cancel()
            self._cancels_sent += 1

    async def wait_cancelled(self) -> None:
        await self._cancelled_event().wait()

    def _cancelled_event(self) -> asyncio.Event:
        if self._cancel is None:
            self._cancel = asyncio.Event()
        return self._cancel

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short transaction that commits only if this worker still holds the job (else `LeaseLost`)."""
        async with self.sessionmaker.begin() as session:
            await lock_fence(session, self.lease)
            yield session

    async def complete(self, session: AsyncSession, result: Any = None) -> None:
        """Mark the job succeeded inside the caller's fenced transaction (commits with its writes)."""
        await queue.complete(session, self.lease, result)
        self.completed = True

    async def set_progress(self, percent: int, stage: str | None = None) -> None:
        """Record progress now, in its own fenced transaction."""
        async with self.sessionmaker.begin() as session:
            await queue.set_progress(session, self.lease, percent, stage)

    def report(self, stage: str, percent: int) -> None:
        """Synchronous progress callback (the pipeline's `Progress`); written in the background."""
        self._pending_progress = (percent, stage)
        if self._progress_task is None or self._progress_task.done():
            self._progress_task = asyncio.get_running_loop().create_task(self._flush_progress())

    async def _flush_progress(self) -> None:
        while self._pending_progress is not None:
            percent, stage = self._pending_progress
            self._pending_progress = None
            try:
                await self.set_progress(percent, stage)
            except Exception as exc:  # progress is advisory; the final write is fenced anyway
                log.warning("job.progress_failed", job_id=self.job.id, error=repr(exc))
                return

    async def close(self) -> None:
        """Let a last background progress write finish (bounded) before the job's final state."""
        if self._progress_task is not None and not self._progress_task.done():
            await asyncio.wait({self._progress_task}, timeout=2.0)
            self._progress_task.cancel()


@dataclass(frozen=True)
class Outcome:
    """How a handler ended: ok, error, cancelled, shutdown, lease_lost or abandoned."""

    kind: str
    value: Any = None


async def run_handler(
    spec: TaskSpec | None, ctx: TaskContext, *, timeout_seconds: float, task: asyncio.Task[Any] | None = None
) -> Outcome:
    """Run the handler in the current task (`task`, when the caller has it at hand); how it ended.

    Never raises for the handler's sake. `ctx.stop()` cancels this task while the handler runs (and
    only then); the worker's shared deadline check calls `ctx.stop("timeout")` after
    `timeout_seconds`, so there is no timer per job.
    """
    if spec is None:
        return Outcome("error", TerminalError(f"no task registered as {ctx.job.type!r}"))
    if ctx.stop_reason is not None:  # stopped before it started
        return Outcome(ctx.stop_reason)
    task = ctx._task = task or asyncio.current_task()
    assert task is not None
    try:
        value = await spec.handler(ctx)
    except asyncio.CancelledError:
        if not _detach(ctx, task):
            if task.cancelling():
                raise  # not a stop of ours: this task itself is being cancelled
            return Outcome("error", JobError("the handler cancelled itself"))
        if ctx.stop_reason == "timeout":
            return Outcome("error", JobTimeoutError(f"timed out after {timeout_seconds:g}s"))
        return Outcome(ctx.stop_reason or "cancelled")
    except LeaseLost as error:
        _detach(ctx, task)
        return Outcome("lease_lost", error)
    except Exception as error:
        _detach(ctx, task)
        return Outcome("error", error)
    _detach(ctx, task)
    return Outcome("ok", value)


def _detach(ctx: TaskContext, task: asyncio.Task[Any]) -> bool:
    """Stop routing `ctx.stop()` to `task` and withdraw the cancellations it sent; whether there were any."""
    ctx._task = None
    sent, ctx._cancels_sent = ctx._cancels_sent, 0
    for _ in range(sent):
        task.uncancel()  # so the rest of the task (the outcome write) runs uncancelled
    return sent > 0
