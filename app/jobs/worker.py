"""The worker: claims jobs, runs their handlers, records the outcome, and survives the database.

Shape (procrastinate's): a claim loop bounded by `concurrency` slots, one task per job; side tasks:
LISTEN wake-ups (polling as fallback, a catch-up claim after every reconnect), a heartbeat renewing
leases that self-fences when it cannot, one timer for every job's deadline, and the batch completer
(`completer.py`), which claims jobs for the slots a batch of successes frees in the same statement.
Claims and completions run on dedicated asyncpg connections (`connections.py`); the rarer outcomes
(retry, fail, cancel, release) go through `outcomes.py`. Invariants:

- a slot is held only while a handler runs or its outcome is written; retries wait in `run_after`;
  slots promised to a claim in flight are reserved, so claims never exceed `concurrency`;
- a handler is stopped (cancelled) when its job is cancelled, its lease is lost or not renewed for
  a whole lease, it times out, or shutdown's grace period ends; shutdown releases unfinished jobs;
  one still running `ABANDON_AFTER_SECONDS` past its timeout is abandoned: its slot is freed and its
  lease left to expire;
- every outcome write is fenced; database outages are retried, never fatal to the process;
- expired leases that must not run again are reaped at start, by every heartbeat and by each drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.jobs import queue, registry
from app.jobs.completer import Completer
from app.jobs.connections import DirectConnection
from app.jobs.fencing import LeaseLost
from app.jobs.listener import Listener, settle, wait_any
from app.jobs.outcomes import OutcomeWriter, job_logger, log_db_error
from app.jobs.queue import ClaimedJob
from app.jobs.retry import RetryPolicy
from app.jobs.tasks import TaskContext, TaskRegistry, TaskSpec, load_task_modules, run_handler

log = structlog.get_logger("tieout.jobs")

ABANDON_AFTER_SECONDS = 5.0


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
            retry=RetryPolicy(
                base_seconds=getattr(settings, "retry_base_seconds", 2.0),
                cap_seconds=getattr(settings, "retry_max_seconds", 300.0),
            ),
        )
        return replace(config, **overrides)


@dataclass(eq=False, slots=True)
class _Running:
    job: ClaimedJob
    ctx: TaskContext
    spec: TaskSpec | None
    timeout: float
    renewed_at: float
    deadline: float  # when the deadline check acts: at the timeout, then at the abandon grace's end
    task: asyncio.Task[None] | None = None
    handler_done: bool = False
    timed_out: bool = False
    abandoned: bool = False
    finished: bool = False


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
        self._reserved = 0  # slots promised to claims in flight
        self._reserved_by_completer = 0
        self._abandoned: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._deadline_moved = asyncio.Event()
        self._next_deadline_check = float("inf")
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._engines: list[AsyncEngine] = []
        self._connections: list[DirectConnection] = []
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
        self._slot_freed.set()  # wakes a claim loop waiting for a slot
        if self._main is not None:
            await asyncio.wait({self._main})
        else:
            await self._stopped.wait()

    async def run(self) -> None:
        """Serve until `stop()`; cancelling this (a second signal) stops running jobs and releases them."""
        log.info("worker.started", worker_id=self.id, concurrency=self.config.concurrency)
        side = self._open(listen=self.config.listen)
        await self._registry_write(registry.register_worker)
        await self._reap()
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
        await self._reap()
        try:
            while True:
                free = self._free_slots()
                if free > 0 and await self._claim(min(free, self.config.claim_batch)):
                    continue
                if not self._running:
                    return self.finished - before
                await self._wait_for_slot()
        finally:
            await self._drain(0.0)
            await self._close(side)

    def _open(self, *, listen: bool) -> list[asyncio.Task[None]]:
        # Plain claims commit asynchronously: one lost in a crash leaves a random fence nobody else
        # holds, and the next synchronous commit flushes them anyway. Completions (and the claims
        # made with them) commit synchronously.
        pid, lease = os.getpid(), self.config.lease_seconds
        name = f"tieout-worker-{pid}"
        self._reserved = self._reserved_by_completer = 0  # nothing is in flight yet
        self._claims = DirectConnection(
            self.engine.url, application_name=name, synchronous_commit=False, command_timeout=lease
        )
        completions = DirectConnection(
            self.engine.url, application_name=name, synchronous_commit=True, command_timeout=lease
        )
        self._connections = [self._claims, completions]
        self.completer: Completer[_Running] = Completer(
            completions,
            owner=self.id,
            lease_seconds=lease,
            claim_size=self._claim_size,
            on_written=self._completed,
        )
        self._hb_engine = self._make_engine(f"tieout-heartbeat-{pid}", 1, sync=False)
        writes = self._make_engine(name, self.config.concurrency + 2, sync=True)
        self.outcomes = OutcomeWriter(writes, lease_seconds=lease, policy=self.config.retry)
        side = [self._heartbeat_loop(), self.completer.run(), self._deadline_loop()]
        if listen:
            side.append(self.listener.run(self._stopping))
        return [asyncio.create_task(coro) for coro in side]

    def _make_engine(self, application_name: str, size: int, *, sync: bool) -> AsyncEngine:
        # Single statements, so autocommit; no pre-ping (callers retry, dead connections are dropped).
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
        while self._connections:
            await self._connections.pop().close()
        while self._engines:
            await self._engines.pop().dispose()

    async def _claim_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            free = self._free_slots()
            if free <= 0:
                await self._wait_for_slot()
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

    async def _wait_for_slot(self) -> None:
        self._slot_freed.clear()
        if self._stopping.is_set():
            return
        await self._slot_freed.wait()
        await settle(1)  # let the other jobs ending now free their slots too: one claim serves them all

    def _free_slots(self) -> int:
        return self.config.concurrency - len(self._running) - self._reserved

    async def _claim(self, limit: int) -> int:
        lease = self.config.lease_seconds
        self._reserved += limit
        try:
            jobs = await self._claims.run(
                lambda conn: queue.claim_direct(conn, self.id, limit=limit, lease_seconds=lease)
            )
        finally:
            self._reserved -= limit
        self._dispatch(jobs)
        return len(jobs)

    def _claim_size(self, finishing: int) -> int:
        """How many jobs the completer claims along with `finishing` successes: the slots they free."""
        if self._stopping.is_set():
            return 0
        limit = min(self._free_slots() + finishing, self.config.claim_batch)
        self._reserved_by_completer = max(limit, 0)
        self._reserved += self._reserved_by_completer
        return self._reserved_by_completer

    def _dispatch(self, jobs: list[ClaimedJob]) -> None:
        now, loop = time.monotonic(), asyncio.get_running_loop()
        for job in jobs:
            spec = self.tasks.get(job.type)
            timeout = (spec.timeout_seconds if spec is not None else None) or self.config.job_timeout_seconds
            ctx = TaskContext(
                job, sessionmaker=self.sessionmaker, worker_id=self.id, settings=self.settings, http=self.http
            )
            entry = _Running(job, ctx, spec, timeout, renewed_at=now, deadline=now + timeout)
            self._running[job.id] = entry
            entry.task = loop.create_task(self._run_job(entry))
            if entry.deadline < self._next_deadline_check:
                self._deadline_moved.set()
        self.claimed += len(jobs)

    async def _run_job(self, entry: _Running) -> None:
        job, ctx = entry.job, entry.ctx
        outcome = await run_handler(entry.spec, ctx, timeout_seconds=entry.timeout, task=entry.task)
        entry.handler_done = True  # the deadline bounds the handler only, not the outcome's write
        if entry.abandoned:
            return  # its slot is free already; the lease expires and the next claim runs it again
        handed_over = False
        try:
            await ctx.close()
            if outcome.kind == "ok" and not ctx.completed:
                self.completer.add(job.lease, outcome.value, entry)
                handed_over = True  # the completer frees the slot once the success is committed
            elif outcome.kind != "ok":
                await self.outcomes.record(job, ctx, outcome)
        except LeaseLost:
            job_logger(job, self.id).warning("job.lease_lost")
        except Exception as exc:
            # Nothing more to do here: the lease expires and the next claim runs the job again.
            job_logger(job, self.id).error("job.record_failed", error=repr(exc)[:500])
        finally:
            if not handed_over:
                self._finish(entry)

    def _completed(
        self, entries: list[_Running], committed: set[int] | BaseException, claimed: list[ClaimedJob]
    ) -> None:
        for entry in entries:
            if isinstance(committed, BaseException):
                # Nothing more to do here: the lease expires and the next claim runs the job again.
                job_logger(entry.job, self.id).error("job.record_failed", error=repr(committed)[:500])
            elif entry.job.id not in committed:
                job_logger(entry.job, self.id).warning("job.lease_lost")
            self._finish(entry)
        self._reserved -= self._reserved_by_completer
        self._reserved_by_completer = 0
        self._dispatch(claimed)

    def _finish(self, entry: _Running) -> None:
        if entry.finished:
            return
        entry.finished = True
        if self._running.get(entry.job.id) is entry:
            del self._running[entry.job.id]
        self.finished += 1
        self._slot_freed.set()

    def _on_cancel(self, payload: str) -> None:
        entry = self._running.get(int(payload)) if payload.isdigit() else None
        if entry is not None:
            entry.ctx.stop("cancelled")

    async def _drain(self, grace: float, *, release_timeout: float = 10.0) -> None:
        await self._wait_idle(grace)  # finish within the grace period...
        for entry in list(self._running.values()):
            entry.ctx.stop("shutdown")
        await self._wait_idle(release_timeout)

    async def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._running and (left := deadline - time.monotonic()) > 0:
            self._slot_freed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._slot_freed.wait(), left)

    async def _deadline_loop(self) -> None:
        """One timer for every running job: stop those past their timeout, abandon those ignoring it."""
        while True:
            now = time.monotonic()
            soonest = now + self.config.job_timeout_seconds
            for entry in list(self._running.values()):
                if entry.handler_done:
                    continue
                if entry.deadline <= now:
                    self._deadline_passed(entry, now)
                if not entry.abandoned:
                    soonest = min(soonest, entry.deadline)
            self._next_deadline_check = soonest
            self._deadline_moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._deadline_moved.wait(), soonest - now)

    def _deadline_passed(self, entry: _Running, now: float) -> None:
        if not entry.timed_out:
            entry.timed_out = True
            entry.deadline = now + ABANDON_AFTER_SECONDS
            entry.ctx.stop("timeout")
            return
        entry.abandoned = True
        job_logger(entry.job, self.id).warning("job.abandoned")
        if entry.task is not None:  # keep a reference until the handler ends on its own
            self._abandoned.add(entry.task)
            entry.task.add_done_callback(self._abandoned.discard)
        self._finish(entry)

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
                self._log_reaped(await queue.reap_expired(conn))
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

    async def _reap(self) -> None:
        try:
            self._log_reaped(await self._claims.run(queue.reap_expired_direct))
        except Exception as exc:
            log_db_error("worker.reap_failed", exc)

    def _log_reaped(self, job_ids: list[int]) -> None:
        if job_ids:
            log.warning("job.reaped", job_ids=job_ids, worker_id=self.id)

    async def _registry_write(self, fn: Callable[[Any, str], Awaitable[Any]]) -> None:
        try:
            async with self.engine.begin() as conn:
                await fn(conn, self.id)
        except Exception as exc:
            log_db_error("worker.registry_write_failed", exc)
