"""Tables of the extract stage: the shared page-text cache, LLMWhisperer runs and text usage.

- `text_cache`: one row per (file sha256, engine, output options, page); content-addressed, so a
  re-upload of the same bytes under any name or user reuses it.
- `whisper_runs`: one row per (sha256, options, pages) request to LLMWhisperer. It holds the
  whisper_hash as soon as the service answers 202 (a restarted job resumes polling it instead of
  paying again) and the RAW retrieve body, committed before anything parses it (the service answers
  retrieve only once).
- `text_usage`: pages billed by each call and pages saved by each cache hit, per document/user.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class WhisperRun(Base):
    __tablename__ = "whisper_runs"
    __table_args__ = (UniqueConstraint("sha256", "options_key", "pages", name="uq_whisper_runs_request"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sha256: Mapped[str] = mapped_column(Text)
    options_key: Mapped[str] = mapped_column(Text)
    # Normalised pages_to_extract ("39-44"); "" means the whole document.
    pages: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # new → submitting → submitted → retrieved → completed; or ambiguous / failed.
    state: Mapped[str] = mapped_column(Text, server_default=sql("'new'"))
    whisper_hash: Mapped[str | None] = mapped_column(Text)
    submit_count: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    raw_result: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pages_billed: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TextCacheEntry(Base):
    __tablename__ = "text_cache"
    __table_args__ = (UniqueConstraint("sha256", "engine", "options_key", "page", name="uq_text_cache_page"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sha256: Mapped[str] = mapped_column(Text, index=True)
    engine: Mapped[str] = mapped_column(Text)
    options_key: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)
    page: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    ocr: Mapped[bool] = mapped_column(Boolean)
    line_confidence: Mapped[list[float | None] | None] = mapped_column(JSONB)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql("'{}'::jsonb"))
    whisper_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("whisper_runs.id", ondelete="SET NULL")
    )
    hit_count: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_hit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TextUsage(Base):
    __tablename__ = "text_usage"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    sha256: Mapped[str] = mapped_column(Text, index=True)
    # No foreign keys: usage outlives deleted documents and users (it is what the team was billed).
    document_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    engine: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    pages_billed: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    pages_saved: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    whisper_hash: Mapped[str | None] = mapped_column(Text)
