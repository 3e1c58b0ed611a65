"""HTTP routes of stored statements: a document's statement set, one statement, a filtered list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.db import DbSession
from app.core.types import PaginationQuery
from app.documents.dependencies import OwnedDocument, OwnerId
from app.statements import service
from app.statements.format import StatementSet
from app.statements.schemas import StatementFilters, StatementPage, StatementRead

router = APIRouter(tags=["statements"])


@router.get("/documents/{document_id}/statements", response_model=StatementSet)
async def get_document_statements(document: OwnedDocument, session: DbSession) -> StatementSet:
    """The statement format: `{"document": {...}, "statements": [...]}`."""
    return await service.document_statements(session, document)


@router.get("/statements", response_model=StatementPage)
async def list_statements(
    session: DbSession,
    owner_id: OwnerId,
    page: PaginationQuery,
    filters: Annotated[StatementFilters, Query()],
) -> StatementPage:
    return await service.list_statements(
        session, filters, limit=page.limit, cursor=page.cursor, owner_id=owner_id
    )


@router.get("/statements/{statement_id}", response_model=StatementRead)
async def get_statement(statement_id: uuid.UUID, session: DbSession, owner_id: OwnerId) -> StatementRead:
    return await service.get_statement(session, statement_id, owner_id=owner_id)
