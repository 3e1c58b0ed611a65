"""The `workers` table: who is alive. Each worker registers at start, beats while it runs and leaves at stop.

Heartbeat times come from the database clock (`now()`), so freshness never depends on host clocks.
Helpers take an `AsyncSession` or `AsyncConnection`; the caller owns the transaction.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, Text, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

Executor = AsyncSession | AsyncConnection


class WorkerRecord(Base):
    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    hostname: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    heartbeat_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


def new_worker_id() -> str:
    """`host-pid-random`: unique per process start, readable in `jobs.lease_owner`."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


async def register_worker(db: Executor, worker_id: str) -> None:
    """Insert (or refresh) this worker's row with a fresh heartbeat."""
    statement = insert(WorkerRecord).values(id=worker_id, hostname=socket.gethostname(), pid=os.getpid())
    statement = statement.on_conflict_do_update(
        index_elements=[WorkerRecord.id], set_={"heartbeat_at": func.now()}
    )
    await db.execute(statement)


async def beat(db: Executor, worker_id: str) -> None:
    """Record a heartbeat; re-registers the worker if its row was removed."""
    await register_worker(db, worker_id)


async def unregister_worker(db: Executor, worker_id: str) -> None:
    await db.execute(delete(WorkerRecord).where(WorkerRecord.id == worker_id))


async def latest_heartbeat_age(db: Executor) -> float | None:
    """Seconds since the most recent heartbeat of any worker, or None when no worker ever beat."""
    age = func.extract("epoch", func.now() - func.max(WorkerRecord.heartbeat_at))
    value = (await db.execute(select(age))).scalar_one()
    return None if value is None else float(value)


async def prune_workers(db: Executor, older_than_seconds: float) -> int:
    """Delete rows of workers silent for longer than `older_than_seconds`; returns how many."""
    cutoff = func.now() - text("make_interval(secs => :secs)").bindparams(secs=older_than_seconds)
    result = await db.execute(delete(WorkerRecord).where(WorkerRecord.heartbeat_at < cutoff))
    return result.rowcount or 0
