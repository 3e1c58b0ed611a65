"""Entry points the `extract.document` task runs in sandboxed child processes.

Input: PDF bytes (and pages), or page text. Output: page text, or statements as format JSON.
Invariants: module-level functions (the sandbox pickles them by name) in a module that imports
nothing heavy at load time, so a child spends its time on the document, not on importing the
service; CPU-bound and crash-prone work (PDFium, OCR, parsing) only ever runs here.
"""

from __future__ import annotations

import sys
from typing import Any


def local_page_text(pdf: bytes, pages: list[int] | None, max_pages: int) -> list[Any]:
    """PDFium text (OCR where a page has none) of the chosen pages, else of the candidate pages."""
    import pypdfium2

    from app.extraction.errors import PDF_CORRUPT, PdfError
    from app.extraction.local_source import extract_pages, find_candidate_pages

    try:
        wanted = pages or find_candidate_pages(pdf, max_pages=max_pages)
        _release_band_engines()
        return extract_pages(pdf, wanted, max_pages=max_pages) if wanted else []
    except pypdfium2.PdfiumError as error:
        # A page PDFium cannot load fails the same way on every attempt: terminal, not retried.
        raise PdfError(PDF_CORRUPT, f"corrupt PDF: {error}") from error


def _release_band_engines() -> None:
    """The title-band engines are done once the cheap pass is: this child will not read another
    document, so their memory goes to the page engines (OCR was imported only if a page needed it)."""
    ocr = sys.modules.get("app.extraction.ocr")
    if ocr is not None:
        ocr.release_engines("band")


def candidate_pages(pdf: bytes, max_pages: int) -> list[int]:
    """The cheap pass alone (pages that may hold a statement), for engines that fetch text elsewhere."""
    import pypdfium2

    from app.extraction.errors import PDF_CORRUPT, PdfError
    from app.extraction.local_source import find_candidate_pages

    try:
        return find_candidate_pages(pdf, max_pages=max_pages)
    except pypdfium2.PdfiumError as error:
        raise PdfError(PDF_CORRUPT, f"corrupt PDF: {error}") from error


def analyse_pages(pages: list[Any]) -> list[dict[str, Any]]:
    """Detect → parse → verify over page text (`app.pipeline`); the statements as format JSON."""
    from app.pipeline import extract_from_pages

    return [s.model_dump(mode="json") for s in extract_from_pages(pages).statements]
