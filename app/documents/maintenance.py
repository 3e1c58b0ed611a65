"""Periodic upkeep of the documents domain, run as a background task of the API process.

Each round, in short transactions of its own: Idempotency-Keys past their retention window are
deleted, and with the folder blob store, files no `blobs` row names (left by rolled-back or killed
uploads, or by deleted documents) and stale partial files are unlinked once older than
BLOB_SWEEP_MIN_AGE_SECONDS. Invariants: a failing step is logged and the next round still runs on
schedule; cancelling the task stops it at once; several API processes may run it side by side (the
sweep takes per-file locks and never waits for them).
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import is_database_unavailable
from app.documents.blobs import FolderBlobStore
from app.documents.service import DocumentService

log = structlog.get_logger("tieout.documents.maintenance")


def _failed(event: str, exc: Exception) -> None:
    # A database outage is expected now and then (the next round retries); anything else is a bug.
    traceback = None if is_database_unavailable(exc) else exc
    log.warning(event, error=f"{type(exc).__name__}: {exc}"[:300], exc_info=traceback)


async def maintain_once(sessionmaker: async_sessionmaker[AsyncSession], service: DocumentService) -> None:
    """One round: purge expired keys, then sweep the folder store; failures are logged, not raised."""
    settings = service.settings
    try:
        async with sessionmaker.begin() as session:
            purged = await service.purge_expired_keys(session)
        if purged:
            log.info("idempotency_keys.purged", count=purged)
    except Exception as exc:
        _failed("idempotency_keys.purge_failed", exc)
    if not isinstance(service.blobs, FolderBlobStore):
        return
    try:
        async with sessionmaker.begin() as session:
            removed = await service.blobs.sweep(session, min_age_seconds=settings.blob_sweep_min_age_seconds)
        if removed:
            log.info("blobs.swept", removed=removed, root=str(service.blobs.root))
    except Exception as exc:
        _failed("blobs.sweep_failed", exc)


async def run_maintenance(sessionmaker: async_sessionmaker[AsyncSession], service: DocumentService) -> None:
    """A round at start (a crash may have left files behind), then one every SWEEP_INTERVAL_SECONDS."""
    while True:
        await maintain_once(sessionmaker, service)
        await asyncio.sleep(service.settings.sweep_interval_seconds)
