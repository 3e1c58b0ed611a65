"""HTTP routes of the documents API: upload, list, read, download, delete. Thin: parse, call, answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.core.db import DbSession
from app.core.openapi import error_responses
from app.core.types import PaginationQuery
from app.documents.dependencies import DocumentServiceDep, OwnedDocument, OwnerId
from app.documents.schemas import DocumentFilters, DocumentPage, DocumentRead, UploadAccepted
from app.documents.upload import content_disposition, read_upload, upload_options

router = APIRouter(prefix="/documents", tags=["documents"])
NOT_FOUND = error_responses(404)
LOCATION = {"description": "URL of the new document.", "schema": {"type": "string"}}
JOB_LOCATION = {"description": "URL of the new job.", "schema": {"type": "string"}}

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "One PDF."},
                        "engine": {"type": "string", "enum": ["auto", "llmwhisperer", "local"]},
                        "pages": {"type": "string", "description": "1-based pages, e.g. 39-44,50"},
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=UploadAccepted,
    summary="Upload a PDF",
    openapi_extra=UPLOAD_BODY,
    responses={202: {"headers": {"Location": LOCATION}}, **error_responses(400, 408, 409, 413, 415)},
)
async def upload_document(
    request: Request,
    session: DbSession,
    service: DocumentServiceDep,
    owner_id: OwnerId,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Accept one PDF: stored content-addressed, queued for extraction; 202 with the document and job.

    The optional `pages` field limits extraction to those pages, `engine` picks the text engine.
    Sent again with the same `Idempotency-Key`, the first answer comes back (`Idempotent-Replayed:
    true`) and no second document is made; another upload under a live key is 422."""
    # The body is streamed by hand (not `UploadFile`) so limits apply before it is all buffered.
    upload = await read_upload(request, service.limits)
    answer = await service.accept_upload(
        session, upload, upload_options(upload.fields), owner_id=owner_id, idempotency_key=idempotency_key
    )
    headers = {"Location": answer.location}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = {k: v for k, v in answer.body.items() if k != "location"}
    return JSONResponse(body, status_code=answer.status_code, headers=headers)


@router.get("", response_model=DocumentPage, summary="List documents")
async def list_documents(
    session: DbSession,
    service: DocumentServiceDep,
    owner_id: OwnerId,
    page: PaginationQuery,
    filters: Annotated[DocumentFilters, Query()],
) -> DocumentPage:
    """Newest first, `limit` at a time; pass `next_cursor` back as `cursor` for the next page."""
    return await service.list_documents(
        session, filters, limit=page.limit, cursor=page.cursor, owner_id=owner_id
    )


@router.get("/{document_id}", response_model=DocumentRead, summary="Get a document", responses=NOT_FOUND)
async def get_document(document: OwnedDocument) -> DocumentRead:
    """The document with the status, stage and progress of its latest extraction job."""
    return document


@router.get(
    "/{document_id}/file",
    response_class=Response,
    summary="Download the PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "The uploaded bytes."}, **NOT_FOUND},
)
async def download_document(
    document: OwnedDocument, session: DbSession, service: DocumentServiceDep
) -> Response:
    """The PDF exactly as uploaded, as an attachment under its (sanitised) file name."""
    data = await service.read_file(session, document)
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type="application/pdf", headers=headers)


@router.delete("/{document_id}", status_code=204, summary="Delete a document", responses=NOT_FOUND)
async def delete_document(
    document: OwnedDocument, session: DbSession, service: DocumentServiceDep
) -> Response:
    """Remove the document with its statements and jobs; its PDF bytes stay while another document
    uses them."""
    await service.delete_document(session, document)
    return Response(status_code=204)


class ReprocessIn(BaseModel):
    engine: Literal["auto", "local", "llmwhisperer"] | None = None


@router.post(
    "/{document_id}/reprocess",
    status_code=202,
    response_model=UploadAccepted,
    summary="Extract a document again",
    responses={202: {"headers": {"Location": JOB_LOCATION}}, **error_responses(404, 409)},
)
async def reprocess_document(
    document: OwnedDocument,
    session: DbSession,
    service: DocumentServiceDep,
    owner_id: OwnerId,
    body: ReprocessIn | None = None,
) -> JSONResponse:
    """Extract the stored document again (optionally with another engine, as JSON `{"engine": "local"}`);
    202 with the new job, whose URL is in Location. 409 while an extraction is pending or running."""
    engine = body.engine if body else None
    job_id = await service.reprocess(session, document, engine=engine, owner_id=owner_id)
    refreshed = await service.get_document(session, document.id, owner_id=owner_id)
    accepted = UploadAccepted(document=refreshed, job_id=job_id)
    return JSONResponse(
        accepted.model_dump(mode="json"), status_code=202, headers={"Location": f"/api/v1/jobs/{job_id}"}
    )
