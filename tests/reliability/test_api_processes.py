"""Scenarios 19 (slowloris) and 20 (SIGKILL of the API mid-upload) against `tieout serve` as a real
process on a free loopback port, on a fresh database of the session's embedded PostgreSQL.

Bounded everywhere: fixed connection counts, socket timeouts, polling with deadlines.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.pgserver import EmbeddedPostgres, ensure_database
from app.documents.blobs import FolderBlobStore
from tests.core.test_serve import free_port, start_serve, wait_until_ready
from tests.documents.conftest import make_pdf
from tests.jobs.waiting import wait_until

pytestmark = pytest.mark.slow

BOUNDARY = "sl0wl0ris"


def multipart_head(size: int) -> tuple[bytes, bytes]:
    """Request head and multipart preamble for a PDF part of `size` bytes (the body never finishes)."""
    preamble = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    epilogue_len = len(f"\r\n--{BOUNDARY}--\r\n")
    head = (
        "POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(preamble) + size + epilogue_len}\r\n\r\n"
    ).encode()
    return head, preamble


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Serve:
    def __init__(self, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """`serve = await start(**env)`: `tieout serve` ready on a free port; killed at the end."""
    started: list[subprocess.Popen[str]] = []

    async def launch(**env: str) -> Serve:
        port = free_port()
        log = tmp_path / f"serve-{len(started)}.log"
        process = start_serve(port, log, **env)
        started.append(process)
        await wait_until_ready(process, f"http://127.0.0.1:{port}/health/ready")
        return Serve(process, port, log)

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


async def slow_client(port: int, *, trickle: bool, give_up: float) -> bytes:
    """Send the head and preamble, then one byte per second (or nothing); the server's answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head, preamble = multipart_head(100_000)
    writer.write(head + preamble + b"%PDF-1.7\n")
    await writer.drain()
    answer = b""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + give_up
    try:
        while loop.time() < stop_at:
            try:
                answer = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                # Data or EOF: the server answered or closed; read the rest of its answer.
                while answer and b"upload_timeout" not in answer and loop.time() < stop_at:
                    more = await asyncio.wait_for(reader.read(4096), timeout=2.0)
                    if not more:
                        break
                    answer += more
                break
            except TimeoutError:
                if trickle:
                    writer.write(b"x")
                    await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        answer = b"reset"
    finally:
        writer.close()
    return answer


class TestSlowloris:
    async def test_slow_bodies_get_408_and_normal_uploads_go_through(
        self, start: Callable[..., object], fresh_database_url: str, tmp_path: Path
    ) -> None:
        serve: Serve = await start(  # type: ignore[assignment]
            DATABASE_URL=fresh_database_url,
            RUN_MIGRATIONS="false",
            UPLOAD_IDLE_SECONDS="1.5",
            UPLOAD_TOTAL_SECONDS="4",
            TIEOUT_DATA_DIR=str(tmp_path / "data"),
        )
        async with httpx.AsyncClient(base_url=serve.url, timeout=30) as client:
            assert (await client.get("/api/v1/documents")).status_code == 200
            baseline = open_fds(serve.process.pid)

            attackers = [
                asyncio.create_task(slow_client(serve.port, trickle=i % 2 == 0, give_up=20))
                for i in range(50)
            ]

            async def all_connected() -> bool:
                return open_fds(serve.process.pid) >= baseline + 40

            await wait_until(all_connected, timeout=20, what="the slow connections to be accepted")
            normal = await client.post(
                "/api/v1/documents",
                files={"file": ("normal.pdf", make_pdf(1, "normal", pad_to=1_000_000), "application/pdf")},
            )
            assert normal.status_code == 202, normal.text
            answers = await asyncio.gather(*attackers)

            for answer in answers:  # idle (silent) and total (1 byte/s trickle) limits both answer 408
                assert answer.startswith(b"HTTP/1.1 408") or answer in (b"", b"reset"), answer[:200]
            assert sum(answer.startswith(b"HTTP/1.1 408") for answer in answers) >= 45
            assert b"upload_timeout" in next(a for a in answers if a.startswith(b"HTTP/1.1 408"))

            async def fds_back() -> bool:
                return open_fds(serve.process.pid) <= baseline + 5

            await wait_until(fds_back, timeout=20, what="file descriptors back to the baseline")
            assert (await client.get("/api/v1/documents")).status_code == 200


HEAD_TIMEOUT = 4.0


