"""OCR of pages without a text layer: word repair (fast) and rapidocr end to end (slow, ~5 s a page)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from app.extraction import local_source
from app.extraction import ocr as ocr_module
from app.extraction.local_source import LocalTextSource, extract_pages, find_candidate_pages
from app.extraction.ocr_marks import components, find_dashes
from app.extraction.ocr_words import box_words, respace
from tests import pdfs
from tests.corpus.truth import corpus_file
from tests.extraction.numbers import number_hits, row_problems

SCANNED = [
    "nvidia-fy2020-income-statement-scanned",
    "nvidia-fy2020-comprehensive-income-scanned",
    "nvidia-fy2020-balance-sheet-scanned",
    "nvidia-fy2020-cashflow-statement-scanned",
    "nvidia-fy2020-shareholder-equity-scanned",
]


class TestWordRepair:
    @pytest.mark.parametrize(
        ("read", "repaired"),
        [
            # As rapidocr read the NVIDIA scanned statements at 200 dpi.
            ("Researchanddevelopment", "Research and development"),
            ("CONSOLIDATEDSTATEMENTSOFINCOME", "CONSOLIDATED STATEMENTS OF INCOME"),
            ("LIABILITIESANDSHAREHOLDERS'EQUITY", "LIABILITIES AND SHAREHOLDERS' EQUITY"),
            ("(Inmillions,exceptpershare data)", "(In millions, except per share data)"),
            ("Incometaxexpense(benefit)", "Income tax expense (benefit)"),
            ("Balances,January27,2019", "Balances, January 27, 2019"),
            ("($0.570percommonshare)", "($0.570 per common share)"),
            # As it read the image-only Fan Milk annual report (wild corpus).
            ("FORTHEYEARENDED31DECEMBER2024", "FOR THE YEAR ENDED 31 DECEMBER 2024"),
            ("NetcashoutflowfromInvestingActivities", "Net cash outflow from Investing Activities"),
            ("Analysis of changes inCash and Cash", "Analysis of changes in Cash and Cash"),
            ("iPhone McDonald", "iPhone McDonald"),
            # As it read the scanned Ideal Marketing statements: "l" misread as "i".
            ("Totai Non-Current Assets", "Total Non-Current Assets"),
            ("TOTAI Trade and Other Receivabies", "TOTAL Trade and Other Receivables"),
            ("Tail tilt", "Tail tilt"),
            ("PriorYear'sAdjustment Appropriationfor", "Prior Year's Adjustment Appropriation for"),
            # Runs of words outside the statement vocabulary, split with the English word list.
            ("CASHFLOWFROMINVESTINGACTIVITY", "CASH FLOW FROM INVESTING ACTIVITY"),
            ("IDEALMARKETING&MANUFACTURINGCORPORATION", "IDEAL MARKETING & MANUFACTURING CORPORATION"),
            ("Net Income forthe period", "Net Income for the period"),
            ("WorkingCapital Effect:", "Working Capital Effect:"),
            ("Trade and OtherReceivabies", "Trade and Other Receivables"),
            ("NETINCREASE(DECREASE)IN CASH", "NET INCREASE (DECREASE) IN CASH"),
            ("non-cash Income& Expenses", "non-cash Income & Expenses"),
            ("EmployeeBenefitObtigations", "Employee Benefit Obligations"),
            ("thousandsofGhanaCedi", "thousands of Ghana Cedi"),
            ("Tota! Equity", "Total Equity"),  # Fan Milk p19: "l" read as "!"
            # Names and misspellings that do not split into words stay as read.
            ("Salesforce PG&E AT&T", "Salesforce PG&E AT&T"),
            ("MANUFATURINGCORPORATION", "MANUFATURINGCORPORATION"),
            # Left alone: not made of vocabulary words, or already words.
            ("NVIDIACORPORATIONANDSUBSIDIARIES", "NVIDIACORPORATIONANDSUBSIDIARIES"),
            ("Depreciation", "Depreciation"),
            ("10,918", "10,918"),
        ],
    )
    def test_respace(self, read: str, repaired: str) -> None:
        assert " ".join(respace(token) for token in read.split()) == repaired

    def test_a_box_becomes_grouped_words_with_their_weakest_character(self) -> None:
        chars = list("Sales 1")
        cells = [[[10 * i, 0], [10 * i + 9, 0], [10 * i + 9, 30], [10 * i, 30]] for i in range(len(chars))]
        scores = [0.99, 0.98, 0.7, 0.99, 0.99, 0.5, 0.95]
        item = [[[0, 0], [70, 0], [70, 30], [0, 30]], "Sales 1", 0.9, cells, chars, scores]
        words = box_words(item, scale=0.5, group=7)
        assert [(w.text, w.confidence, w.group) for w in words] == [("Sales", 0.7, 7), ("1", 0.95, 7)]
        assert words[0].x0 == 0 and words[1].x1 == 34.5

    def test_dash_read_as_chinese_one_and_figure_glued_to_its_label(self) -> None:
        item = [[[0, 0], [300, 0], [300, 30], [0, 30]], "in 2019)(9,814) 一", 0.9]
        assert [w.text for w in box_words(item, scale=1, group=0)] == ["in", "2019)", "(9,814)", "—"]

    def test_dashes_found_by_shape_outside_text_boxes(self) -> None:
        image = np.full((100, 400), 255, dtype=np.uint8)
        image[50:53, 100:120] = 0  # a dash in an empty cell
        image[50:53, 200:220] = 0  # a hyphen inside a recognised box
        image[80:82, 10:290] = 0  # a rule under a total
        image[20:23, 300:320] = image[20:23, 325:345] = 0  # a dashed rule
        dashes = find_dashes(components(image), boxes=[(190, 40, 260, 65)], text_height=30)
        assert [(x0, x1) for x0, _, x1, _ in dashes] == [(100, 120)]

    def test_a_short_hyphen_counts_only_in_a_column_of_figures(self) -> None:
        """Ideal Marketing p13 (scanned, Calibri): nil cells printed as 7x3-pixel hyphens."""
        image = np.full((100, 400), 255, dtype=np.uint8)
        image[50:53, 100:107] = 0  # under the figures of a column
        image[50:53, 300:307] = 0  # a speck in the label margin
        figures = [(80, 10, 130, 35)]
        dashes = find_dashes(components(image), boxes=[(80, 10, 130, 35)], text_height=30, figures=figures)
        assert [(x0, x1) for x0, _, x1, _ in dashes] == [(100, 107)]


@pytest.mark.slow
class TestOcrEndToEnd:
    async def test_generated_statement_without_text_layer(self, monkeypatch) -> None:
        statement = pdfs.income_statement()
        data = pdfs.scanned_pdf(pdfs.statement_pdf(statement))
        assert find_candidate_pages(data) == [1]
        threads = []
        real_ocr_page = ocr_module.ocr_page

        def recording_ocr_page(*args, **kwargs):
            threads.append(threading.current_thread())
            return real_ocr_page(*args, **kwargs)

        monkeypatch.setattr(ocr_module, "ocr_page", recording_ocr_page)
        source = LocalTextSource()
        try:
            [page] = await source.pages(data, [1])
        finally:
            source.close()
        assert threads and threads[0] is not threading.main_thread()  # the event loop never ran OCR
        assert page.ocr and page.mode == "layout" and page.extra["dpi"] == 200
        assert len(page.line_boxes) == len(page.line_confidence) == len(page.text.splitlines())
        assert row_problems(statement.truth()["statements"][0], page.text) == []
        hits, total, missing = number_hits(statement.truth(), page.text)
        assert hits == total, missing

    @pytest.mark.corpus
    def test_scanned_nvidia_statements_hold_every_figure(self, capsys) -> None:
        """Per-page hit rate of the truth values (dashes count as 0) in the OCR text: 100% on all five,
        and every row's figures on its label's line, in order, in aligned columns."""
        rates = {}
        for name in SCANNED:
            truth = json.loads(corpus_file("truth", f"{name}.json").read_text())
            [page] = extract_pages(corpus_file("pdf", f"{name}.pdf").read_bytes(), [1])
            assert page.ocr
            hits, total, missing = number_hits(truth, page.text)
            rates[name] = (hits, total, missing)
            assert row_problems(truth["statements"][0], page.text) == [], name
        with capsys.disabled():
            for name, (hits, total, _) in rates.items():
                print(f"\n{name}: {hits}/{total} figures ({hits / total:.1%})", end="")
        assert {name: missing for name, (_, _, missing) in rates.items() if missing} == {}


def test_local_source_renders_scans_at_the_ocr_resolution():
    assert local_source.OCR_DPI == ocr_module.OCR_DPI


@pytest.mark.parametrize(
    ("width", "height", "dpi", "expected"),
    [
        pytest.param(612, 792, 200, 200.0, id="letter page keeps 200 dpi"),
        pytest.param(842, 1191, 200, 200.0, id="A3 portrait keeps 200 dpi"),
        pytest.param(14400, 14400, 200, 20.0, id="200-inch page bomb rendered at 4000 px"),
        pytest.param(1584, 612, 200, 4000 * 72 / 1584, id="22-inch landscape spread capped"),
    ],
)
def test_render_resolution_is_capped_by_the_long_side(width, height, dpi, expected):
    capped = ocr_module.capped_dpi(width, height, dpi)
    assert capped == pytest.approx(expected)
    assert max(width, height) * capped / 72 <= ocr_module.MAX_RENDER_SIDE + 1e-6
