"""Rows → items: kinds, levels, sections, value kinds, wrapped labels, equity layouts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement

D = Decimal


def parse(text: str, kind: str = "income_statement"):
    page = PageText(page=1, text=text, engine="local", mode="layout", ocr=True)
    return parse_statement([page], Detection(type=kind, pages=(1,), confidence=1.0, title=""))


NVIDIA_SCANNED_P39 = """\
                                          NVIDIA CORPORATION AND SUBSIDIARIES
                                          CONSOLIDATED STATEMENTS OF INCOME
                                               (In millions, except per share data)
                                                                      Year Ended
                                                          January 26,       January 27,
                                                              2020             2019
Revenue                                                 $        10,918   $        11,716
     Cost of revenue                                              4,150             4,545
Gross profit                                                      6,768             7,171
Operating expenses
     Research and development                                     2,829             2,376
        Total operating expenses                                  3,922             3,367
Income from operations                                            2,846             3,804
Net income per share:
      Basic                                             $          4.59   $          6.81
Weighted average shares used in per share computation:
      Basic                                                         609              608
"""

KINDS = [
    ("nvidia scanned p39 revenue", "Revenue", "line", 0, "monetary", None),
    ("nvidia scanned p39 cost of revenue", "Cost of revenue", "line", 1, "monetary", None),
    ("nvidia scanned p39 gross profit", "Gross profit", "total", 0, "monetary", None),
    ("nvidia scanned p39 operating expenses", "Operating expenses", "header", 0, "monetary", None),
    ("nvidia scanned p39 r&d", "Research and development", "line", 1, "monetary", "Operating expenses"),
    (
        "nvidia scanned p39 total opex",
        "Total operating expenses",
        "total",
        1,
        "monetary",
        "Operating expenses",
    ),
    ("nvidia scanned p39 income from operations", "Income from operations", "total", 0, "monetary", None),
]


@pytest.mark.parametrize(
    ("source", "label", "kind", "level", "value_kind", "section"), KINDS, ids=[k[0] for k in KINDS]
)
def test_kinds_levels_sections(source, label, kind, level, value_kind, section):
    items = {i.label: i for i in parse(NVIDIA_SCANNED_P39).items}
    item = items[label]
    assert (item.kind, item.level, item.value_kind, item.section) == (kind, level, value_kind, section)


def test_eps_and_share_counts_under_their_headers():
    items = parse(NVIDIA_SCANNED_P39).items
    basics = [i for i in items if i.label == "Basic"]
    assert [(b.value_kind, b.section, b.values) for b in basics] == [
        ("per_share", "Net income per share", [D("4.59"), D("6.81")]),
        ("shares", "Weighted average shares used in per share computation", [D(609), D(608)]),
    ]


def test_ocr_flag_and_engine_recorded():
    statement = parse(NVIDIA_SCANNED_P39)
    assert statement.text_source.ocr is True
    assert statement.text_source.engine == "local"
    assert statement.verified is False and statement.checks == []


SCANNED_EQUITY = """\
                     CONSOLIDATED STATEMENTS OF SHAREHOLDERS' EQUITY
                                    Common Stock
                                    Outstanding        Retained    Total
                                 Shares    Amount      Earnings    Equity
  (In millions)
  Balances, January 29, 2017        585 $        1   $   6,108 $    6,109
                                                           -          -
                                     13         -
  Issuance of common stock in exchange for warrants
                                               -          (27)      (27)
  Tax withholding related to vesting of restricted units (4)
                                                      -       (7)        (7)
  Convertible debt conversion        33
                                    598          1       6,074      6,075
  Balances, January 28, 2018
"""

VERTICAL_EQUITY = """\
                          IDEAL MARKETING & MANUFACTURING CORPORATION
                                STATEMENTS OF CHANGES IN EQUITY
                              For the years ended December 31, 2022 and 2021
                                                     2022             2021
SHARE CAPITAL                                  5,000,000        5,000,000
RETAINED EARNINGS
Balance at beginning of year                   1,234,567          934,567
Net income for the year                          400,000          300,000
Balance at end of year                         1,634,567        1,234,567
TOTAL EQUITY                                   6,634,567        6,234,567
"""

AMEX_TOTAL_FIRST = """\
                         CONSOLIDATED STATEMENTS OF SHAREHOLDERS’ EQUITY
                                                                             Additional Paid
(Millions, except per share amounts)                Total    Common Shares   in Capital   Retained Earnings
Balances as of December 31, 2021             $     22,177    $       153   $   11,495   $     13,474
   Net income                                       7,514              —            —          7,514
   Repurchase of common shares                     (3,332)            (4)         (302)       (3,026)
   Cash dividends declared common, $2.08 per share  (1,568)            —            —         (1,568)
