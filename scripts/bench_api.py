"""Upload throughput and latency of `POST /api/v1/documents` beside a twin that stores nothing.

Usage: `uv run python scripts/bench_api.py [--requests 960] [--rounds 3] [--concurrency 32] [--size-mb 1]`

Starts an embedded PostgreSQL in a temp folder (or uses DATABASE_URL) and uvicorn servers on
127.0.0.1, each in its own process like `tieout serve`: the twin (the product app itself plus one
route that runs the product's own streaming multipart reader `read_upload`: same middleware, parsing,
limits, sniff and hashing; it stores nothing), the product API with the default PostgreSQL blob store
and again with the folder store, all with the worker off, measured in alternating rounds beside the
floor of any durable Postgres blob store (one 1 MB bytea INSERT + COMMIT per upload straight over
asyncpg, no HTTP); then the product API again while its in-process worker runs a backlog of
extraction jobs. One client drives them all with `--concurrency` keep-alive connections sending
distinct PDFs (distinct bytes, so no upload is deduplicated); it is a minimal HTTP/1.1 writer over
asyncio streams, so it takes little CPU from the servers. Prints req/s, MB/s, p50/p99, CPU ms per
request of each process (server, PostgreSQL, this client: from the kernel's accounting, so the split
holds on a noisy machine) and the product/twin ratios (targets: >= 0.5x, p99 < 1 s). Bounded:
--requests per endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


def create_twin_app():  # uvicorn factory: `bench_api:create_twin_app`
    """The twin: the product app itself (same settings, middleware, error handlers, access log and
    lifespan) with one more route that runs the product's own streaming multipart reader (same
    parser, limits, sniff and SHA-256) and stores nothing. The only difference left between the
    two endpoints is what the product does with the bytes: page count, blob, document and job rows."""
    sys.path.insert(0, str(ROOT))
    from app.documents.dependencies import get_document_service
    from app.documents.upload import read_upload, upload_options
    from app.main import create_app

    app = create_app()

    @app.post("/twin")
    async def twin(request: Request) -> JSONResponse:
        upload = await read_upload(request, (await get_document_service(request)).limits)
        upload_options(upload.fields)
        return JSONResponse({"size": upload.size, "sha256": upload.sha256}, status_code=202)

    return app


def make_pdfs(count: int, size: int, tag: str = "") -> list[bytes]:
    """`count` distinct valid PDFs of about `size` bytes (one random payload, a unique trailer each)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 10, "bench upload")
    pdf.embed_file(bytes=random.Random(7).randbytes(max(0, size - 2000)), basename="pad.bin", compress=False)
    base = bytes(pdf.output())
    # A comment after %%EOF changes the hash but not the document.
    return [base + f"%bench-{tag}-{i}\n".encode() for i in range(count)]


