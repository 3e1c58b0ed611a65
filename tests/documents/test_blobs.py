"""Blob stores: content addressing, sharing, the delete/upload race, partial files and a full disk."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import Settings
from app.documents import blobs as blobs_module
from app.documents.blobs import FolderBlobStore, PostgresBlobStore
from app.documents.models import Document
from app.documents.service import DocumentService
from tests.documents.conftest import Upload, make_pdf
from tests.jobs.waiting import wait_for_lock_waiter

DATA = b"%PDF-1.7 blob test bytes"
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
async def engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database_url)
    yield engine
    await engine.dispose()


def add_document(session: AsyncSession) -> None:
    session.add(Document(id=uuid.uuid4(), filename="a.pdf", sha256=SHA, size_bytes=len(DATA), page_count=1))


class TestPostgresBlobStore:
    async def test_put_is_idempotent_and_get_returns_the_bytes(self, session: AsyncSession) -> None:
        store = PostgresBlobStore()
        assert await store.put(session, SHA, DATA) is True
        assert await store.put(session, SHA, DATA) is False
        assert await store.get(session, SHA) == DATA

    async def test_a_used_blob_is_not_deleted(self, session: AsyncSession) -> None:
        store = PostgresBlobStore()
        await store.put(session, SHA, DATA)
        add_document(session)
        await session.flush()
        assert await store.delete_if_unused(session, SHA) is False
        assert await store.get(session, SHA) == DATA

    async def test_keys_must_be_hashes(self, session: AsyncSession) -> None:
        with pytest.raises(ValueError):
            await PostgresBlobStore().put(session, "../../etc/passwd", DATA)

    async def test_delete_racing_an_upload_of_the_same_bytes_keeps_the_blob(
        self, engine: AsyncEngine
    ) -> None:
        """The deleter saw no document; the uploader commits one meanwhile: the blob must stay."""
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        store = PostgresBlobStore()
        async with sessions.begin() as setup:
            await store.put(setup, SHA, DATA)
        async with sessions() as uploader, sessions() as deleter:
            await uploader.begin()
            await store.put(uploader, SHA, DATA)  # locks the existing row FOR KEY SHARE
            add_document(uploader)
            await uploader.flush()
            await deleter.begin()
            deleting = asyncio.create_task(store.delete_if_unused(deleter, SHA))
            await wait_for_lock_waiter(engine, what="the delete to wait on the uploader's lock")
            await uploader.commit()
            assert await asyncio.wait_for(deleting, timeout=10) is False
            await deleter.commit()
        async with sessions() as check:
            assert await store.get(check, SHA) == DATA


class TestFolderBlobStore:
    async def test_files_are_named_by_hash_only(self, session: AsyncSession, tmp_path: Path) -> None:
        store = FolderBlobStore(tmp_path)
        await store.put(session, SHA, DATA)
        assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()] == [
            f"{SHA[:2]}/{SHA}"
        ]
        assert await store.get(session, SHA) == DATA

    async def test_sweep_removes_only_unreferenced_old_files(
        self, session: AsyncSession, tmp_path: Path
    ) -> None:
        store = FolderBlobStore(tmp_path)
        await store.put(session, SHA, DATA)
        orphan = store.path_for("0" * 64)
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"left by a rolled-back upload")
        assert await store.sweep(session, min_age_seconds=0) == 1
        assert not orphan.exists()
        assert store.path_for(SHA).exists()

    async def test_sweep_skips_a_file_an_uncommitted_upload_is_reusing(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        """An old file no row names is about to be named again: the upload found it in place and
        wrote nothing; sweeping it now would leave the committed row without bytes."""
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        store = FolderBlobStore(tmp_path)
        path = store.path_for(SHA)
        path.parent.mkdir(parents=True)
        path.write_bytes(DATA)
        async with sessions() as uploader:
            await uploader.begin()
            await store.put(uploader, SHA, DATA)
            async with sessions.begin() as sweeper:
                assert await store.sweep(sweeper, min_age_seconds=0) == 0
            await uploader.commit()
        assert path.read_bytes() == DATA
        async with sessions.begin() as sweeper:
            assert await store.sweep(sweeper, min_age_seconds=0) == 0  # now its row names it

    async def test_an_upload_waits_for_a_sweep_in_progress_then_writes_its_file(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        store = FolderBlobStore(tmp_path)
        path = store.path_for(SHA)
        path.parent.mkdir(parents=True)
        path.write_bytes(DATA)
        async with sessions() as sweeper, sessions() as uploader:
            await sweeper.begin()
            assert await store.sweep(sweeper, min_age_seconds=0) == 1
            assert not path.exists()
            await uploader.begin()
            putting = asyncio.create_task(store.put(uploader, SHA, DATA))
            await wait_for_lock_waiter(engine, what="the upload to wait for the sweep")
            await sweeper.commit()
            assert await asyncio.wait_for(putting, timeout=10) is True
            await uploader.commit()
        async with sessions() as check:
            assert await store.get(check, SHA) == DATA

    async def test_a_full_disk_is_507_with_no_rows_and_no_partial_file(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        app_settings: Settings,
        tmp_path: Path,
        upload: Upload,
        engine: AsyncEngine,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        root = tmp_path / "blobs"
        app.state.document_service = DocumentService(app_settings, FolderBlobStore(root))

        def no_space(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(blobs_module.os, "fsync", no_space)
        response = await upload(make_pdf(1))
        assert response.status_code == 507
        assert response.json()["error"]["code"] == "storage_full"
        assert [p for p in root.rglob("*") if p.is_file()] == []
        async with engine.connect() as conn:
            for table in ("blobs", "documents", "jobs"):
                assert await conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0
        monkeypatch.undo()
        assert (await upload(make_pdf(1))).status_code == 202  # space is back: no repair needed
