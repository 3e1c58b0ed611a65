"""The `statements` table: one row per stored statement, the statement format kept whole as JSONB.

Invariants: `data` is a `Statement` in the public format whose `id` equals the row id; the indexed
columns (type, company, period ends, verified) are copies of fields of `data`, written together
with it; a document's statements are replaced as a set, never row by row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class StatementRecord(Base):
    __tablename__ = "statements"
    __table_args__ = (
        Index("ix_statements_document_id_position", "document_id", "position", unique=True),
        Index("ix_statements_type_period_end", "type", "period_end"),
        Index("ix_statements_company_lower", text("lower(company)")),
        Index("ix_statements_period_ends", "period_ends", postgresql_using="gin"),
        Index("ix_statements_verified", "verified"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    period_end: Mapped[date | None] = mapped_column(Date)
    period_ends: Mapped[list[date]] = mapped_column(ARRAY(Date))
    verified: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
