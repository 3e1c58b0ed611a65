"""Dedicated asyncpg connections for the worker's hot path (claims, completions), and queue
statements in the form asyncpg runs.

A `DirectConnection` is one connection kept open between statements: no pool checkout, no reset
round trip, no SQLAlchemy layer, and asyncpg prepares each statement once. Statements run in
autocommit (each commits on its own). After a failure that may have broken it (the server went away,
the backend was terminated, a timeout, a cancellation) the connection is dropped and the next `run`
connects anew, so an outage costs the caller a retry, never the process. One statement at a time: a
lock serialises callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import URL

from app.core.errors import is_database_unavailable

T = TypeVar("T")
_ASYNCPG = asyncpg_dialect()


@dataclass(frozen=True)
class DirectStatement:
    """A queue statement in asyncpg's `$n` form, with the parameter names in `$n` order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: TextClause) -> DirectStatement:
        compiled = statement.compile(dialect=_ASYNCPG)
        return cls(compiled.string, tuple(compiled.positiontup or ()))

    async def fetch(self, conn: Any, params: dict[str, Any]) -> list[Any]:
        """Run on an asyncpg connection (prepared once per connection by asyncpg's statement cache)."""
        return await conn.fetch(self.sql, *[params[name] for name in self.names])


def asyncpg_dsn(url: URL) -> str:
    """`postgresql://…` for asyncpg from a SQLAlchemy URL (any driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class DirectConnection:
    def __init__(
        self,
        url: URL,
        *,
        application_name: str,
        synchronous_commit: bool,
        connect_timeout: float = 5.0,
        command_timeout: float | None = None,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.server_settings = {
            "application_name": application_name,
            "synchronous_commit": "on" if synchronous_commit else "off",
        }
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.connects = 0
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def run(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`fn(conn)` on the open connection (connecting first if there is none); its result."""
        async with self._lock:
            conn = self._conn
            if conn is None or conn.is_closed():
                conn = self._conn = await asyncpg.connect(
                    self.dsn,
                    timeout=self.connect_timeout,
                    command_timeout=self.command_timeout,
                    server_settings=self.server_settings,
                )
                self.connects += 1
            try:
                return await fn(conn)
            except BaseException as exc:
                if _may_be_broken(conn, exc):
                    self._drop()
                raise

    async def close(self) -> None:
        """Close the connection (politely, briefly; else abruptly)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=2.0)
            except Exception:
                conn.terminate()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


def _may_be_broken(conn: asyncpg.Connection, exc: BaseException) -> bool:
    # An SQL error leaves the connection usable; anything else (a cancelled or timed-out statement
    # among them) may leave it mid-protocol, so it is replaced.
    statement_error = isinstance(exc, asyncpg.PostgresError) and not is_database_unavailable(exc)
    return conn.is_closed() or not statement_error
