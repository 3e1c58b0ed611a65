"""Detection and parsing of posted page text, for debugging and for clients that run their own OCR.

Thin over the pure stages: page text in, detections or verified statements out. CPU work runs in a
worker thread so the API's event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import json

from app.analysis.schemas import DetectionOut, PageIn
from app.detection.detect import Detection, detect_statements
from app.extraction.source import PageText
from app.parsing.parse import parse_statement
from app.pipeline import extract_from_pages
from app.statements.format import DocumentInfo, StatementSet
from app.verification.verify import verify_all


def to_page_text(pages: list[PageIn]) -> list[PageText]:
    return [
        PageText(
            page=p.page,
            text=p.text,
            engine=p.engine,
            ocr=p.ocr,
            mode=p.mode or ("grid" if "|" in p.text else "layout"),
        )
        for p in sorted(pages, key=lambda p: p.page)
    ]


def describe(detection: Detection) -> DetectionOut:
    evidence = json.loads(json.dumps(detection.evidence, default=str))
    return DetectionOut(
        type=detection.type,
        pages=list(detection.pages),
        confidence=round(detection.confidence, 3),
        title=detection.title,
        entity=detection.entity,
        evidence=evidence,
    )


async def detect_pages(pages: list[PageText]) -> list[DetectionOut]:
    """Detections with their evidence."""
    found = await asyncio.to_thread(detect_statements, pages)
    return [describe(d) for d in found]


async def parse_pages(
    pages: list[PageText], *, statement_type: str | None, title: str | None
) -> tuple[list[DetectionOut], StatementSet]:
    """Detect (unless the type is given), parse and verify the posted pages."""
    if statement_type is None:
        extraction = await asyncio.to_thread(extract_from_pages, pages)
        detections, statements = extraction.detections, extraction.statements
    else:
        numbers = tuple(p.page for p in pages)
        detection = Detection(statement_type, numbers, 1.0, title or "", {"given": True})
        detections = [detection]
        statements = await asyncio.to_thread(lambda: verify_all([parse_statement(pages, detection)]))
    return [describe(d) for d in detections], StatementSet(document=DocumentInfo(), statements=statements)
