"""The batch completer: marks succeeded jobs, all that finished since its last write in one statement.

Input: `(lease, result, token)` for each job whose handler returned. Output: one fenced write per
round on a dedicated connection (synchronous commit), then `on_written(tokens, committed, claimed)`
with the ids whose lease was still current (or the error that ended the attempt) and the jobs
claimed in the same statement. `claim_size(n)` says how many jobs to claim along with `n` successes
(the slots they free, 0 for none): then the write is `complete_and_claim_direct`, one round trip and
one commit instead of two. Database outages are retried for up to one lease; past that the lease has
expired anyway and the next claim runs the job again (at-least-once). No future or task per job:
the caller's job task ends when it hands its success over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import structlog

from app.jobs import queue
from app.jobs.connections import DirectConnection
from app.jobs.fencing import Fence
from app.jobs.outcomes import retry_outages
from app.jobs.queue import ClaimedJob

log = structlog.get_logger("tieout.jobs")
Token = TypeVar("Token")


class Completer(Generic[Token]):
    def __init__(
        self,
        connection: DirectConnection,
        *,
        owner: str,
        lease_seconds: float,
        claim_size: Callable[[int], int],
        on_written: Callable[[list[Token], set[int] | BaseException, list[ClaimedJob]], None],
    ) -> None:
        self.connection = connection
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.claim_size = claim_size
        self.on_written = on_written
        self._pending: list[tuple[Fence, Any, Token]] = []
        self._wake = asyncio.Event()

    def add(self, lease: Fence, result: Any, token: Token) -> None:
        """Queue a success; `on_written` reports it with the next write."""
        self._pending.append((lease, result, token))
        self._wake.set()

    async def run(self) -> None:
        """Write queued successes until cancelled, one statement per round."""
        while True:
            # No wait for stragglers: successes that arrive while a write is in flight form the next
            # batch, so batches grow with the load by themselves.
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            limit = self.claim_size(len(batch))
            committed: set[int] | BaseException
            claimed: list[ClaimedJob] = []
            try:
                committed, claimed = await self._write([(lease, result) for lease, result, _ in batch], limit)
            except Exception as exc:
                committed = exc
            self.on_written([token for _, _, token in batch], committed, claimed)

    async def _write(
        self, items: Sequence[tuple[Fence, Any]], limit: int
    ) -> tuple[set[int], list[ClaimedJob]]:
        return await retry_outages(
            lambda: self.connection.run(lambda conn: self._statement(conn, items, limit)),
            within_seconds=self.lease_seconds,
        )

    async def _statement(
        self, conn: Any, items: Sequence[tuple[Fence, Any]], limit: int
    ) -> tuple[set[int], list[ClaimedJob]]:
        if limit <= 0:
            return await queue.complete_many_direct(conn, items), []
        return await queue.complete_and_claim_direct(
            conn, items, self.owner, limit=limit, lease_seconds=self.lease_seconds
        )
