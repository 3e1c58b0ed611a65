"""Dependencies of the documents API: the service, the caller's scope, owned documents (404 in one place)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from app.core.db import DbSession
from app.documents.schemas import DocumentRead
from app.documents.service import DocumentService, build_document_service


async def get_document_service(request: Request) -> DocumentService:
    """The process's `DocumentService`: the one the lifespan built, else built once on first use.

    `async` although it never awaits: FastAPI runs a plain `def` dependency on its thread pool, a
    thread hop per request for nothing (measured on uploads)."""
    state = request.app.state
    service = getattr(state, "document_service", None)
    if service is None:
        service = state.document_service = build_document_service(state.settings)
    return service


async def current_owner_id(request: Request) -> uuid.UUID | None:
    """Whose documents the request may see: the signed-in user once auth lands, else the shared scope."""
    user = getattr(request.state, "user", None)
    return getattr(user, "id", None)


DocumentServiceDep = Annotated[DocumentService, Depends(get_document_service)]
OwnerId = Annotated[uuid.UUID | None, Depends(current_owner_id)]


async def owned_document(
    document_id: Annotated[uuid.UUID, Path()],
    session: DbSession,
    service: DocumentServiceDep,
    owner_id: OwnerId,
) -> DocumentRead:
    """The caller's document, or the same 404 whether it does not exist or belongs to someone else."""
    return await service.get_document(session, document_id, owner_id=owner_id)


OwnedDocument = Annotated[DocumentRead, Depends(owned_document)]
