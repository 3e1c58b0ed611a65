"""Local text extraction: the layout engine, candidate pages, generated statements and the NVIDIA 10-K."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from fpdf import FPDF

from app.extraction.candidates import candidate_pages, has_title
from app.extraction.layout import Word, is_numeric, layout_words
from app.extraction.local import scan_pages
from app.extraction.local_source import LocalTextSource, extract_pages, find_candidate_pages
from app.extraction.pdf import open_pdf
from tests import pdfs
from tests.corpus.truth import corpus_file
from tests.extraction.numbers import number_hits, row_problems


def word(text: str, x0: float, top: float, width: float | None = None) -> Word:
    return Word(text, x0, top, x0 + (width if width is not None else 5 * len(text)), top + 10)


class TestIsNumeric:
    @pytest.mark.parametrize(
        "text",
        ["10,918", "(52)", "$ 4.59", "4.59", "—", "-", "12%", "(0.5)", "$(1,579)", ".5", "2020"],
    )
    def test_figures(self, text: str) -> None:
        assert is_numeric(text)

    @pytest.mark.parametrize("text", ["Revenue", "$", "Note 13", "January 26,", "(In millions)", "3-for-1"])
    def test_not_figures(self, text: str) -> None:
        assert not is_numeric(text)


class TestLayoutWords:
    def test_right_aligned_figures_share_their_last_column(self) -> None:
        words = [
            word("Revenue", 10, 0),
            word("10,918", 200, 0, 30),
            word("Other", 10, 12),
            word("(2)", 215, 12, 15),
            word("Net", 10, 24),
            word("991", 215, 24, 15),
        ]
        lines = layout_words(words).text.splitlines()
        ends = [
            line.index(figure) + len(figure)
            for line, figure in zip(lines, ["10,918", "(2)", "991"], strict=True)
        ]
        assert ends == [len(lines[0])] * 3

    def test_a_long_label_moves_the_whole_column(self) -> None:
        """The label of the middle row runs into the figures' column: every row's figure moves with it."""
        words = [
            word("Revenue", 10, 0),
            word("918", 100, 0, 15),
            word("Sales, general and administrative expenses", 10, 12, 88),
            word("815", 100, 12, 15),
            word("Net", 10, 24),
            word("103", 100, 24, 15),
        ]
        lines = layout_words(words).text.splitlines()
        assert [line[-3:] for line in lines] == ["918", "815", "103"]
        assert len({len(line) for line in lines}) == 1
        assert re.search(r"expenses {2,}815$", lines[1])

    def test_chunks_are_two_spaces_apart_and_words_one(self) -> None:
        words = [word("Cost", 10, 0), word("of", 33, 0), word("revenue", 46, 0), word("4,150", 60 + 50, 0)]
        assert layout_words(words).text.split("  ")[0] == "Cost of revenue"

    def test_label_set_higher_than_its_figures_stays_on_its_line(self) -> None:
        """NVIDIA's equity statement sets "Balances, ..." 4 pt above the row's figures."""
        words = [Word("Balances", 10, 117.0, 50, 124.5), Word("585", 245, 121.0, 256, 128.5)]
        assert len(layout_words(words).text.splitlines()) == 1

    def test_boxes_and_confidences_match_lines(self) -> None:
        words = [
            Word("Revenue", 10, 0, 45, 10, 0.99),
            Word("10,918", 200, 0, 230, 10, 0.85),
            Word("Note", 10, 60, 30, 70, 0.95),
        ]
        layout = layout_words(words)
        assert layout.text.splitlines()[1] == ""
        assert layout.line_boxes == ((10, 0, 230, 10), None, (10, 60, 30, 70))
        assert layout.line_confidence == (0.85, None, 0.95)
        assert layout.low_confidence == ((("10,918", 0.85),), (), ())

    def test_no_words(self) -> None:
        assert layout_words([]).text == ""


class TestCandidates:
    @pytest.mark.parametrize(
        "line",
        [
            "CONSOLIDATED STATEMENTS OF INCOME",  # nvidia 10-K p.39
            "CONSOLIDATED STATEMENTS OF SHAREHOLDERS’ EQUITY",  # nvidia 10-K p.42
            "Consolidated Statements of Financial Position",  # boeing 10-K
            "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)",  # 10-Q style
            "Statement of Profit or Loss and Other Comprehensive Income",  # IFRS annual report
            "STATEMENTS OF CHANGES IN EQUITY",  # PFRS for SMEs
            "Condensed Consolidated Income Statement",  # UK interim report
            "BALANCE SHEETS",
            "Consolidated Cash Flow Statement",
            "STOCKHOLDERS' EQUITY",
        ],
    )
    def test_titles(self, line: str) -> None:
        assert has_title(f"Table of Contents\nNVIDIA CORPORATION\n{line}\n(In millions)\n")

    @pytest.mark.parametrize(
        "text",
        [
            "Total shareholders' equity 12,204 9,342",  # a balance-sheet row, not a title
            "We describe the results in the notes and in the discussion of our market risk in detail " * 3,
            "Revenue by geographic area",
        ],
    )
    def test_not_titles(self, text: str) -> None:
        assert not has_title(text)

    def test_untitled_continuation_and_pages_without_text(self) -> None:
        figures = " ".join(f"{n},000" for n in range(20))
        texts = ["cover", "CONSOLIDATED STATEMENTS OF CASH FLOWS\n" + figures, figures, figures, ""]
        assert candidate_pages(texts, no_text_layer={5}) == [2, 3, 5]


class TestGeneratedStatements:
    @pytest.mark.parametrize("unicode_font", [True, False], ids=["dejavu", "helvetica"])
    @pytest.mark.parametrize("make", [pdfs.income_statement, pdfs.balance_sheet])
    def test_every_figure_on_its_label_line(self, make, unicode_font: bool) -> None:
        statement = make()
        [page] = extract_pages(pdfs.statement_pdf(statement, unicode_font=unicode_font), [1])
        assert not page.ocr and page.mode == "layout" and page.engine == "local"
        assert row_problems(statement.truth()["statements"][0], page.text) == []
        hits, total, missing = number_hits(statement.truth(), page.text)
        assert hits == total, missing

    def test_line_boxes_in_points_from_the_top(self) -> None:
        [page] = extract_pages(pdfs.statement_pdf(), [1])
        lines = page.text.splitlines()
        assert len(page.line_boxes) == len(lines)
        assert (page.width, page.height) == (612.0, 792.0)
        company = lines.index(next(line for line in lines if "EXAMPLE CORPORATION" in line))
        x0, top, x1, bottom = page.line_boxes[company]
        assert 45 < top < 60 < bottom < 65 and x0 < x1

    def test_a_page_stored_rotated_reads_as_displayed(self) -> None:
        data = pdfs.statement_pdf()
        [upright] = extract_pages(data, [1])
        [rotated] = extract_pages(pdfs.rotated_pdf(data), [1])
        assert rotated.text == upright.text
        assert (rotated.width, rotated.height) == (612.0, 792.0)

    def test_vertical_margin_text_is_left_out(self) -> None:
        pdf = FPDF(unit="pt", format="letter")
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        pdf.text(72, 100, "Revenue")
        with pdf.rotation(90, x=590, y=700):
            pdf.text(590, 700, "Printed on recycled paper")
        [page] = extract_pages(bytes(pdf.output()), [1])
        assert page.text == "Revenue"

    def test_candidate_pages_of_a_generated_filing(self) -> None:
        data = pdfs.statement_pdf(pdfs.income_statement(), pdfs.balance_sheet())
        assert find_candidate_pages(data) == [1, 2]

    async def test_source_returns_pages_in_the_order_asked(self) -> None:
        source = LocalTextSource()
        try:
            data = pdfs.statement_pdf(pdfs.income_statement(), pdfs.balance_sheet())
            pages = await source.pages(data, [2, 1])
            assert [p.page for p in pages] == [2, 1]
            assert "BALANCE SHEETS" in pages[0].text
            assert await source.pages(data, []) == []
        finally:
            source.close()


def plain_texts(pdf: bytes) -> list[str]:
    with open_pdf(pdf) as doc:
        return [scan.text for scan in scan_pages(doc)]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return corpus_file("pdf", "nvidia-10k-fy2020.pdf").read_bytes()


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(corpus_file("truth", "nvidia-10k-fy2020.json").read_text())


@pytest.mark.corpus
class TestNvidia10K:
    def test_candidate_pages_hold_every_statement(self, pdf: bytes) -> None:
        assert set(range(39, 45)) <= set(find_candidate_pages(pdf))

    @pytest.mark.parametrize(
        "kind",
        ["income_statement", "comprehensive_income", "balance_sheet", "shareholders_equity", "cash_flow"],
    )
    def test_every_figure_on_its_label_line_in_its_column(self, pdf: bytes, truth: dict, kind: str) -> None:
        statement = next(s for s in truth["statements"] if s["type"] == kind)
        pages = extract_pages(pdf, statement["pages"])
        assert row_problems(statement, [p.text for p in pages]) == []

    def test_layout_keeps_every_figure_of_every_page(self, pdf: bytes) -> None:
        """Figures of the plain text, as a multiset, equal those of the layout text: none lost or fused."""
        figure = re.compile(r"\d[\d,]*(?:\.\d+)?")
        plain = [Counter(figure.findall(text)) for text in plain_texts(pdf)]
        laid_out = [Counter(figure.findall(page.text)) for page in extract_pages(pdf, list(range(1, 86)))]
        assert [n for n, (a, b) in enumerate(zip(plain, laid_out, strict=True), start=1) if a != b] == []

    def test_equity_headers_stay_over_their_columns(self, pdf: bytes) -> None:
        """Seven columns, headers on up to four lines: each header word overlaps its column's figures."""
        [page] = extract_pages(pdf, [42])
        lines = page.text.splitlines()
        row = next(line for line in lines if line.lstrip().startswith("Balances, January 27, 2019"))
        figures = [
            (row.index(f), row.index(f) + len(f))
            for f in ("606", "6,051", "(9,263)", "(12)", "12,565", "9,342")
        ]
        headers = {
            "Shares": 0,
            "Capital": 1,
            "Paid-in": 1,
            "Additional": 1,
            "Treasury": 2,
            "Comprehensive": 3,
            "Retained": 4,
            "Earnings": 4,
            "Equity": 5,
        }
        for header, column in headers.items():
            line = next(line for line in lines if f" {header}" in line)
            start = line.index(f" {header}") + 1
            left, right = figures[column]
            assert start <= right and start + len(header) >= left, (header, line)


