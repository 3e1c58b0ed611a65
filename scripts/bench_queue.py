"""Queue throughput: enqueue, and claim-and-complete of no-op jobs with 1, 2 and 4 worker processes.

Each configuration runs on the same `jobs` table in the same run, alternately through tieout's
`Worker` (claim CTE with leases, reaping and fencing, task dispatch with one task per job, batched
fenced completion) and through a minimal `FOR UPDATE SKIP LOCKED` loop written here (one statement
per batch that completes the last batch and claims the next, nothing else): the floor any Postgres
queue pays. Worker processes connect first and start together; the time runs from that start until the last
of them finds the queue empty. Each cell is the median of `--repeat` runs; the ratio row is
tieout's median over the minimal loop's, and the targets are checked at the end.

    uv run python scripts/bench_queue.py [--jobs 4000] [--batched-jobs 20000] [--repeat 3]

Fairness: both sides use asyncpg on the default asyncio loop, the same batch size, the same commit
policy (claims commit asynchronously, completions synchronously; a lost claim is harmless: its random
fence is held by nobody) and claims whose LIMIT is a constant, so PostgreSQL keeps one plan for the
prepared statement instead of planning it at every call. Uses DATABASE_URL when set, else a
throw-away embedded PostgreSQL under `--data-parent` (default /dev/shm when it exists: on a busy
shared disk every commit's fsync would dominate both columns).
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
    ORDER BY priority DESC, run_after, id LIMIT {limit} FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET status = 'running' FROM c WHERE j.id = c.id RETURNING j.id
"""
# The same two steps in one statement (what tieout's completer does): finish a batch and claim the
# next (a data-modifying CTE runs whether or not the rest reads it).
MIN_COMPLETE_AND_CLAIM = """
WITH done AS (UPDATE jobs SET status = 'succeeded' WHERE id = ANY($1::bigint[])),
c AS MATERIALIZED (
    SELECT id FROM jobs WHERE status = 'pending' AND run_after <= now()
    ORDER BY priority DESC, run_after, id LIMIT {limit} FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET status = 'running' FROM c WHERE j.id = c.id RETURNING j.id
"""


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _connect(url: str, *, synchronous_commit: bool) -> Any:
    import asyncpg

    settings = {"synchronous_commit": "on" if synchronous_commit else "off"}
    return await asyncpg.connect(_asyncpg_dsn(url), server_settings=settings)


async def _minimal_loop(url: str, batch: int) -> int:
    """Claim, then complete and claim the next batch in one statement (one round trip per batch,
    as tieout's completer); the last batch is completed alone."""
    claims = await _connect(url, synchronous_commit=False)
    completions = await _connect(url, synchronous_commit=True)
    next_sql = MIN_COMPLETE_AND_CLAIM.format(limit=batch)
    done = 0
    try:
        rows = await claims.fetch(MIN_CLAIM.format(limit=batch))
        while rows:
            ids = [r["id"] for r in rows]
            rows = await completions.fetch(next_sql, ids)
            done += len(ids)
        return done
    finally:
        await claims.close()
        await completions.close()


async def _tieout_worker(url: str, batch: int, concurrency: int, ready: Any, start: Any) -> int:
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
    ready.release()  # imported, built and connected: only now at the start line
    await asyncio.to_thread(start.wait)
    try:
        return await worker.run_until_empty()
    finally:
        await engine.dispose()


def _process(kind: str, url: str, batch: int, concurrency: int, ready: Any, start: Any, out: Any) -> None:
    async def main() -> int:
        if kind == "minimal":
            warm = await _connect(url, synchronous_commit=True)  # the first connection is the slowest
            await warm.close()
            ready.release()
            await asyncio.to_thread(start.wait)
            return await _minimal_loop(url, batch)
        return await _tieout_worker(url, batch, concurrency, ready, start)

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
    time.sleep(0.1)  # let every consumer reach its start line (waiting on `start`)
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


def measure_cell(
    url: str, processes: int, batch: int, jobs: int, repeat: int
) -> tuple[float, float, list[float]]:
    """(tieout median, minimal median, per-run ratios) in jobs/s; the two kinds alternate which goes first."""
    ours: list[float] = []
    floor: list[float] = []
    for run in range(repeat):
        order = ("tieout", "minimal") if run % 2 == 0 else ("minimal", "tieout")
        rates = {kind: run_consumers(kind, url, processes, batch, jobs) for kind in order}
        ours.append(rates["tieout"])
        floor.append(rates["minimal"])
    return (
        statistics.median(ours),
        statistics.median(floor),
        [t / m for t, m in zip(ours, floor, strict=True)],
    )


def print_targets(results: dict[tuple[int, int], tuple[float, float]], batch: int) -> None:
    """The issue-6 targets, each with its figure and whether it is met."""
    single = results[(1, 1)][0]
    ours, floor = results[(batch, 4)]
    rows = [
        ("one worker, one job at a time", ">= 500 jobs/s", f"{single:,.0f} jobs/s", single >= 500),
        (f"batch {batch}, 4 workers", ">= 3,000 jobs/s", f"{ours:,.0f} jobs/s", ours >= 3000),
        (f"batch {batch}, 4 workers", ">= 0.6x minimal loop", f"{ours / floor:.2f}x", ours / floor >= 0.6),
    ]
    print("\ntargets (2 cores)")
    for what, target, figure, met in rows:
        print(f"  {what:<32}{target:<24}{figure:>14}   {'met' if met else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=4000, help="jobs per one-at-a-time run")
    parser.add_argument("--batched-jobs", type=int, default=20000, help="jobs per batched run")
    parser.add_argument("--batch", type=int, default=10, help="claim size of the batched runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (medians are printed)")
    parser.add_argument(
        "--data-parent",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="folder for the embedded server (default /dev/shm when present: no disk fsync)",
    )
    args = parser.parse_args()

    url, server = asyncio.run(prepare_database(args.data_parent))
    try:
        single, batched = asyncio.run(bench_enqueue(url, args.batched_jobs))
        print(f"enqueue: {single:,.0f} jobs/s one per transaction", end="; ")
        print(f"{batched:,.0f} jobs/s 1,000 per transaction")
        where = (
            "DATABASE_URL"
            if server is None
            else f"embedded PostgreSQL under {args.data_parent or 'the temp folder'}"
        )
        print(f"cpus: {os.cpu_count()}   database: {where}   medians of {args.repeat} runs")
        print(f"jobs: {args.jobs} (one at a time), {args.batched_jobs} (batched)\n")
        print(f"{'claim':<14}{'processes':>10}{'tieout jobs/s':>16}{'minimal jobs/s':>16}{'ratio':>8}   runs")
        results: dict[tuple[int, int], tuple[float, float]] = {}
        for batch, jobs in ((1, args.jobs), (args.batch, args.batched_jobs)):
            for processes in (1, 2, 4):
                ours, floor, ratios = measure_cell(url, processes, batch, jobs, args.repeat)
                results[(batch, processes)] = (ours, floor)
                label = "one at a time" if batch == 1 else f"batch {batch}"
                runs = " ".join(f"{r:.2f}" for r in ratios)
                print(f"{label:<14}{processes:>10}{ours:>16,.0f}{floor:>16,.0f}{ours / floor:>8.2f}   {runs}")
        print_targets(results, args.batch)
    finally:
        if server is not None:
            folder = server.pgdata.parent
            server.stop(force=True)
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
