"""The API's scheduled upkeep (reliability.md scenario 20): the folder store's sweeper runs on its own,
removes what no row names (partial files of killed uploads, files of deleted documents) once old
enough, keeps every referenced blob, and survives a failing round; expired Idempotency-Keys go too.

Nothing here calls the sweep: the lifespan's background task does, on SWEEP_INTERVAL_SECONDS.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.documents.blobs import FolderBlobStore
from app.documents.maintenance import run_maintenance
from app.documents.service import DocumentService
from tests.documents.conftest import Upload, make_pdf
from tests.jobs.waiting import wait_until

MIN_AGE = 30.0


@pytest.fixture
def app_settings(app_settings: Settings, tmp_path: Path) -> Settings:
    return app_settings.model_copy(
        update={
            "blob_store": "folder",
            "blob_dir": tmp_path / "blobs",
            "sweep_interval_seconds": 0.2,
            "blob_sweep_min_age_seconds": MIN_AGE,
            "idempotency_ttl_seconds": 1.0,
        }
    )


def age(path: Path, seconds: float) -> Path:
    """Backdate the file's mtime, as if it had been written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def plant(root: Path, name: str, data: bytes = b"left behind", *, folder: str | None = None) -> Path:
    """A file in the store's layout: `<root>/<first two characters of the hash>/<name>`."""
    path = root / (folder or name[:2]) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class TestScheduledSweep:
    async def test_unreferenced_and_partial_files_go_referenced_blobs_stay(
        self, upload: Upload, client: httpx.AsyncClient, app_settings: Settings
    ) -> None:
        root = app_settings.blob_dir
        assert root is not None
        kept_data, deleted_data = make_pdf(1, "kept"), make_pdf(1, "deleted")
        kept = await upload(kept_data)
        deleted = await upload(deleted_data)
        assert kept.status_code == deleted.status_code == 202
        kept_sha = kept.json()["document"]["sha256"]
        kept_file = age(root / kept_sha[:2] / kept_sha, 3600)
        deleted_sha = hashlib.sha256(deleted_data).hexdigest()
        deleted_file = age(root / deleted_sha[:2] / deleted_sha, 3600)
        assert (await client.delete(deleted.headers["location"])).status_code == 204

        orphan = age(plant(root, "ab" + "0" * 62), 3600)  # a blob whose upload rolled back
        partial = age(plant(root, ".partial-x1y2", b"half", folder="ab"), 3600)  # a write cut short
        young = plant(root, "cd" + "1" * 62)  # may still be an upload in flight: too young to judge

        async def swept() -> bool:
            return not orphan.exists() and not partial.exists() and not deleted_file.exists()

        await wait_until(swept, timeout=15, interval=0.1, what="the scheduled sweep")
        assert kept_file.exists() and young.exists()
        download = await client.get(kept.headers["location"] + "/file")
        assert download.status_code == 200 and download.content == kept_data

    async def test_expired_idempotency_keys_are_purged(self, upload: Upload, db: AsyncEngine) -> None:
        assert (await upload(make_pdf(1), headers={"Idempotency-Key": "purge-me"})).status_code == 202

        async def purged() -> bool:
            async with db.connect() as conn:
                return await conn.scalar(text("SELECT count(*) FROM idempotency_keys")) == 0

        await wait_until(purged, timeout=15, interval=0.2, what="the expired key to be purged")


class FlakyStore(FolderBlobStore):
    """Fails its first sweep, like a sweep that hit an I/O error."""

    calls = 0

    async def sweep(self, session: AsyncSession, *, min_age_seconds: float = 3600.0) -> int:
        self.calls += 1
        if self.calls == 1:
            raise OSError("I/O error while listing the blob folder")
        return await super().sweep(session, min_age_seconds=min_age_seconds)


class TestLoopSurvivesFailures:
    async def test_a_failing_round_is_logged_and_the_next_one_runs(
        self, app: FastAPI, client: httpx.AsyncClient, app_settings: Settings, tmp_path: Path
    ) -> None:
        store = FlakyStore(tmp_path / "flaky")
        orphan = age(plant(store.root, "ef" + "2" * 62), 3600)
        service = DocumentService(app_settings, store)
        loop = asyncio.create_task(run_maintenance(app.state.sessionmaker, service))
        try:

            async def recovered() -> bool:
                return store.calls >= 2 and not orphan.exists()

            await wait_until(recovered, timeout=15, interval=0.1, what="a sweep after the failed one")
            assert not loop.done()
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
        assert loop.cancelled()
