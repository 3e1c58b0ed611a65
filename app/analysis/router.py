"""POST /detection and POST /extraction/parse: the pure stages over HTTP, thin."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from app.analysis import service
from app.analysis.schemas import DetectionIn, DetectionResult, ParseIn, ParseResult
from app.core.db import DbSession
from app.core.openapi import error_responses
from app.documents.dependencies import DocumentServiceDep, OwnerId
from app.extraction.local_source import extract_pages, find_candidate_pages

router = APIRouter(tags=["analysis"])


@router.post(
    "/detection",
    response_model=DetectionResult,
    summary="Find the statements in page text or a stored document",
    responses=error_responses(404),
)
async def detect_statements(
    body: DetectionIn, session: DbSession, documents: DocumentServiceDep, owner_id: OwnerId
) -> DetectionResult:
    """Which primary statements are on which pages, with the evidence for each pick."""
    if body.pages is not None:
        pages = service.to_page_text(body.pages)
    else:
        document = await documents.get_document(session, body.document_id, owner_id=owner_id)
        pdf = await documents.read_file(session, document)
        limit = documents.settings.max_pdf_pages
        numbers = await asyncio.to_thread(find_candidate_pages, pdf, max_pages=limit)
        pages = await asyncio.to_thread(extract_pages, pdf, numbers, max_pages=limit)
    detections = await service.detect_pages(pages)
    return DetectionResult(pages_read=[p.page for p in pages], detections=detections)


@router.post("/extraction/parse", response_model=ParseResult, summary="Parse and verify posted page text")
async def parse_text(body: ParseIn) -> ParseResult:
    """Parse and verify posted page text (any engine's layout text or LLMWhisperer pipe grids)."""
    pages = service.to_page_text(body.pages)
    detections, result = await service.parse_pages(pages, statement_type=body.type, title=body.title)
    return ParseResult(detections=detections, result=result)