Balances as of December 31, 2022                   24,711            149       11,193        15,369
"""


def test_scanned_equity_values_printed_above_their_labels():
    statement = parse(SCANNED_EQUITY, "shareholders_equity")
    items = {i.label: i.values for i in statement.items}
    assert items["Issuance of common stock in exchange for warrants"] == [D(13), D(0), D(0), D(0)]
    assert items["Tax withholding related to vesting of restricted units"] == [D(-4), D(0), D(-27), D(-27)]
    assert items["Convertible debt conversion"] == [D(33), D(0), D(-7), D(-7)]
    assert items["Balances, January 28, 2018"] == [D(598), D(1), D(6074), D(6075)]
    assert [c.header for c in statement.columns] == [
        "Common Stock Outstanding Shares",
        "Common Stock Outstanding Amount",
        "Retained Earnings",
        "Total Equity",
    ]


def test_vertical_equity_is_a_roll_forward_by_year():
    statement = parse(VERTICAL_EQUITY, "shareholders_equity")
    assert [(c.period_end, c.period_months) for c in statement.columns] == [
        ("2022-12-31", 12),
        ("2021-12-31", 12),
    ]
    items = {i.label: i for i in statement.items}
    assert items["RETAINED EARNINGS"].kind == "header"
    assert items["Balance at end of year"].kind == "total"
    assert items["Net income for the year"].values == [D(400000), D(300000)]


def test_amex_total_column_first_and_amounts_in_captions():
    statement = parse(AMEX_TOTAL_FIRST, "shareholders_equity")
    assert [c.key for c in statement.columns] == [
        "total",
        "common-shares",
        "additional-paid-in-capital",
        "retained-earnings",
    ]
    items = {i.label: i for i in statement.items}
    dividends = items["Cash dividends declared common, $2.08 per share"]
    assert dividends.values == [D(-1568), D(0), D(0), D(-1568)]
    assert dividends.value_kind == "monetary"
    assert items["Balances as of December 31, 2022"].kind == "total"
    assert items["Balances as of December 31, 2021"].kind == "line"


def test_caption_numbers_stay_in_the_label():
    text = """\
CONSOLIDATED BALANCE SHEETS
                                                                          2020        2019
Common stock, $.001 par value; 2,000 shares authorized; 955 shares issued
  and 612 outstanding as of January 26, 2020                                 1           1
Treasury stock, at cost (342 shares in 2020 and 339 shares in 2019)    (9,814)     (9,263)
"""
    items = parse(text, "balance_sheet").items
    assert [i.label for i in items] == [
        "Common stock, $.001 par value; 2,000 shares authorized; 955 shares issued and 612 outstanding as of"
        " January 26, 2020",
        "Treasury stock, at cost (342 shares in 2020 and 339 shares in 2019)",
    ]
    assert [i.values for i in items] == [[D(1), D(1)], [D(-9814), D(-9263)]]


XPPOWER_CI_SPLIT_DAY = """\
Condensed Consolidated Statement of Comprehensive Income
For the six months ended 30 June 2025

£m                                   Six months ended       30  Six months ended       30
                                            June     2025              June     2024

(Loss)/profit for the period                              (1.8)                        2.2
Total comprehensive (loss)/income for the period          (6.7)                        1.2
"""


def test_xppower_header_with_the_day_split_from_the_month():
    statement = parse(XPPOWER_CI_SPLIT_DAY, "comprehensive_income")
    assert [c.period_end for c in statement.columns] == ["2025-06-30", "2024-06-30"]


SALESFORCE_TWO_EQUITY_TABLES = """\
Condensed Consolidated Statements of Stockholders’ Equity
                                 Common Stock         Treasury Stock       Retained
                                 Shares   Amount      Shares   Amount      Earnings    Total
Balances, July 31, 2022           1,000       1          (5)     (100)      1,000      901
Balances, October 31, 2022        1,000       1          (5)     (100)      1,200    1,101
                                 Common Stock         Retained
                                 Shares   Amount      Earnings    Total
Balances, July 31, 2021             980       1        900          901
"""


@pytest.mark.parametrize(
    ("source", "pages"),
    [
        ("detection page missing from the text", []),
        ("empty page", [PageText(page=1, text="")]),
        ("prose without numbers", [PageText(page=1, text="BALANCE SHEETS\nJust words here\n")]),
        ("pipes without values", [PageText(page=1, text="|a|b|\n|c|d|\n|e|f|\n")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_nothing_to_read_gives_an_empty_unverified_statement(source, pages):
    statement = parse_statement(pages, Detection(type="balance_sheet", pages=(1,), confidence=0.5, title="X"))
    assert (statement.items, statement.columns, statement.verified) == ([], [], False)
    assert statement.pages == [1]
