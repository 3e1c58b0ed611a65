"""Open and validate PDF bytes with PDFium.

Input: the raw bytes of an upload (and an optional password). Output: an open `pypdfium2.PdfDocument`
inside a context manager that closes it. Invariants: every unreadable input raises one `PdfError` with a
stable code (not a PDF, truncated, corrupt, encrypted, zero pages, over the page limit) before any page
is read; PDFium is not thread-safe, so the document is only used while `PDFIUM_LOCK` is held, and
`open_pdf` holds it for the whole `with` block.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.extraction.errors import (
    PDF_CORRUPT,
    PDF_EMPTY,
    PDF_ENCRYPTED,
    PDF_NOT_PDF,
    PDF_PAGE_OUT_OF_RANGE,
    PDF_TOO_MANY_PAGES,
    PDF_TRUNCATED,
    PdfError,
)
from app.extraction.pages import describe_pages

DEFAULT_MAX_PAGES = 2000
# PDFium keeps global state: one call at a time across the process, whatever the document.
PDFIUM_LOCK = threading.RLock()

# The spec allows junk before the header (readers look in the first 1,024 bytes) and after %%EOF.
_HEADER_WINDOW = 1024
_TRAILER_WINDOW = 2048


def check_pdf_bytes(data: bytes) -> None:
    """Cheap checks that need no parser: a PDF header near the start and an %%EOF near the end."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise PdfError(PDF_NOT_PDF, "The file is empty; expected a PDF.")
    head = bytes(data[:_HEADER_WINDOW])
    if b"%PDF-" not in head:
        raise PdfError(PDF_NOT_PDF, "The file is not a PDF: it has no %PDF- header.")
    if b"%%EOF" not in bytes(data[-_TRAILER_WINDOW:]):
        raise PdfError(PDF_TRUNCATED, "The PDF is truncated: it has no %%EOF marker at its end.")


def _load(data: bytes, password: str | None) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(bytes(data), password=password)
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if _opens_without_pages(bytes(data), password):
            raise PdfError(PDF_EMPTY, "The PDF has no pages.") from error
        if code == pdfium_c.FPDF_ERR_SECURITY:
            message = "The PDF is encrypted with a security handler that is not supported."
            raise PdfError(PDF_ENCRYPTED, message) from error
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            message = (
                "The PDF is encrypted and the password given is wrong."
                if password
                else "The PDF is encrypted; it cannot be read without its password."
            )
            raise PdfError(PDF_ENCRYPTED, message) from error
        raise PdfError(PDF_CORRUPT, "The PDF is damaged and cannot be read.") from error


def _opens_without_pages(data: bytes, password: str | None) -> bool:
    """pypdfium2 reports an empty page tree as a load failure, with PDFium's stale last error code."""
    raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), password.encode() if password else None)
    if not raw:
        return False
    try:
        return pdfium_c.FPDF_GetPageCount(raw) == 0
    finally:
        pdfium_c.FPDF_CloseDocument(raw)


@contextmanager
def open_pdf(
    data: bytes, *, password: str | None = None, max_pages: int = DEFAULT_MAX_PAGES
) -> Iterator[pdfium.PdfDocument]:
    """Validated, open document; closed on exit. Holds `PDFIUM_LOCK` for the whole block."""
    check_pdf_bytes(data)
    with PDFIUM_LOCK:
        doc = _load(data, password)
        try:
            count = len(doc)
            if count == 0:
                raise PdfError(PDF_EMPTY, "The PDF has no pages.")
            if count > max_pages:
                raise PdfError(PDF_TOO_MANY_PAGES, f"The PDF has {count} pages; the limit is {max_pages}.")
            yield doc
        finally:
            doc.close()


def page_count(data: bytes, *, password: str | None = None, max_pages: int = DEFAULT_MAX_PAGES) -> int:
    with open_pdf(data, password=password, max_pages=max_pages) as doc:
        return len(doc)


def check_page_numbers(page_numbers: list[int], count: int) -> None:
    """Raise `PdfError` unless every 1-based page number is within the document."""
    bad = [n for n in page_numbers if not 1 <= n <= count]
    if bad:
        which = f"Page {bad[0]} is" if len(bad) == 1 else f"Pages {describe_pages(bad)} are"
        size = "1 page" if count == 1 else f"{count} pages"
        raise PdfError(PDF_PAGE_OUT_OF_RANGE, f"{which} outside the document, which has {size}.")