async def slow_head(port: int, kind: str) -> tuple[bytes, float]:
    """Open a connection and send nothing, part of a request line, or headers 1 byte per 0.2 s.

    Returns what the server sent before closing (b"<reset>" for a reset, b"<open>" if it was
    still open after HEAD_TIMEOUT + 10 s) and how long it stayed open.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    head = b"POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"

    async def trickle() -> None:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)

    sender = asyncio.create_task(trickle()) if kind == "trickle" else None
    if kind == "partial":
        writer.write(head[:12])
    answer = b""
    try:
        async with asyncio.timeout(HEAD_TIMEOUT + 10):
            while chunk := await reader.read(4096):
                answer += chunk
    except TimeoutError:
        answer += b"<open>"
    except ConnectionResetError:
        answer += b"<reset>"
    finally:
        if sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return answer, loop.time() - started


class TestSlowHeaders:
    async def test_late_request_heads_are_closed_and_uploads_go_through(
        self, start: Callable[..., object], fresh_database_url: str, tmp_path: Path
    ) -> None:
        """Scenario 19's other half: the head itself trickles (uvicorn alone never closes these)."""
        serve: Serve = await start(  # type: ignore[assignment]
            DATABASE_URL=fresh_database_url,
            RUN_MIGRATIONS="false",
            HEADER_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
            TIEOUT_DATA_DIR=str(tmp_path / "data"),
        )
        async with httpx.AsyncClient(base_url=serve.url, timeout=30) as client:
            assert (await client.get("/api/v1/documents")).status_code == 200
            baseline = open_fds(serve.process.pid)
            kinds = ["silent", "partial", "trickle"] * 15
            attackers = [asyncio.create_task(slow_head(serve.port, kind)) for kind in kinds]

            async def all_connected() -> bool:
                return open_fds(serve.process.pid) >= baseline + 40

            await wait_until(all_connected, timeout=HEAD_TIMEOUT, what="the slow connections to be accepted")
            normal = await client.post(
                "/api/v1/documents",
                files={"file": ("normal.pdf", make_pdf(1, "normal", pad_to=1_000_000), "application/pdf")},
            )
            assert normal.status_code == 202, normal.text
            # Answered while (nearly) every slow connection was still held open, not after they closed.
            assert sum(not attacker.done() for attacker in attackers) >= 30
            results = await asyncio.gather(*attackers)

            for kind, (answer, held) in zip(kinds, results, strict=True):
                assert 0.8 * HEAD_TIMEOUT <= held <= HEAD_TIMEOUT + 5, (kind, held, answer[:100])
                if kind == "silent":
                    assert answer in (b"", b"<reset>"), answer[:200]
                else:
                    assert answer.startswith(b"HTTP/1.1 408 ") and b"header_timeout" in answer, answer[:200]

            async def fds_back() -> bool:
                return open_fds(serve.process.pid) <= baseline + 5

            await wait_until(fds_back, timeout=20, what="file descriptors back to the baseline")
            assert (await client.get("/api/v1/documents")).status_code == 200


