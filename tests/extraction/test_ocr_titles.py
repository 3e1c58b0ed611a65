"""The cheap pass for scans: title lines read in the top band of pages without a text layer."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from app.extraction import ocr as ocr_module
from app.extraction.candidates import candidate_pages, has_scan_title, is_scan_title
from app.extraction.local import scan_pages
from app.extraction.local_source import LocalTextSource, find_candidate_pages
from app.extraction.ocr_titles import titled_scans
from app.extraction.pdf import open_pdf
from app.pipeline import run_extraction
from tests import pdfs
from tests.corpus.truth import corpus_file
from tests.extraction.numbers import number_hits

WILD_SCANS = ["fanmilk-annual-2024.pdf", "idealmarketing-afs-2022.pdf"]


class TestScanTitles:
    @pytest.mark.parametrize(
        "line",
        [
            # As rapidocr read the title bands of the image-only wild filings at 100 dpi.
            "STATEMENT OF PROFIT OR LOSS AND OTHER COMPREHENSIVE INCOME",
            "STATEMENT OF FINANCIAL POSITION AT 31 DECEMBER 2024",
            "STATEMENTOFFINANCIALPOSITION",
            "STATEMENTSOFCHANGESINEQUITY",
            "Consolidated and separate statements of cash flows",
            "FAN MILK PLC STATEMENT OF CASH FLOWS",
            "CONSOLIDATED STATEMENTS OF SHAREHOLDERS’ EQUITY",
            "Group income statement",
            "BALANCE SHEETS",
        ],
    )
    def test_titles(self, line: str) -> None:
        assert is_scan_title(line)

    @pytest.mark.parametrize(
        "line",
        [
            # Prose that names a statement, as read at the top of Fan Milk's notes pages.
            "The statement of profit or loss, including requirements for mandatory sub-totals to be",
            "6(a).Expenses by nature have been disclosed inthe statement of comprehensive income asfollows:",
            "discounted at the market rate of interest at the statement of financial position date.",
            "NOTES TO FINANCIAL STATEMENTS",
            "INDEPENDENT AUDITOR'S REPORT",
        ],
    )
    def test_not_titles(self, line: str) -> None:
        assert not is_scan_title(line)

    def test_a_title_wrapped_over_two_lines(self) -> None:
        assert has_scan_title(["EXAMPLE PLC", "CONSOLIDATED STATEMENTS OF", "FINANCIAL POSITION"])
        assert not has_scan_title(["EXAMPLE PLC", "CONSOLIDATED STATEMENTS OF"])


class TestCandidatesWithScans:
    def test_titled_scans_and_the_page_after_each(self) -> None:
        texts = [""] * 8
        assert candidate_pages(texts, set(range(1, 9)), scan_titled={3, 4}) == [3, 4, 5]

    def test_no_title_anywhere_keeps_every_scanned_page(self) -> None:
        """When the band pass reads no title at all, it may have failed: fall back to every scan."""
        assert candidate_pages(["", "", ""], {1, 2, 3}, scan_titled=set()) == [1, 2, 3]

    def test_a_titled_text_page_followed_by_a_scan(self) -> None:
        texts = ["cover", "CONSOLIDATED BALANCE SHEETS\nAssets", "", "", "Notes"]
        assert candidate_pages(texts, {3, 4}, scan_titled=set()) == [2, 3]

    def test_bands_are_read_in_the_executor_and_tested(self) -> None:
        bands = {1: ["Annual report"], 2: ["EXAMPLE PLC", "STATEMENTOFCASHFLOWS"], 3: ["Notes"]}
        with ThreadPoolExecutor(2) as pool:
            titled = titled_scans(b"", [1, 2, 3], max_pages=10, executor=pool, read=lambda _, n, __: bands[n])
        assert titled == {2}


def test_a_scan_wrapped_in_a_form_xobject_needs_ocr() -> None:
    """`rotated_pdf` wraps each scanned page in a form XObject: the image inside still counts."""
    data = pdfs.rotated_pdf(pdfs.scanned_pdf(pdfs.statement_pdf()))
    with open_pdf(data) as doc:
        assert [scan.needs_ocr for scan in scan_pages(doc)] == [True]


def _prose_pages(*paragraphs: str) -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("helvetica", size=11)
    for paragraph in paragraphs:
        pdf.add_page()
        pdf.set_xy(72, 72)
        pdf.multi_cell(468, 15, paragraph)
    return bytes(pdf.output())


def _joined(*documents: bytes) -> bytes:
    out = pdfium.PdfDocument.new()
    try:
        for data in documents:
            out.import_pages(pdfium.PdfDocument(data))
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
    finally:
        out.close()


@pytest.fixture(scope="module")
def scanned_report() -> tuple[bytes, pdfs.Statement, pdfs.Statement]:
    """An image-only report: a cover, a notes page whose prose names a statement, then IS and BS."""
    income, balance = pdfs.income_statement(), pdfs.balance_sheet()
    prose = _prose_pages(
        "EXAMPLE CORPORATION\nANNUAL REPORT AND FINANCIAL STATEMENTS\nFor the year ended 26 January 2020",
        "NOTES TO THE FINANCIAL STATEMENTS\n"
        + "The amounts below are presented in the statement of financial position at their fair value, "
        "and changes in them are recognised in the statement of profit or loss as they arise. " * 6,
    )
    return pdfs.scanned_pdf(_joined(prose, pdfs.statement_pdf(income, balance))), income, balance


@pytest.mark.slow
class TestScannedReport:
    def test_only_the_statement_pages_are_candidates(self, scanned_report) -> None:
        data, _, _ = scanned_report
        assert find_candidate_pages(data) == [3, 4]

    def test_a_scan_stored_sideways_with_rotate(self) -> None:
        data = pdfs.rotated_pdf(pdfs.scanned_pdf(pdfs.statement_pdf(pdfs.income_statement())))
        assert find_candidate_pages(data) == [1]

    async def test_only_the_candidates_are_ocred_and_the_statements_extracted(
        self, scanned_report, monkeypatch
    ) -> None:
        data, income, balance = scanned_report
        ocred: list[int] = []
        real_ocr_page = ocr_module.ocr_page

        def recording_ocr_page(image, number, *args, **kwargs):
            ocred.append(number)
            return real_ocr_page(image, number, *args, **kwargs)

        monkeypatch.setattr(ocr_module, "ocr_page", recording_ocr_page)
        source = LocalTextSource()
        try:
            extraction = await run_extraction(data, source=source)
        finally:
            source.close()
        assert sorted(ocred) == [3, 4]
        pages = {page.page: page for page in extraction.pages}
        assert all(page.ocr for page in pages.values())
        for statement, number in ((income, 3), (balance, 4)):
            hits, total, missing = number_hits(statement.truth(), pages[number].text)
            assert hits == total, missing
        found = {(s.type, tuple(s.pages)) for s in extraction.statements}
        assert {("income_statement", (3,)), ("balance_sheet", (4,))} <= found


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("name", WILD_SCANS)
def test_wild_scans_statement_pages_are_candidates(name: str) -> None:
    """Every expected statement page of the image-only wild filings, and far from every page."""
    data = corpus_file("wild", name).read_bytes()
    expected = json.loads(corpus_file("wild", "expected.json").read_text())[name]
    chosen = find_candidate_pages(data)
    wanted = {page for pages in expected.values() for page in pages}
    assert wanted <= set(chosen)
    with pdfium.PdfDocument(data) as doc:
        assert len(chosen) < len(doc) / 4
