"""Repair: each named hypothesis planted in a real statement and found uniquely; ambiguity left alone.

The statements are NVIDIA's FY2020 income statement and cash flow (10-K pp.39, 43), the pages whose
scans gave the misreads measured in shared/measured.md (`3,892` read as `3.892`, `4.59` as `459`).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.verification.verify import verify_statement
from tests.verification.build import failed, statement, years

NVIDIA_INCOME = """
L0 Revenue | 10,918 | 11,716 | 9,714
L1 Cost of revenue | 4,150 | 4,545 | 3,892
T0 Gross profit | 6,768 | 7,171 | 5,822
H0 Operating expenses
L1 Research and development | 2,829 | 2,376 | 1,797
L1 Sales, general and administrative | 1,093 | 991 | 815
T1 Total operating expenses | 3,922 | 3,367 | 2,612
T0 Income from operations | 2,846 | 3,804 | 3,210
L1 Interest income | 178 | 136 | 69
L1 Interest expense | (52) | (58) | (61)
L1 Other, net | (2) | 14 | (22)
T1 Total other income (expense) | 124 | 92 | (14)
T0 Income before income tax | 2,970 | 3,896 | 3,196
L0 Income tax expense (benefit) | 174 | (245) | 149
T0 Net income | 2,796 | 4,141 | 3,047
H0 Net income per share:
L1p Basic | 4.59 | 6.81 | 5.09
L1p Diluted | 4.52 | 6.63 | 4.82
H0 Weighted average shares used in per share computation:
L1s Basic | 609 | 608 | 599
L1s Diluted | 618 | 625 | 632
"""

NVIDIA_INVESTING = """
H0 Cash flows from investing activities:
L1 Proceeds from maturities of marketable securities | 4,744 | 7,232 | 1,078
L1 Proceeds from sales of marketable securities | 3,365 | 428 | 863
L1 Purchases of marketable securities | (1,461) | (11,148) | (36)
L1 Purchases of property and equipment and intangible assets | (489) | (600) | (593)
L1 Investments and other, net | (14) | (9) | (36)
L1 Proceeds from sale of long-lived assets and investments | — | — | 2
T0 Net cash provided by (used in) investing activities | 6,145 | (4,097) | 1,278
"""
YEARS = years("2020-01-26", "2019-01-27", "2018-01-28")


def read(text: str, type_: str = "income_statement"):
    return statement(type_, text, periods=YEARS)


PLANTS = [
    pytest.param(NVIDIA_INCOME, "| (52) |", "| 52 |", "lost_sign", [("Interest expense", "52", "-52")],
                 id="lost-parenthesis-sign"),
    pytest.param(NVIDIA_INCOME, "| 3,892", "| 3.892", "ocr_separator", [("Cost of revenue", "3.892", "3892")],
                 id="rapidocr-300dpi-comma-read-as-point"),
    pytest.param(NVIDIA_INCOME, "| 2,376 |", "| 2,876 |", "digit_confusion",
                 [("Research and development", "2876", "2376")], id="digit-3-read-as-8"),
    pytest.param(NVIDIA_INCOME, "| 136 |", "| 736 |", "digit_confusion", [("Interest income", "736", "136")],
                 id="digit-1-read-as-7"),
    pytest.param(NVIDIA_INCOME, "L1p Basic | 4.59", "L1p Basic | 459", "dropped_decimal_point",
                 [("Basic", "459", "4.59")], id="tesseract-eps-decimal-point-dropped"),
    pytest.param(NVIDIA_INCOME, "| 1,093 | 991 |", "| 1,093991 | |", "merged_cells",
                 [("Sales, general and administrative", "1093991", "1093"),
                  ("Sales, general and administrative", None, "991")], id="two-cells-read-as-one"),
    pytest.param(NVIDIA_INVESTING, "| — | — | 2", "| 2 | |", "column_shift",
                 [("Proceeds from sale of long-lived assets and investments", "2", "None"),
                  ("Proceeds from sale of long-lived assets and investments", None, "2")],
                 id="dashes-lost-value-slid-left"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "true", "misread", "hypothesis", "changes"), PLANTS)
def test_a_planted_misread_is_repaired_uniquely(text, true, misread, hypothesis, changes):
    type_ = "cash_flow" if "investing" in text else "income_statement"
    planted = text.replace(true, misread, 1)
    assert planted != text
    result = verify_statement(read(planted, type_))
    assert result.verified, failed(result)
    assert [(r.row, r.reading, str(r.value)) for r in result.repairs or []] == changes
    assert {r.hypothesis for r in result.repairs or []} == {hypothesis}
    truth = read(text, type_)
    for got, want in zip(result.items, truth.items, strict=True):
        assert [v if v is not None else Decimal(0) for v in got.values] == [
            v if v is not None else Decimal(0) for v in want.values
        ]


def test_a_repaired_item_keeps_what_was_read_and_why_it_changed():
    result = verify_statement(read(NVIDIA_INCOME.replace("| 3,892", "| 3.892")))
    item = next(it for it in result.items if it.label == "Cost of revenue")
    assert item.reading == ["4150", "4545", "3.892"]
    assert item.repair == "ocr_separator"
    assert item.values[2] == Decimal("3892")


def test_every_eps_figure_without_its_decimal_point_is_one_hypothesis():
    text = NVIDIA_INCOME
    for figure in ("4.59", "6.81", "5.09", "4.52", "6.63", "4.82"):
        text = text.replace(figure, figure.replace(".", ""))
    result = verify_statement(read(text))
    assert result.verified
    assert len(result.repairs or []) == 6


class TestAmbiguity:
    def test_two_equal_cells_under_one_total_leave_the_misread_unrepaired(self):
        # A was 11 and read as 17; reading B as 11 instead would foot just as well
        text = "H0 Group\nL1 A | 17\nL1 B | 17\nT0 Total group | 28"
        result = verify_statement(statement("balance_sheet", text, periods=years("2022-12-31", months=None)))
        assert not result.verified
        assert not result.repairs
        assert [it.values for it in result.items][1:3] == [[Decimal(17)], [Decimal(17)]]

    def test_a_misread_no_hypothesis_explains_stays_unverified(self):
        result = verify_statement(read(NVIDIA_INCOME.replace("| 10,918", "| 16,918")))
        assert not result.verified and not result.repairs

    def test_two_misreads_are_not_repaired_one_at_a_time(self):
        text = NVIDIA_INCOME.replace("| 3,892", "| 3.892").replace("| 2,376 |", "| 2,876 |")
        result = verify_statement(read(text))
        assert not result.verified and not result.repairs
