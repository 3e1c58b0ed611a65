"""GET /usage (LLMWhisperer pages billed and saved) and DELETE /admin/text-cache. Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.core.db import DbSession
from app.extraction.cache import clear_cache, usage_summary

router = APIRouter(tags=["usage"])
SHA256 = r"^[0-9a-f]{64}$"


class DocumentUsageRead(BaseModel):
    sha256: str
    document_id: str | None
    pages_billed: int
    pages_saved: int


class UsageRead(BaseModel):
    pages_billed: int = Field(description="pages LLMWhisperer billed")
    pages_saved: int = Field(description="pages served from the cache instead of paid for")
    by_mode: dict[str, dict[str, int]]
    by_document: list[DocumentUsageRead]


class CacheCleared(BaseModel):
    pages: int
    runs: int


@router.get("/usage", response_model=UsageRead, summary="LLMWhisperer pages billed and saved")
async def get_usage(
    session: DbSession, since: Annotated[datetime | None, Query(description="ISO time")] = None
) -> UsageRead:
    """What the LLMWhisperer API cost, and what the shared cache saved, per mode and per document."""
    summary = await usage_summary(session, since=since)
    return UsageRead(
        pages_billed=summary.pages_billed,
        pages_saved=summary.pages_saved,
        by_mode=summary.by_mode,
        by_document=[
            DocumentUsageRead(
                sha256=d.sha256,
                document_id=str(d.document_id) if d.document_id else None,
                pages_billed=d.pages_billed,
                pages_saved=d.pages_saved,
            )
            for d in summary.by_document
        ],
    )


@router.delete("/admin/text-cache", response_model=CacheCleared, summary="Clear the page-text cache")
async def delete_text_cache(
    session: DbSession,
    sha256: Annotated[str | None, Query(pattern=SHA256)] = None,
    engine: Annotated[str | None, Query(pattern="^(llmwhisperer|local)$")] = None,
    older_than: Annotated[datetime | None, Query()] = None,
) -> CacheCleared:
    """Remove cached page text (all, one file's, one engine's, or entries older than a time)."""
    cleared = await clear_cache(session, sha256=sha256, engine=engine, older_than=older_than)
    return CacheCleared(pages=cleared.pages, runs=cleared.runs)