class TestNarrowByDetection:
    """The cheap pass names statement pages, not every page that mentions a statement."""

    STATEMENT = "\n".join(
        [
            "EXAMPLE CORPORATION AND SUBSIDIARIES",
            "CONSOLIDATED STATEMENTS OF OPERATIONS",
            "(In thousands)",
            "Year Ended December 31, 2024 2023",
            "Revenue $ 12,500 $ 10,000",
            "Cost of revenue 7,500 6,200",
            "Gross profit 5,000 3,800",
            "Operating expenses 2,000 1,900",
            "Income from operations 3,000 1,900",
            "Provision for income taxes 600 350",
            "Net income $ 2,400 $ 1,550",
        ]
    )
    INDEX = (
        "Index to Financial Statements\n"
        "Consolidated Statements of Operations 41\n"
        "Consolidated Balance Sheets 42"
    )
    NOTES = "Note 2. Revenue\nThe consolidated statements of operations include revenue from contracts."

    @staticmethod
    def scans(*texts: str) -> list:
        from types import SimpleNamespace

        return [SimpleNamespace(text=text) for text in texts]

    def test_look_alike_pages_are_dropped_and_the_next_page_kept(self):
        from app.extraction.local_source import narrow_by_detection

        scans = self.scans(self.INDEX, self.STATEMENT, self.NOTES, self.NOTES)
        assert narrow_by_detection([1, 2, 3, 4], scans, no_text=set()) == [2, 3]

    def test_scanned_candidates_are_always_kept(self):
        from app.extraction.local_source import narrow_by_detection

        scans = self.scans(self.INDEX, self.STATEMENT, "", self.NOTES)
        assert narrow_by_detection([1, 2, 3, 4], scans, no_text={3}) == [2, 3]

    def test_without_any_detection_every_candidate_stays(self):
        from app.extraction.local_source import narrow_by_detection

        scans = self.scans(self.INDEX, self.NOTES)
        assert narrow_by_detection([1, 2], scans, no_text=set()) == [1, 2]
