"""Fencing: a task's writes count only while it still holds its lease.

Every claim gives the job a new `fence` token. A write made on behalf of a job runs in a transaction
that first locks the job row *with the token it was claimed with* (`lock_fence`); if another worker
has reclaimed the job since, the token differs, no row matches and `LeaseLost` is raised before
anything is written. The row lock is held until commit, so the token cannot change between the
check and the commit (a reclaim's `FOR UPDATE SKIP LOCKED` skips the locked row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from app.core.exceptions import TieoutError

_LOCK_FENCE = text(
    "SELECT id FROM jobs WHERE id = :id AND fence = :fence AND status = 'running' FOR NO KEY UPDATE"
)


class LeaseLost(TieoutError):
    """The job was reclaimed (or finished) by someone else: this worker must stop writing."""

    def __init__(self, job_id: int, fence: int) -> None:
        super().__init__("lease_lost", f"lease lost for job {job_id} (fence {fence})", 409)
        self.job_id = job_id
        self.fence = fence


@dataclass(frozen=True)
class Fence:
    """The lease a worker holds on one job: the row id and the token its claim set."""

    job_id: int
    token: int


def require_rows(rowcount: int | None, fence: Fence, expected: int = 1) -> None:
    """Raise `LeaseLost` unless a fenced statement touched `expected` rows."""
    if rowcount != expected:
        raise LeaseLost(fence.job_id, fence.token)


async def lock_fence(conn: Any, fence: Fence) -> None:
    """Lock the job row if `fence` is still current, in the caller's transaction; else `LeaseLost`.

    `conn` is an `AsyncSession` or `AsyncConnection` inside a transaction.
    """
    result = await conn.execute(_LOCK_FENCE, {"id": fence.job_id, "fence": fence.token})
    if result.first() is None:
        raise LeaseLost(fence.job_id, fence.token)
