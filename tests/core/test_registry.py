"""Worker registry: register, beat, age of the latest heartbeat, leave, prune."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.registry import (
    beat,
    latest_heartbeat_age,
    new_worker_id,
    prune_workers,
    register_worker,
    unregister_worker,
)


async def backdate(session: AsyncSession, worker_id: str, seconds: int) -> None:
    await session.execute(
        text("UPDATE workers SET heartbeat_at = now() - make_interval(secs => :s) WHERE id = :id"),
        {"s": seconds, "id": worker_id},
    )


class TestRegistry:
    async def test_no_worker_means_no_heartbeat(self, session: AsyncSession) -> None:
        assert await latest_heartbeat_age(session) is None

    async def test_register_then_beat_refreshes_the_heartbeat(self, session: AsyncSession) -> None:
        worker_id = new_worker_id()
        await register_worker(session, worker_id)
        await backdate(session, worker_id, 120)
        assert await latest_heartbeat_age(session) >= 120
        await beat(session, worker_id)
        assert await latest_heartbeat_age(session) < 5

    async def test_beat_re_registers_a_removed_worker(self, session: AsyncSession) -> None:
        await beat(session, "lost-worker")
        await unregister_worker(session, "lost-worker")
        assert await latest_heartbeat_age(session) is None
        await beat(session, "lost-worker")
        assert await latest_heartbeat_age(session) is not None

    async def test_prune_removes_only_silent_workers(self, session: AsyncSession) -> None:
        await register_worker(session, "alive")
        await register_worker(session, "silent")
        await backdate(session, "silent", 600)
        assert await prune_workers(session, older_than_seconds=60) == 1
        remaining = await session.scalars(text("SELECT id FROM workers"))
        assert list(remaining) == ["alive"]

    def test_worker_ids_are_unique_and_readable(self) -> None:
        first, second = new_worker_id(), new_worker_id()
        assert first != second
        assert first.rsplit("-", 2)[1].isdigit()
