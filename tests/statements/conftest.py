"""Fixtures for the statements tests: a committed document to hang statements on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.documents.blobs import PostgresBlobStore
from app.documents.models import Document


async def add_document(
    session: AsyncSession, *, owner_id: uuid.UUID | None = None, data: bytes = b"%PDF-1.7"
) -> Document:
    import hashlib

    sha = hashlib.sha256(data + uuid.uuid4().bytes).hexdigest()
    await PostgresBlobStore().put(session, sha, data)
    document = Document(
        id=uuid.uuid4(),
        owner_id=owner_id,
        filename="report.pdf",
        sha256=sha,
        size_bytes=len(data),
        page_count=85,
    )
    session.add(document)
    await session.flush()
    return document


@pytest.fixture
async def document(session: AsyncSession) -> AsyncIterator[Document]:
    yield await add_document(session)