def request_bytes(path: str, pdf: bytes, index: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench-{index}.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = head + pdf + f"\r\n--{BOUNDARY}--\r\n".encode()
    headers = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return headers + body


async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> int:
    writer.write(payload)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    size: int
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process group, whole run

    def line(self) -> str:
        n = len(self.latencies)
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(n - 1, int(n * 0.99))] * 1000
        rate = n / self.seconds
        cpu = "  ".join(f"{name} {1000 * seconds / n:4.2f}" for name, seconds in self.cpu.items())
        return (
            f"{self.name:<30} {rate:7.1f} req/s {rate * self.size / 1e6:6.1f} MB/s "
            f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  cpu ms/req: {cpu or '-'}  "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


class CpuMeter:
    """CPU seconds (user + system) spent by named process trees: the server, PostgreSQL, this client.

    Read from the kernel's accounting, so the split holds on a noisy machine where wall-clock rates
    wander: it shows which process pays for each upload."""

    def __init__(self, roots: dict[str, int], alone: frozenset[str] = frozenset({"client"})) -> None:
        self.roots = roots
        self.alone = alone  # groups counted without their children (this script started the servers)

    def read(self) -> dict[str, float]:
        import psutil

        totals: dict[str, float] = {}
        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                tree = [root] if name in self.alone else [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            total = 0.0
            for process in tree:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
            totals[name] = total
        return totals

    def since(self, before: dict[str, float]) -> dict[str, float]:
        after = self.read()
        return {name: after[name] - before[name] for name in after if name in before}


async def load(
    name: str, port: int, path: str, pdfs: list[bytes], concurrency: int, meter: CpuMeter | None = None
) -> Result:
    payloads = [request_bytes(path, pdf, i) for i, pdf in enumerate(pdfs)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        try:
            while not queue.empty():
                payload = queue.get_nowait()
                begin = time.perf_counter()
                status = await send(reader, writer, payload)
                latencies.append(time.perf_counter() - begin)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    before = meter.read() if meter else {}
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return Result(name, seconds, latencies, statuses, len(pdfs[0]), meter.since(before) if meter else {})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"server on port {port} not ready after {timeout:g}s")


def start_server(app: str, port: int, env: dict[str, str], app_dir: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--app-dir", str(app_dir), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def job_counts(database_url: str) -> dict[str, int]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status"))
            return {str(status): int(n) for status, n in rows}
    finally:
        await engine.dispose()


async def backlog(port: int, count: int) -> None:
    """Queue `count` real extraction jobs (generated two-statement PDFs) for the busy-worker phase."""
    sys.path.insert(0, str(ROOT))
    from tests.pdfs import balance_sheet, income_statement, statement_pdf

    base = statement_pdf(income_statement(), balance_sheet())
    await load("backlog", port, "/api/v1/documents", [base + f"%job-{i}\n".encode() for i in range(count)], 4)


@asynccontextmanager
async def serving(app: str, env: dict[str, str]) -> AsyncIterator[tuple[int, int]]:
    """A uvicorn server process for `app` on a free loopback port, as (port, pid); SIGTERM on exit."""
    port = free_port()
    proc = start_server(app, port, env, ROOT / "scripts" if app.startswith("bench_api") else ROOT)
    try:
        await wait_ready(port, "/health", proc)
        yield port, proc.pid
    finally:
        stop_server(proc)


def merge(name: str, results: list[Result]) -> Result:
    merged = Result(name, sum(r.seconds for r in results), [], {}, results[0].size)
    for result in results:
        merged.latencies += result.latencies
        for group, seconds in result.cpu.items():
            merged.cpu[group] = merged.cpu.get(group, 0.0) + seconds
        for status, n in result.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


async def compare(args, base_env: dict[str, str], postgres_pid: int | None) -> list[Result]:
    """Twin, the product API with each blob store and the raw database floor, in alternating rounds
    so that noise hits all alike. The same PDFs go to every endpoint (distinct within a round)."""
    size = int(args.size_mb * 1024 * 1024)
    per_round = max(args.concurrency, args.requests // args.rounds)
    server_env = {**base_env, "RUN_WORKER": "false"}
    later = {**server_env, "RUN_MIGRATIONS": "false"}  # the first product server migrated
    folder_env = {**later, "BLOB_STORE": "folder", "TIEOUT_DATA_DIR": base_env["TIEOUT_DATA_DIR"] + "-folder"}
    async with (
        serving("app.main:create_app", server_env) as (api_port, api_pid),
        serving("app.main:create_app", folder_env) as (folder_port, folder_pid),
        serving("bench_api:create_twin_app", later) as (twin_port, twin_pid),
        floor_pool(base_env["DATABASE_URL"]) as pool,
    ):
        postgres = {"postgres": postgres_pid} if postgres_pid else {}
        client = {"client": os.getpid()}
        endpoints = [
            ("twin (reads, stores nothing)", twin_port, "/twin", twin_pid),
            ("POST /documents, postgres store", api_port, "/api/v1/documents", api_pid),
            ("POST /documents, folder store", folder_port, "/api/v1/documents", folder_pid),
        ]
        runs: dict[str, list[Result]] = {name: [] for name, *_ in endpoints}
        runs[FLOOR] = []
        for index, (_name, port, path, _pid) in enumerate(endpoints):
            await load("warm-up", port, path, make_pdfs(args.concurrency, 64 * 1024, f"w{index}"), 32)
        for number in range(args.rounds):
            # Distinct bytes per endpoint too: the two product servers share the blobs table, and a
            # hash already stored would be deduplicated instead of written.
            for index, (name, port, path, pid) in enumerate(endpoints):
                pdfs = make_pdfs(per_round, size, tag=f"r{number}e{index}")
                meter = CpuMeter({"server": pid, **postgres, **client})
                runs[name].append(await load(name, port, path, pdfs, args.concurrency, meter))
            meter = CpuMeter({**postgres, **client})
            runs[FLOOR].append(await db_floor(pool, pdfs, args.concurrency, meter))
    return [merge(name, results) for name, results in runs.items()]


FLOOR = "raw INSERT 1 MB bytea+COMMIT"


@asynccontextmanager
async def floor_pool(database_url: str, size: int = 15) -> AsyncIterator[Any]:
    """asyncpg connections for the floor, opened before any timing (as the API's pool is)."""
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (k text PRIMARY KEY, data bytea);"
            "ALTER TABLE bench_floor ALTER COLUMN data SET STORAGE EXTERNAL"
        )
        yield pool
    finally:
        await pool.close()


async def db_floor(pool: Any, pdfs: list[bytes], concurrency: int, meter: CpuMeter) -> Result:
    """The floor any Postgres blob store pays: one 1 MB bytea INSERT + COMMIT per upload, no HTTP."""
    todo = iter(enumerate(pdfs))
    latencies: list[float] = []

    async def client() -> None:
        for index, pdf in todo:
            begin = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO bench_floor VALUES ($1, $2)", f"{id(pdfs)}-{index}", pdf)
            latencies.append(time.perf_counter() - begin)

    before = meter.read()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return Result(FLOOR, seconds, latencies, {}, len(pdfs[0]), meter.since(before))


async def busy(args, base_env: dict[str, str]) -> Result:
    """The product API while its in-process worker runs a backlog of real extraction jobs."""
    env = {**base_env, "RUN_WORKER": "true", "RUN_MIGRATIONS": "false"}
    async with serving("app.main:create_app", env) as (port, _pid):
        await backlog(port, args.backlog)
        before = await job_counts(env["DATABASE_URL"])
        pdfs = make_pdfs(
            max(args.concurrency, args.requests // args.rounds), int(args.size_mb * 1024 * 1024), tag="busy"
        )
        result = await load("busy", port, "/api/v1/documents", pdfs, args.concurrency)
        after = await job_counts(env["DATABASE_URL"])
    done = after.get("succeeded", 0) - before.get("succeeded", 0)
    result.name = f"  ... worker busy ({done} jobs done)"
    return result


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=960, help="uploads per endpoint, all rounds (bounded)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--backlog", type=int, default=40, help="extraction jobs queued for the busy phase")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tieout-bench-"))
    server = None
    try:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            sys.path.insert(0, str(ROOT))
            from app.core.pgserver import EmbeddedPostgres, ensure_database

            server = EmbeddedPostgres(folder / "pg")
            server.start()
            await ensure_database(server, "bench")
            database_url = server.url("bench")
        base = {"DATABASE_URL": database_url, "TIEOUT_DATA_DIR": str(folder / "data"), "LOG_LEVEL": "WARNING"}
        postgres_pid = _postmaster_pid(server.pgdata) if server is not None else None
        results = await compare(args, base, postgres_pid)
        for result in results:
            print(result.line(), flush=True)
        twin, api, folder, floor = results
        if args.backlog:
            print((await busy(args, base)).line(), flush=True)
        print(
            f"product / twin throughput: postgres store {api.rate / twin.rate:.2f}x, folder store "
            f"{folder.rate / twin.rate:.2f}x (target >= 0.5x, p99 < 1000 ms); raw INSERT floor / twin "
            f"{floor.rate / twin.rate:.2f}x; postgres store / floor {api.rate / floor.rate:.2f}x"
        )
    finally:
        if server is not None:
            server.stop(force=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
