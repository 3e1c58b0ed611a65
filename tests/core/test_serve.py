"""`tieout serve` as a real process: ready on embedded or external PostgreSQL, stopped cleanly by signal."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.pgserver import EmbeddedPostgres, ensure_database
from tests.conftest import fast_temp_dir

pytestmark = pytest.mark.slow

TIEOUT = str(Path(sys.executable).parent / "tieout")
READY_TIMEOUT = 60.0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Our own temp folder: pytest prunes old tmp_path folders, even while another run uses them."""
    folder = fast_temp_dir("tieout-serve-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_ready(process: subprocess.Popen[str], url: str) -> httpx.Response:
    deadline = time.monotonic() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"serve exited early with {process.returncode}"
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} not ready within {READY_TIMEOUT} s")


async def stop(process: subprocess.Popen[str], sig: signal.Signals, *, group: bool = False) -> int:
    """Signal the process (or, like Ctrl-C in a terminal, its whole process group) and wait."""
    if group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    try:
        return await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def start_serve(port: int, log: Path, *, via_uv: bool = False, **env: str) -> subprocess.Popen[str]:
    """`tieout serve` in its own process group; `via_uv` runs it the README way, `uv run tieout`."""
    environment = {**os.environ, "LOG_LEVEL": "WARNING", "RUN_WORKER": "false", **env}
    if "DATABASE_URL" not in env:
        environment.pop("DATABASE_URL", None)
    uv = shutil.which("uv")
    command = [uv, "run", "--frozen", "tieout"] if via_uv and uv else [TIEOUT]
    with log.open("w") as stderr:
        return subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )


class TestServe:
    async def test_embedded_database_ready_then_ctrl_c_stops_both(self, data_dir: Path) -> None:
        port = free_port()
        log = data_dir / "serve.log"
        process = start_serve(port, log, via_uv=True, TIEOUT_DATA_DIR=str(data_dir), RUN_WORKER="true")
        try:
            ready = await wait_until_ready(process, f"http://127.0.0.1:{port}/health/ready")
            assert ready.json()["checks"]["database"] == "ok"
            assert (data_dir / "pg" / "postmaster.pid").exists()
        finally:
            code = await stop(process, signal.SIGINT, group=True)
        assert code == 0, log.read_text()[-3000:]
        assert not (data_dir / "pg" / "postmaster.pid").exists(), "embedded PostgreSQL still running"
        assert "Traceback" not in log.read_text()

    async def test_external_database_url_then_sigterm(
        self, data_dir: Path, second_postgres: EmbeddedPostgres
    ) -> None:
        await ensure_database(second_postgres, "serve_external")
        port = free_port()
        url = second_postgres.url("serve_external").replace("+asyncpg", "")
        process = start_serve(port, data_dir / "serve.log", TIEOUT_DATA_DIR=str(data_dir), DATABASE_URL=url)
        try:
            ready = await wait_until_ready(process, f"http://127.0.0.1:{port}/health/ready")
            assert ready.json()["checks"]["migrations"] == "ok"
        finally:
            code = await stop(process, signal.SIGTERM)
        assert code == 0, (data_dir / "serve.log").read_text()[-3000:]
        assert not (data_dir / "pg").exists(), "no embedded server when DATABASE_URL is set"
        assert "Traceback" not in (data_dir / "serve.log").read_text()
        assert second_postgres.running


class TestWorkerCommand:
    async def test_worker_registers_a_heartbeat_and_stops_on_sigterm(
        self, data_dir: Path, fresh_database_url: str
    ) -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        environment = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            "TIEOUT_DATA_DIR": str(data_dir),
            "DATABASE_URL": fresh_database_url,
            "RUN_MIGRATIONS": "false",
        }
        log = data_dir / "worker.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [TIEOUT, "worker"], env=environment, stdout=subprocess.DEVNULL, stderr=stderr, text=True
            )
        engine = create_async_engine(fresh_database_url)
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            workers = 0
            while workers == 0 and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                async with engine.connect() as conn:
                    workers = await conn.scalar(text("SELECT count(*) FROM workers"))
                await asyncio.sleep(0.1)
            assert workers == 1
        finally:
            code = await stop(process, signal.SIGTERM)
            await engine.dispose()
        assert code == 0, log.read_text()[-3000:]
        assert "Traceback" not in log.read_text()