class TestKilledMidUpload:
    async def test_sigkill_during_uploads_leaves_only_whole_documents(
        self, start: Callable[..., object], fresh_database_url: str, tmp_path: Path
    ) -> None:
        blob_dir = tmp_path / "blobs"
        env = {
            "DATABASE_URL": fresh_database_url,
            "RUN_MIGRATIONS": "false",
            "BLOB_STORE": "folder",
            "BLOB_DIR": str(blob_dir),
            "TIEOUT_DATA_DIR": str(tmp_path / "data"),
        }
        serve: Serve = await start(**env)  # type: ignore[assignment]

        # 10 uploads that stream slowly (never finish before the kill) ...
        streaming = [
            asyncio.create_task(slow_client(serve.port, trickle=True, give_up=30)) for _ in range(10)
        ]
        # ... and 10 complete ones racing to commit.
        accepted: list[dict] = []

        async def complete_upload(number: int) -> None:
            data = make_pdf(1, f"crash upload {number}", pad_to=200_000)
            try:
                async with httpx.AsyncClient(base_url=serve.url, timeout=30) as client:
                    response = await client.post(
                        "/api/v1/documents", files={"file": (f"u{number}.pdf", data, "application/pdf")}
                    )
            except httpx.TransportError:
                return  # killed before it answered: the client knows nothing was promised
            assert response.status_code == 202, response.text
            accepted.append(response.json())

        uploads = [asyncio.create_task(complete_upload(n)) for n in range(10)]

        async def first_accepted() -> bool:
            return bool(accepted)

        await wait_until(first_accepted, timeout=30, interval=0.01, what="the first 202")
        os.kill(serve.process.pid, signal.SIGKILL)
        await asyncio.to_thread(serve.process.wait, 30)
        await asyncio.gather(*uploads, *streaming)

        engine = create_async_engine(fresh_database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                documents = (await conn.execute(text("SELECT id, sha256 FROM documents"))).all()
                orphans = await conn.scalar(
                    text(
                        "SELECT count(*) FROM jobs j WHERE NOT EXISTS "
                        "(SELECT 1 FROM documents d WHERE d.id::text = j.args ->> 'document_id')"
                    )
                )
                without_job = await conn.scalar(
                    text(
                        "SELECT count(*) FROM documents d WHERE NOT EXISTS "
                        "(SELECT 1 FROM jobs j WHERE j.args ->> 'document_id' = d.id::text)"
                    )
                )
                blob_rows = set((await conn.execute(text("SELECT sha256 FROM blobs"))).scalars())
            assert orphans == 0 and without_job == 0
            assert {str(row.id) for row in documents} >= {a["document"]["id"] for a in accepted}
            assert {row.sha256 for row in documents} <= blob_rows
            # Every visible blob file is whole: its name is the hash of its bytes.
            for path in blob_dir.glob("??/*"):
                if not path.name.startswith(".partial-"):
                    assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
            for sha in blob_rows:
                assert (blob_dir / sha[:2] / sha).exists() or any(blob_dir.rglob(sha)), sha
        finally:
            await engine.dispose()
        # What a kill in the middle of a blob write leaves (the race above rarely hits that moment).
        stray = FolderBlobStore(blob_dir).path_for("f" * 64)
        stray.parent.mkdir(parents=True, exist_ok=True)
        (stray.parent / ".partial-killed").write_bytes(b"%PDF-1.7 half written")
        stray.write_bytes(b"bytes of an upload that never committed")

        # Restarted with a worker, every acknowledged upload is found and its job finishes, and the
        # restarted API's scheduled sweep removes what no row names; committed blobs stay.
        sweep = {"SWEEP_INTERVAL_SECONDS": "0.5", "BLOB_SWEEP_MIN_AGE_SECONDS": "0"}
        again: Serve = await start(**env, **sweep, RUN_WORKER="true")  # type: ignore[assignment]

        async def swept() -> bool:
            return {path.name for path in blob_dir.glob("??/*")} == blob_rows

        await wait_until(swept, timeout=30, interval=0.1, what="the scheduled sweep of stray blob files")
        async with httpx.AsyncClient(base_url=again.url, timeout=30) as client:
            for answer in accepted:
                assert (await client.get(f"/api/v1/documents/{answer['document']['id']}")).status_code == 200

            async def all_final() -> bool:
                states = [
                    (await client.get(f"/api/v1/jobs/{answer['job_id']}")).json()["status"]
                    for answer in accepted
                ]
                return all(state in {"succeeded", "failed"} for state in states)

            await wait_until(all_final, timeout=120, interval=0.2, what="every accepted job to finish")


class TestPostgresDownUnderServe:
    async def test_served_api_and_worker_ride_out_a_postgres_stop(
        self, start: Callable[..., object], second_postgres: EmbeddedPostgres, tmp_path: Path
    ) -> None:
        """Scenario 10 with the real server process: 503 JSON while PostgreSQL is stopped, then the same
        process (API and its worker) serves and finishes every acknowledged upload."""
        name = f"serve_outage_{os.getpid()}_{id(tmp_path) % 10_000}"
        await ensure_database(second_postgres, name)
        serve: Serve = await start(  # type: ignore[assignment]
            DATABASE_URL=second_postgres.url(name),
            RUN_MIGRATIONS="true",
            RUN_WORKER="true",
            DB_CONNECT_TIMEOUT="2",
            DB_POOL_TIMEOUT="2",
            TIEOUT_DATA_DIR=str(tmp_path / "data"),
        )
        accepted: list[dict] = []
        async with httpx.AsyncClient(base_url=serve.url, timeout=30) as client:

            async def upload(number: int) -> httpx.Response:
                data = make_pdf(1, f"outage upload {number}")
                return await client.post(
                    "/api/v1/documents", files={"file": (f"o{number}.pdf", data, "application/pdf")}
                )

            for number in range(3):
                response = await upload(number)
                assert response.status_code == 202, response.text
                accepted.append(response.json())

            await asyncio.to_thread(second_postgres.stop, force=True)
            try:
                during = [
                    await client.get("/api/v1/jobs"),
                    await client.get(f"/api/v1/jobs/{accepted[0]['job_id']}"),
                    await client.get("/api/v1/documents"),
                    await upload(99),
                    await client.get("/health/ready"),
                ]
                assert serve.process.poll() is None
            finally:
                await asyncio.to_thread(second_postgres.start)
            for response in during:
                assert response.status_code == 503, (
                    response.request.url,
                    response.status_code,
                    response.text,
                )
                assert response.headers["content-type"].startswith("application/json")
                assert int(response.headers["Retry-After"]) > 0
            assert during[-1].json()["error"]["details"]["checks"]["database"].startswith("unreachable")

            async def serving() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            await wait_until(serving, timeout=30, interval=0.2, what="the served API to be ready again")
            after = await upload(100)
            assert after.status_code == 202, after.text
            accepted.append(after.json())

            async def all_final() -> bool:
                states = [
                    (await client.get(f"/api/v1/jobs/{a['job_id']}")).json()["status"] for a in accepted
                ]
                return all(state in {"succeeded", "failed"} for state in states)

            await wait_until(all_final, timeout=120, interval=0.2, what="every acknowledged job to finish")
            running = (await client.get("/api/v1/jobs", params={"status": "running"})).json()
            assert running["items"] == []
        assert serve.process.poll() is None  # never restarted
