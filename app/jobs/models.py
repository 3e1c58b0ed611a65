"""The `jobs` table: one row per unit of background work, leased to one worker at a time.

Invariants: `attempts` counts claims (never exceeds `max_attempts`); `fence` is a new random token
at every claim, so a write conditioned on `(id, fence)` can only succeed for the current holder; a `running`
row always has `lease_owner` and `lease_expires_at`; final states (succeeded, failed, cancelled)
have `finished_at`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        # The claim reads only this index: pending rows in the order they are handed out.
        Index(
            "ix_jobs_claim",
            text("priority DESC"),
            "run_after",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
        # Expired leases are found through the (small) set of running rows.
        Index("ix_jobs_lease", "lease_expires_at", postgresql_where=text("status = 'running'")),
        # Listing by a final status. Not over pending/running: the claim must find those through
        # the two partial indexes above, whose dead entries it does not have to wade through.
        Index(
            "ix_jobs_finished",
            "status",
            "id",
            postgresql_where=text("status IN ('succeeded', 'failed', 'cancelled')"),
        ),
        Index("ix_jobs_type_id", "type", "id"),
        Index("ix_jobs_owner_id_id", "owner_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    # Whose job it is (the API shows a caller only their own); NULL for the shared, no-auth scope.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    args: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fence: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    progress: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    stage: Mapped[str | None] = mapped_column(Text)
    result: Mapped[Any | None] = mapped_column(JSONB)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
