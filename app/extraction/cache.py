"""Content-addressed page-text cache in PostgreSQL, usage accounting, and their service functions.

Input: a file's sha256, the engine, the options that change its output, and page numbers. Output:
cached `PageText`s (hits counted and logged, and the pages they saved recorded as usage), the usage
summary, and cache clearing. Invariants: a key is (sha256, engine, options_key, page), never a path
or a file name, so changed bytes never serve stale text and equal bytes from any user share the
entry; `TextCache` commits one short transaction per call (never held across a network call), while
`usage_summary`/`clear_cache` only flush: their caller commits.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.extraction.models import TextCacheEntry, TextUsage, WhisperRun
from app.extraction.source import PageText

log = structlog.get_logger(__name__)
# Pages looked up in this process, by outcome: {"hit": n, "miss": m} (health/metrics read it).
LOOKUPS: Counter[str] = Counter()


@dataclass(frozen=True)
class Attribution:
    document_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


_NOBODY = Attribution()
_attribution: ContextVar[Attribution | None] = ContextVar("text_usage_attribution", default=None)


@contextmanager
def usage_attribution(
    document_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> Iterator[Attribution]:
    """Attribute the usage rows written inside this block (the job task wraps extraction in it)."""
    token = _attribution.set(Attribution(document_id, user_id))
    try:
        yield _attribution.get() or _NOBODY
    finally:
        _attribution.reset(token)


def current_attribution() -> Attribution:
    return _attribution.get() or _NOBODY


class TextCache:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def get_pages(
        self, sha256: str, engine: str, options_key: str, pages: list[int]
    ) -> dict[int, PageText]:
        """Cached pages among `pages`; each hit bumps its counter, and the pages saved are recorded."""
        key = (
            TextCacheEntry.sha256 == sha256,
            TextCacheEntry.engine == engine,
            TextCacheEntry.options_key == options_key,
            TextCacheEntry.page.in_(pages),
        )
        async with self._sessionmaker.begin() as session:
            rows = (await session.scalars(select(TextCacheEntry).where(*key))).all()
            found = {row.page: _page_from_row(row) for row in rows}
            if found:
                await session.execute(
                    update(TextCacheEntry)
                    .where(*key)
                    .values(hit_count=TextCacheEntry.hit_count + 1, last_hit_at=func.now())
                )
                attribution = current_attribution()
                mode = next(iter(found.values())).extra.get("whisper_mode") or rows[0].mode
                await session.execute(
                    insert(TextUsage).values(
                        sha256=sha256,
                        engine=engine,
                        mode=mode,
                        pages_saved=len(found),
                        document_id=attribution.document_id,
                        user_id=attribution.user_id,
                    )
                )
        missing = len(pages) - len(found)
        LOOKUPS.update(hit=len(found), miss=missing)
        log.info("text_cache.lookup", sha256=sha256[:12], engine=engine, hits=len(found), misses=missing)
        return found

    async def put_pages(
        self,
        sha256: str,
        engine: str,
        options_key: str,
        options: dict[str, Any],
        pages: list[PageText],
        whisper_run_id: int | None = None,
    ) -> None:
        """Store pages; an entry another worker stored first is kept (same key, same text)."""
        if not pages:
            return
        rows = [
            {
                "sha256": sha256,
                "engine": engine,
                "options_key": options_key,
                "options": options,
                "page": page.page,
                "text": page.text,
                "mode": page.mode,
                "ocr": page.ocr,
                "line_confidence": list(page.line_confidence) if page.line_confidence is not None else None,
                "extra": page.extra,
                "whisper_run_id": whisper_run_id,
            }
            for page in pages
        ]
        async with self._sessionmaker.begin() as session:
            await session.execute(pg_insert(TextCacheEntry).values(rows).on_conflict_do_nothing())


def _page_from_row(row: TextCacheEntry) -> PageText:
    return PageText(
        page=row.page,
        text=row.text,
        engine=row.engine,
        mode=row.mode,  # type: ignore[arg-type]
        ocr=row.ocr,
        line_confidence=tuple(row.line_confidence) if row.line_confidence is not None else None,
        extra={**row.extra, "cached": True},
    )


@dataclass(frozen=True)
class DocumentUsage:
    sha256: str
    document_id: uuid.UUID | None
    pages_billed: int
    pages_saved: int


@dataclass(frozen=True)
class UsageSummary:
    pages_billed: int
    pages_saved: int
    by_mode: dict[str, dict[str, int]] = field(default_factory=dict)
    by_document: list[DocumentUsage] = field(default_factory=list)


async def usage_summary(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, since: datetime | None = None
) -> UsageSummary:
    """Pages billed by LLMWhisperer and pages saved by cache hits, in total, per mode and per document."""
    filters = []
    if user_id is not None:
        filters.append(TextUsage.user_id == user_id)
    if since is not None:
        filters.append(TextUsage.created_at >= since)
    billed = func.coalesce(func.sum(TextUsage.pages_billed), 0)
    saved = func.coalesce(func.sum(TextUsage.pages_saved), 0)
    by_mode_rows = await session.execute(
        select(TextUsage.mode, billed, saved)
        .where(*filters)
        .group_by(TextUsage.mode)
        .order_by(TextUsage.mode)
    )
    by_mode = {mode: {"pages_billed": b, "pages_saved": s} for mode, b, s in by_mode_rows}
    by_document_rows = await session.execute(
        select(TextUsage.sha256, TextUsage.document_id, billed, saved)
        .where(*filters)
        .group_by(TextUsage.sha256, TextUsage.document_id)
        .order_by(billed.desc(), TextUsage.sha256)
    )
    by_document = [DocumentUsage(sha, doc, b, s) for sha, doc, b, s in by_document_rows]
    return UsageSummary(
        pages_billed=sum(v["pages_billed"] for v in by_mode.values()),
        pages_saved=sum(v["pages_saved"] for v in by_mode.values()),
        by_mode=by_mode,
        by_document=by_document,
    )


@dataclass(frozen=True)
class ClearedCache:
    pages: int
    runs: int


async def clear_cache(
    session: AsyncSession,
    *,
    sha256: str | None = None,
    engine: str | None = None,
    older_than: datetime | None = None,
) -> ClearedCache:
    """Delete cached pages (all, or one file's / one engine's / older ones) and their finished runs.

    Runs still in flight (a whisper_hash without a stored result) are kept: forgetting them would
    make the next attempt pay for a job the service is already doing.
    """
    filters = []
    if sha256 is not None:
        filters.append(TextCacheEntry.sha256 == sha256)
    if engine is not None:
        filters.append(TextCacheEntry.engine == engine)
    if older_than is not None:
        filters.append(TextCacheEntry.created_at < older_than)
    pages = (await session.execute(delete(TextCacheEntry).where(*filters))).rowcount
    runs = 0
    if engine in (None, "llmwhisperer"):
        run_filters = [WhisperRun.state.in_(("completed", "failed"))]
        if sha256 is not None:
            run_filters.append(WhisperRun.sha256 == sha256)
        if older_than is not None:
            run_filters.append(WhisperRun.created_at < older_than)
        runs = (await session.execute(delete(WhisperRun).where(*run_filters))).rowcount
    await session.flush()
    log.info("text_cache.cleared", pages=pages, runs=runs, sha256=sha256, engine=engine)
    return ClearedCache(pages=pages, runs=runs)
