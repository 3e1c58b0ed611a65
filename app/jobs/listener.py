"""LISTEN on a dedicated connection that reconnects forever: NOTIFY wake-ups for the worker.

PostgreSQL keeps no NOTIFY for a listener that is not connected, so `on_connect` runs after every
(re)connect for a catch-up read. A `SELECT 1` every `check_interval` notices a half-open socket
that would otherwise never report its death. Losing this connection costs latency, never jobs:
the worker polls anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import URL

from app.jobs.connections import asyncpg_dsn

log = structlog.get_logger("tieout.jobs")


async def wait_any(*events: asyncio.Event, timeout: float | None) -> None:
    """Return when any event is set or `timeout` seconds have passed."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def settle(rounds: int = 3) -> None:
    """Let the other ready tasks run first (no time passes): one claim or one write then serves them all."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class Listener:
    def __init__(
        self,
        url: URL,
        channels: dict[str, Callable[[str], None]],
        *,
        on_connect: Callable[[], None],
        application_name: str,
        check_interval: float = 1.0,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.channels = channels
        self.on_connect = on_connect
        self.application_name = application_name
        self.check_interval = check_interval
        self.connects = 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Listen until `stopping` is set, reconnecting with backoff after any failure."""
        delay = 0.1
        while not stopping.is_set():
            conn = None
            try:
                conn = await asyncpg.connect(
                    self.dsn, timeout=5, server_settings={"application_name": self.application_name}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                for channel, callback in self.channels.items():
                    await conn.add_listener(channel, _adapter(callback))
                self.connects += 1
                self.on_connect()
                delay = 0.1
                await self._watch(conn, lost, stopping)
            except Exception as exc:
                log.warning("listen.lost", error=type(exc).__name__, detail=str(exc)[:200])
            finally:
                if conn is not None:
                    conn.terminate()
            await wait_any(stopping, timeout=delay)
            delay = min(delay * 2, 5.0)

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event, stopping: asyncio.Event) -> None:
        while not lost.is_set() and not stopping.is_set():
            await wait_any(lost, stopping, timeout=self.check_interval)
            if not lost.is_set() and not stopping.is_set():
                await conn.fetchval("SELECT 1", timeout=5)


def _adapter(callback: Callable[[str], None]) -> Callable[..., None]:
    def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        callback(payload)

    return on_notify
