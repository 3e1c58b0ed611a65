"""Opening PDFs: every unreadable input is one `PdfError` with a stable code and a clear message."""

from __future__ import annotations

import pytest

from app.extraction import errors
from app.extraction.errors import PdfError
from app.extraction.local_source import LocalTextSource, extract_pages, find_candidate_pages
from app.extraction.pdf import check_pdf_bytes, open_pdf, page_count
from tests import pdfs

BAD_INPUTS = [
    # (name, bytes, code, words the message must contain)
    ("csv uploaded as a pdf", pdfs.not_a_pdf(), errors.PDF_NOT_PDF, "not a PDF"),
    ("empty upload", b"", errors.PDF_NOT_PDF, "empty"),
    ("upload cut off mid-transfer", pdfs.truncated_pdf(), errors.PDF_TRUNCATED, "truncated"),
    ("header and eof around garbage", pdfs.corrupt_pdf(), errors.PDF_CORRUPT, "damaged"),
    ("user password set", pdfs.encrypted_pdf(), errors.PDF_ENCRYPTED, "password"),
    ("empty page tree", pdfs.zero_page_pdf(), errors.PDF_EMPTY, "no pages"),
]


class TestOpenPdf:
    def test_a_generated_statement_opens(self) -> None:
        with open_pdf(pdfs.statement_pdf()) as doc:
            assert len(doc) == 1

    @pytest.mark.parametrize(
        ("data", "code", "words"), [case[1:] for case in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
    )
    def test_bad_input_raises_one_typed_error(self, data: bytes, code: str, words: str) -> None:
        with pytest.raises(PdfError) as raised, open_pdf(data):
            pass
        assert raised.value.code == code
        assert words in raised.value.message
        assert str(raised.value) == raised.value.message

    def test_error_order_does_not_matter(self) -> None:
        """PDFium keeps its last error globally; a failure must not colour the next one."""
        codes = []
        for data in (pdfs.encrypted_pdf(), pdfs.zero_page_pdf(), pdfs.corrupt_pdf(), pdfs.zero_page_pdf()):
            with pytest.raises(PdfError) as raised, open_pdf(data):
                pass
            codes.append(raised.value.code)
        assert codes == [errors.PDF_ENCRYPTED, errors.PDF_EMPTY, errors.PDF_CORRUPT, errors.PDF_EMPTY]

    def test_encrypted_opens_with_its_password(self) -> None:
        assert page_count(pdfs.encrypted_pdf("s3cret"), password="s3cret") == 1

    def test_wrong_password_says_so(self) -> None:
        with (
            pytest.raises(PdfError, match="password given is wrong") as raised,
            open_pdf(pdfs.encrypted_pdf("s3cret"), password="guess"),
        ):
            pass
        assert raised.value.code == errors.PDF_ENCRYPTED

    def test_over_the_page_limit(self) -> None:
        with (
            pytest.raises(PdfError, match="3 pages; the limit is 2") as raised,
            open_pdf(pdfs.text_pdf(pages=3), max_pages=2),
        ):
            pass
        assert raised.value.code == errors.PDF_TOO_MANY_PAGES

    def test_junk_before_the_header_is_allowed(self) -> None:
        check_pdf_bytes(b"\x00" * 100 + pdfs.text_pdf())

    def test_pdf_error_is_a_plain_exception(self) -> None:
        assert issubclass(PdfError, Exception)
        assert (
            repr(PdfError("pdf_empty", "The PDF has no pages."))
            == "PdfError('pdf_empty', 'The PDF has no pages.')"
        )


class TestSourceValidates:
    def test_candidate_pages_raises_the_typed_error(self) -> None:
        with pytest.raises(PdfError) as raised:
            find_candidate_pages(pdfs.truncated_pdf())
        assert raised.value.code == errors.PDF_TRUNCATED

    def test_page_out_of_range(self) -> None:
        with pytest.raises(
            PdfError, match=r"Pages 0, 3 are outside the document, which has 2 pages\."
        ) as raised:
            extract_pages(pdfs.text_pdf(pages=2), [0, 1, 3])
        assert raised.value.code == errors.PDF_PAGE_OUT_OF_RANGE

    async def test_async_source_raises_before_any_work(self) -> None:
        source = LocalTextSource(max_pages=2)
        try:
            with pytest.raises(PdfError) as raised:
                await source.pages(pdfs.text_pdf(pages=3), [1])
            assert raised.value.code == errors.PDF_TOO_MANY_PAGES
            with pytest.raises(PdfError):
                await source.candidate_pages(pdfs.encrypted_pdf())
        finally:
            source.close()
