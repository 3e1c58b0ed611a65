"""Typed errors of the extraction stage.

`PdfError` is raised for any PDF that cannot be read (not a PDF, truncated, encrypted without a
password, zero pages, over the page limit). It is a plain exception with a stable `code`: the service
layer maps it onto the API's one error body, so this module imports nothing from app.core.
"""

from __future__ import annotations


class PdfError(Exception):
    """A PDF that cannot be read; `code` is one of the `PDF_*` codes below."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"PdfError({self.code!r}, {self.message!r})"


PDF_NOT_PDF = "pdf_not_pdf"
PDF_TRUNCATED = "pdf_truncated"
PDF_CORRUPT = "pdf_corrupt"
PDF_ENCRYPTED = "pdf_encrypted"
PDF_EMPTY = "pdf_empty"
PDF_TOO_MANY_PAGES = "pdf_too_many_pages"
PDF_PAGE_OUT_OF_RANGE = "pdf_page_out_of_range"
