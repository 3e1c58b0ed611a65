"""The worker: claims jobs, runs their handlers, records the outcome, and survives the database.

Shape (procrastinate's): a claim loop bounded by `concurrency` slots; side tasks: LISTEN wake-ups
(polling as fallback, a catch-up claim after every reconnect), a heartbeat renewing leases that
self-fences when it cannot, and the completer of `outcomes.py`. Invariants:

- a slot is held only while a handler runs or its outcome is written; retries wait in `run_after`;
- a handler is stopped (cancelled) when its job is cancelled, its lease is lost or not renewed for
  a whole lease, it times out, or shutdown's grace period ends; shutdown releases unfinished jobs;
- every outcome write is fenced; database outages are retried, never fatal to the process.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.jobs import queue, registry
from app.jobs.fencing import LeaseLost
from app.jobs.listener import Listener, settle, wait_any
from app.jobs.outcomes import OutcomeWriter, job_logger, log_db_error
from app.jobs.queue import ClaimedJob
from app.jobs.retry import RetryPolicy
from app.jobs.tasks import TaskContext, TaskRegistry, execute, load_task_modules

log = structlog.get_logger("tieout.jobs")


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    claim_batch: int = 10
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 10.0
    poll_interval: float = 2.0
    shutdown_grace_seconds: float = 25.0
    job_timeout_seconds: float = 1200.0
    listen: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> WorkerConfig:
        config = cls(
            concurrency=settings.worker_concurrency,
            claim_batch=getattr(settings, "worker_claim_batch", 10),
            lease_seconds=settings.lease_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            poll_interval=settings.poll_interval,
            shutdown_grace_seconds=settings.shutdown_grace_seconds,
            job_timeout_seconds=settings.job_timeout_seconds,
            retry=RetryPolicy(getattr(settings, "retry_base_seconds", 2.0), 4.0, 300.0),
        )
        return replace(config, **overrides)


@dataclass(eq=False)
class _Running:
    job: ClaimedJob
    ctx: TaskContext
    renewed_at: float


class Worker:
    """Runs jobs from the queue; `start()`/`stop()` in the API lifespan, `run()` in `tieout worker`."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        settings: Any,
        http: Any = None,
        tasks: TaskRegistry | None = None,
        worker_id: str | None = None,
        **overrides: Any,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.settings = settings
        self.http = http
        self.config = WorkerConfig.from_settings(settings, **overrides)
        self.tasks = tasks or load_task_modules()
        self.id = worker_id or registry.new_worker_id()
        self.claimed = 0
        self.finished = 0
        self._running: dict[int, _Running] = {}
        self._runners: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._engines: list[AsyncEngine] = []
        self.listener = Listener(
            engine.url,
            {queue.JOBS_CHANNEL: lambda _: self._wake.set(), queue.CANCEL_CHANNEL: self._on_cancel},
            on_connect=self._wake.set,  # catch-up claim: NOTIFYs sent while disconnected are lost
            application_name=f"tieout-listen-{os.getpid()}",
            check_interval=max(self.config.poll_interval, 1.0),
        )

    async def start(self) -> None:
        """Run in the background (the in-process worker of `tieout serve`)."""
        self._main = asyncio.create_task(self.run(), name=f"worker-{self.id}")

    async def stop(self) -> None:
        """Stop claiming, let running jobs finish within the grace period, release the rest."""
        log.info("worker.stopping", worker_id=self.id, grace_seconds=self.config.shutdown_grace_seconds)
        self._stopping.set()
        if self._main is not None:
            await asyncio.wait({self._main})
        else:
            await self._stopped.wait()

    async def run(self) -> None:
        """Serve until `stop()`; cancelling this (a second signal) stops running jobs and releases them."""
        log.info("worker.started", worker_id=self.id, concurrency=self.config.concurrency)
        side = self._open(listen=self.config.listen)
        await self._registry_write(registry.register_worker)
        try:
            await self._claim_loop()
            await self._drain(self.config.shutdown_grace_seconds)
        except asyncio.CancelledError:
            await asyncio.shield(self._drain(0.0, release_timeout=1.0))
            raise
        finally:
            await self._close(side)
            await self._registry_write(registry.unregister_worker)
            self._stopped.set()
            log.info("worker.stopped", worker_id=self.id, finished=self.finished)

    async def run_until_empty(self) -> int:
        """Claim and run jobs until none is runnable and none is running (tests); how many ran."""
        side = self._open(listen=False)
        before = self.finished
        try:
            while True:
                free = self.config.concurrency - len(self._running)
                if free > 0 and await self._claim(min(free, self.config.claim_batch)):
                    continue
                if not self._running:
                    return self.finished - before
                self._slot_freed.clear()
                await self._slot_freed.wait()
                await settle()
        finally:
            await self._drain(0.0)
            await self._close(side)

    def _open(self, *, listen: bool) -> list[asyncio.Task[None]]:
        # Single statements, so autocommit; no pre-ping (callers retry, dead connections are dropped).
        # Claims and renewals commit asynchronously: one lost in a crash leaves a random fence nobody
        # else holds, and the next synchronous commit (a completion) flushes them anyway.
        pid, lease = os.getpid(), self.config.lease_seconds
        self._claims = self._make_engine(f"tieout-worker-{pid}", 2, sync=False)
        self._hb_engine = self._make_engine(f"tieout-heartbeat-{pid}", 1, sync=False)
        writes = self._make_engine(f"tieout-worker-{pid}", self.config.concurrency + 2, sync=True)
        self.outcomes = OutcomeWriter(writes, lease_seconds=lease, policy=self.config.retry)
        side = [self._heartbeat_loop(), self.outcomes.run_completer()]
        if listen:
            side.append(self.listener.run(self._stopping))
        return [asyncio.create_task(coro) for coro in side]

    def _make_engine(self, application_name: str, size: int, *, sync: bool) -> AsyncEngine:
        settings = {"application_name": application_name, "synchronous_commit": "on" if sync else "off"}
        engine = create_async_engine(
            self.engine.url,
            pool_size=size,
            max_overflow=size,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": 5, "server_settings": settings},
        )
        self._engines.append(engine)
        return engine

    async def _close(self, side: list[asyncio.Task[None]]) -> None:
        for task in side:
            task.cancel()
        await asyncio.gather(*side, return_exceptions=True)
        while self._engines:
            await self._engines.pop().dispose()

    async def _claim_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            free = self.config.concurrency - len(self._running)
            if free <= 0:
                self._slot_freed.clear()
                await wait_any(self._slot_freed, self._stopping, timeout=None)
                await settle()
                continue
            wanted = min(free, self.config.claim_batch)
            self._wake.clear()
            try:
                claimed = await self._claim(wanted)
                failures = 0
            except Exception as exc:
                failures += 1
                log_db_error("worker.claim_failed", exc)
                await wait_any(self._stopping, timeout=min(self.config.poll_interval * failures, 5.0))
                continue
            if claimed < wanted:
                await wait_any(self._wake, self._stopping, timeout=self.config.poll_interval)

    async def _claim(self, limit: int) -> int:
        async with self._claims.connect() as conn:
            jobs = await queue.claim(conn, self.id, limit=limit, lease_seconds=self.config.lease_seconds)
        now = time.monotonic()
        for job in jobs:
            ctx = TaskContext(
                job, sessionmaker=self.sessionmaker, worker_id=self.id, settings=self.settings, http=self.http
            )
            entry = _Running(job, ctx, now)
            self._running[job.id] = entry
            runner = asyncio.create_task(self._run_job(entry))
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        self.claimed += len(jobs)
        return len(jobs)

    async def _run_job(self, entry: _Running) -> None:
        job = entry.job
        try:
            outcome = await execute(
                self.tasks.get(job.type), entry.ctx, default_timeout=self.config.job_timeout_seconds
            )
            await entry.ctx.close()
            await self.outcomes.record(job, entry.ctx, outcome)
        except LeaseLost:
            job_logger(job, self.id).warning("job.lease_lost")
        except Exception as exc:
            # Nothing more to do here: the lease expires and the next claim runs the job again.
            job_logger(job, self.id).error("job.record_failed", error=repr(exc)[:500])
        finally:
            self._running.pop(job.id, None)
            self.finished += 1
            self._slot_freed.set()

    def _on_cancel(self, payload: str) -> None:
        entry = self._running.get(int(payload)) if payload.isdigit() else None
        if entry is not None:
            entry.ctx.stop("cancelled")

    async def _drain(self, grace: float, *, release_timeout: float = 10.0) -> None:
        if self._runners and grace > 0:  # finish within the grace period...
            await asyncio.wait(set(self._runners), timeout=grace)
        for entry in list(self._running.values()):
            entry.ctx.stop("shutdown")
        if self._runners:
            await asyncio.wait(set(self._runners), timeout=release_timeout)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_seconds)
            await self.heartbeat()

    async def heartbeat(self) -> None:
        """Renew the leases of running jobs; stop those lost, cancelled, or not renewed for a lease."""
        entries = list(self._running.values())
        sent_at = time.monotonic()
        try:
            async with self._hb_engine.connect() as conn:
                leases = [e.job.lease for e in entries]
                renewed = await queue.renew_leases(conn, leases, lease_seconds=self.config.lease_seconds)
                await registry.beat(conn, self.id)
        except Exception as exc:
            log_db_error("worker.heartbeat_failed", exc)
        else:
            for entry in entries:
                if entry.job.id not in renewed:
                    entry.ctx.stop("lease_lost")
                    continue
                entry.renewed_at = sent_at
                if renewed[entry.job.id]:
                    entry.ctx.stop("cancelled")
        for entry in list(self._running.values()):
            if time.monotonic() - entry.renewed_at > self.config.lease_seconds and not entry.ctx.stop_reason:
                log.warning("job.lease_expired_locally", job_id=entry.job.id, worker_id=self.id)
                entry.ctx.stop("lease_lost")

    async def _registry_write(self, fn: Callable[[Any, str], Awaitable[Any]]) -> None:
        try:
            async with self.engine.begin() as conn:
                await fn(conn, self.id)
        except Exception as exc:
            log_db_error("worker.registry_write_failed", exc)
