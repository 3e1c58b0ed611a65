"""HTTP routes of stored statements: a document's statement set, one statement, a filtered list."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.core.db import DbSession
from app.core.openapi import error_responses
from app.core.types import PaginationQuery
from app.documents.dependencies import OwnedDocument, OwnerId
from app.documents.upload import content_disposition
from app.export.csv import statements_to_csv
from app.export.xlsx import statements_to_xlsx
from app.statements import service
from app.statements.format import StatementSet
from app.statements.schemas import StatementFilters, StatementPage, StatementRead

router = APIRouter(tags=["statements"])

ExportFormat = Literal["json", "csv", "xlsx"]
EXPORT_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORTERS: dict[str, Callable[[StatementSet], bytes]] = {"csv": statements_to_csv, "xlsx": statements_to_xlsx}


@router.get(
    "/documents/{document_id}/statements",
    response_model=StatementSet,
    summary="A document's statements (JSON, CSV or Excel)",
    responses={
        200: {"content": {media: {} for media in EXPORT_MEDIA_TYPES.values()}},
        **error_responses(404),
    },
)
async def get_document_statements(
    document: OwnedDocument,
    session: DbSession,
    export_format: Annotated[
        ExportFormat, Query(alias="format", description="json (default), csv or xlsx, as `tieout extract`")
    ] = "json",
) -> StatementSet | Response:
    """The statement format: `{"document": {...}, "statements": [...]}`; with `format=csv` or
    `format=xlsx` the same statements as the files `tieout extract` writes, as a download."""
    statements = await service.document_statements(session, document)
    if export_format == "json":
        return statements
    data = await asyncio.to_thread(EXPORTERS[export_format], statements)
    name = f"{PurePath(document.filename).stem}-statements.{export_format}"
    headers = {"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=EXPORT_MEDIA_TYPES[export_format], headers=headers)


@router.get("/statements", response_model=StatementPage, summary="Find statements")
async def list_statements(
    session: DbSession,
    owner_id: OwnerId,
    page: PaginationQuery,
    filters: Annotated[StatementFilters, Query()],
) -> StatementPage:
    """Stored statements of every document, filtered; newest first, `next_cursor` for the next page."""
    return await service.list_statements(
        session, filters, limit=page.limit, cursor=page.cursor, owner_id=owner_id
    )


@router.get(
    "/statements/{statement_id}",
    response_model=StatementRead,
    summary="Get a statement",
    responses=error_responses(404),
)
async def get_statement(statement_id: uuid.UUID, session: DbSession, owner_id: OwnerId) -> StatementRead:
    """One statement in the statement format, with the id of the document it was read from."""
    return await service.get_statement(session, statement_id, owner_id=owner_id)
