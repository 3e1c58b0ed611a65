"""Queue throughput: enqueue, and claim-and-complete of no-op jobs with 1, 2 and 4 worker processes.

Each configuration runs twice on the same `jobs` table in the same run: through tieout's `Worker`
(claim CTE with leases and fencing, task dispatch, batched completion) and through a minimal
`FOR UPDATE SKIP LOCKED` loop written here (one claim statement and one completion statement per
round trip, nothing else): the floor any Postgres queue pays. Worker processes connect first and
start together; the time runs from that start until the last of them finds the queue empty.

    uv run python scripts/bench_queue.py [--jobs 4000] [--batched-jobs 12000] [--repeat 1]

Uses DATABASE_URL when set, else a throw-away embedded PostgreSQL in a temp folder (`--data-parent`
chooses where; on a busy shared disk every commit's fsync dominates both columns). The minimal
loop commits each statement synchronously; tieout's worker commits claims asynchronously (a lost
claim is harmless: its random fence is held by nobody) and completions synchronously.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIN_CLAIM = """
WITH c AS MATERIALIZED (
    SELECT id FROM jobs WHERE status = 'pending' AND run_after <= now()
    ORDER BY priority DESC, run_after, id LIMIT $1 FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET status = 'running' FROM c WHERE j.id = c.id RETURNING j.id
"""
MIN_COMPLETE = "UPDATE jobs SET status = 'succeeded' WHERE id = ANY($1::bigint[])"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _minimal_loop(url: str, batch: int) -> int:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    done = 0
    try:
        while True:
            rows = await conn.fetch(MIN_CLAIM, batch)
            if not rows:
                return done
            await conn.execute(MIN_COMPLETE, [r["id"] for r in rows])
            done += len(rows)
    finally:
        await conn.close()


async def _tieout_worker(url: str, batch: int, concurrency: int, start: Any) -> int:
    from app.core.config import Settings
    from app.core.db import create_engine, create_sessionmaker
    from app.core.logging import configure_logging
    from app.jobs.tasks import TaskRegistry
    from app.jobs.worker import Worker

    tasks = TaskRegistry()

    @tasks.task("bench.noop")
    async def noop(ctx: Any) -> None:
        return None

    settings = Settings(_env_file=None, database_url=url, log_level="WARNING")  # type: ignore[call-arg]
    configure_logging(settings)
    engine = create_engine(settings, application_name=f"tieout-bench-{os.getpid()}")
    async with engine.connect():
        pass  # open the pool's first connection before the clock starts
    worker = Worker(
        sessionmaker=create_sessionmaker(engine),
        engine=engine,
        settings=settings,
        tasks=tasks,
        concurrency=concurrency,
        claim_batch=batch,
        listen=False,
    )
    await asyncio.to_thread(start.wait)
    try:
        return await worker.run_until_empty()
    finally:
        await engine.dispose()


def _process(kind: str, url: str, batch: int, concurrency: int, ready: Any, start: Any, out: Any) -> None:
    async def main() -> int:
        if kind == "minimal":
            import asyncpg

            warm = await asyncpg.connect(_asyncpg_dsn(url))
            await warm.close()
            ready.release()
            await asyncio.to_thread(start.wait)
            return await _minimal_loop(url, batch)
        ready.release()
        return await _tieout_worker(url, batch, concurrency, start)

    done = asyncio.run(main())
    out.put((done, time.perf_counter()))


async def _reset(url: str, jobs: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute("TRUNCATE jobs CASCADE")
        await conn.execute(
            "INSERT INTO jobs (type, args) SELECT 'bench.noop', '{}'::jsonb FROM generate_series(1, $1)", jobs
        )
        await conn.execute("VACUUM ANALYZE jobs")
    finally:
        await conn.close()


def run_consumers(kind: str, url: str, processes: int, batch: int, jobs: int) -> float:
    """Jobs per second for `processes` consumers of `kind` draining `jobs` fresh no-op jobs."""
    asyncio.run(_reset(url, jobs))
    ctx = mp.get_context("spawn")
    ready, start, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    concurrency = max(1, batch)
    procs = [
        ctx.Process(target=_process, args=(kind, url, batch, concurrency, ready, start, out))
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    time.sleep(0.5 if kind == "tieout" else 0.1)  # let every worker reach its start line
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    done = sum(r[0] for r in results)
    if done != jobs:
        raise SystemExit(f"{kind}: {done} jobs done, expected {jobs}")
    return jobs / (max(r[1] for r in results) - began)


async def bench_enqueue(url: str, jobs: int) -> tuple[float, float]:
    """(single enqueue per transaction, batches of 1,000 per transaction) in jobs/s."""
    from app.core.config import Settings
    from app.core.db import create_engine
    from app.jobs import queue

    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    engine = create_engine(settings, application_name="tieout-bench-enqueue")
    try:
        singles = min(jobs, 2000)
        began = time.perf_counter()
        for i in range(singles):
            async with engine.begin() as conn:
                await queue.enqueue(conn, "bench.noop", {"i": i})
        single_rate = singles / (time.perf_counter() - began)
        began = time.perf_counter()
        for offset in range(0, jobs, 1000):
            async with engine.begin() as conn:
                await queue.enqueue_many(conn, "bench.noop", [{"i": i} for i in range(offset, offset + 1000)])
        batch_rate = jobs / (time.perf_counter() - began)
    finally:
        await engine.dispose()
    return single_rate, batch_rate


async def prepare_database(parent: str | None) -> tuple[str, Any]:
    """A migrated database: (URL, embedded server or None); the embedded one lives under `parent`."""
    from sqlalchemy import make_url

    from app.core.config import Settings
    from app.core.db import create_engine, migrate
    from app.core.pgserver import EmbeddedPostgres

    external = Settings(_env_file=None).database_url  # type: ignore[call-arg]
    server = None
    if external is None:
        folder = Path(tempfile.mkdtemp(prefix="tieout-bench-pg-", dir=parent))
        server = EmbeddedPostgres(folder / "pg")
        server.start()
        base = server.url("postgres")
    else:
        base = external
    import asyncpg

    name = f"tieout_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_asyncpg_dsn(base))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    await migrate(engine)
    await engine.dispose()
    return url, server


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=4000, help="jobs per one-at-a-time run")
    parser.add_argument("--batched-jobs", type=int, default=12000, help="jobs per batched run")
    parser.add_argument("--batch", type=int, default=10, help="claim size of the batched runs")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (the median is printed)")
    parser.add_argument(
        "--data-parent", help="folder for the embedded server (e.g. /dev/shm to take disk fsync out)"
    )
    args = parser.parse_args()

    url, server = asyncio.run(prepare_database(args.data_parent))
    try:
        single, batched = asyncio.run(bench_enqueue(url, args.batched_jobs))
        print(f"enqueue: {single:,.0f} jobs/s one per transaction", end="; ")
        print(f"{batched:,.0f} jobs/s 1,000 per transaction")
        print(f"cpus: {os.cpu_count()}   jobs: {args.jobs} (one at a time), {args.batched_jobs} (batched)\n")
        print(f"{'claim':<14}{'processes':>10}{'tieout jobs/s':>16}{'minimal jobs/s':>16}{'ratio':>8}")
        for batch, jobs in ((1, args.jobs), (args.batch, args.batched_jobs)):
            for processes in (1, 2, 4):
                ours = statistics.median(
                    run_consumers("tieout", url, processes, batch, jobs) for _ in range(args.repeat)
                )
                floor = statistics.median(
                    run_consumers("minimal", url, processes, batch, jobs) for _ in range(args.repeat)
                )
                label = "one at a time" if batch == 1 else f"batch {batch}"
                print(f"{label:<14}{processes:>10}{ours:>16,.0f}{floor:>16,.0f}{ours / floor:>8.2f}")
    finally:
        if server is not None:
            folder = server.pgdata.parent
            server.stop(force=True)
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
