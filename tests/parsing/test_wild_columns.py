"""More layouts met in real filings, each example named after where it came from.

The texts are short excerpts written for the test (as the local extractor or OCR lays such pages
out), not copies of the filings."""

# ruff: noqa: E501  (statement rows are kept on one line, as printed)

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.parsing.test_layout import parse

D = Decimal

XPPOWER_P16_SQUEEZED_HEADERS = """\
Condensed Consolidated Statement of Changes in Equity
For the six months ended 30 June 2025

                                                  Attributable to equity holders of the Company

                                    Share        Merger Share-based      Translation      Other     Retained     Total          Non        Total
                                    capital     reserve     payment         reserve     reserve     earnings              controlling    Equity
£m                                                           reserve                                                        interests

Balance at 1 January 2024              71.2         0.2           2.1          (0.9)         7.6         74.4    154.6            0.7      155.3
Profit for the period                     -           -             -              -           -          2.1      2.1            0.1        2.2
Balance at 30 June 2024                71.2         0.2           2.1          (0.9)         7.6         76.5    156.7            0.8      157.5

Balance at 1 January 2025              71.2         0.2           3.1          (2.6)         8.6         64.8    145.3            0.6      145.9
Loss for the period                       -           -             -              -           -        (1.9)    (1.9)              -      (1.9)
Balance at 30 June 2025                71.2         0.2           3.1          (2.6)         8.6         62.9    143.4            0.6      144.0
"""

PGE_P48_QUARTERLY_BLOCKS = """\
CONDENSED CONSOLIDATED STATEMENTS OF SHAREHOLDERS' EQUITY
(in millions)
                                                                             Accumulated
                                                                                   Other              Total
                                       Common     Additional    Reinvested  Comprehensive    Shareholders'
                                        Stock  Paid-in Capital    Earnings  Income (Loss)           Equity
Balance at December 31, 2021       $    1,322   $     28,286   $  (4,247)   $         (9)   $      25,351
Net income                                  —              —          530               —             530
Balance at March 31, 2022               1,322         28,286      (3,717)             (9)          25,881
Net income                                  —              —          600               —             600
Balance at June 30, 2022           $    1,322   $     28,286   $  (3,117)   $         (9)   $      26,481
Balance at December 31, 2020       $    1,322   $     28,286   $  (4,385)   $         (5)   $      25,218
Net income                                  —              —          177               —             177
Balance at March 31, 2021               1,322         28,286      (4,208)             (5)          25,395
"""

IDEALMARKETING_P11_SCANNED_BS = """\
IDEAL MARKETING & MANUFACTURING CORPORATION
STATEMENTS OF FINANCIAL POSITION
(Figures in Philippine Peso)

                                                                         As of December 31
                                                                     2022                  2021

A      S      S       E    T      S
                                                     Notes
Current Assets
   Cash                                                3,6            10,041,673            11,237,376
   Receivables                                          3,7            6,965,863             9,085,459
     Total Current Assets                                             17,007,536            20,322,835

T   O   T   A   L                                                     17,007,536            20,322,835

LIABILITIES AND SHAREHOLDERS' EQUITY
Current Liabilities
   Trade and Other Payables                            3,11            7,007,536            10,322,835
     Total Current Liabilities                                         7,007,536            10,322,835
Non-Current Liabilities
     Total Non-Current Liabilities                                             —                     —
Shareholders' Equity
   Share Capital                                        13            10,000,000            10,000,000
     Total Shareholders' Equity                                       10,000,000            10,000,000

T   O   T   A   L                                                     17,007,536            20,322,835
"""

PERCENT_OF_REVENUE = """\
                              CONSOLIDATED STATEMENTS OF OPERATIONS
                                        (In thousands)
                                          Year Ended December 31,
                                   2022          %          2021          %
Revenue                         $ 1,000      100.0%       $ 800      100.0%
Cost of revenue                     600       60.0%         500       62.5%
Gross profit                        400       40.0%         300       37.5%
"""

TRAILING_MINUS_NIL = """\
                               STATEMENT OF PROFIT OR LOSS
                                  For the year ended 31 March
£m                               Note            2024            2023
Revenue                             3           1,250           1,100
Cost of sales                                     700-            640-
Gross profit                                      550             460
Exceptional items                   5             nil              20-
Operating profit                                  550             440
"""

COLUMNS = [
    (
        "xppower interim 2025h1 p16 'Merger Share-based' squeezed onto one line is two headers",
        XPPOWER_P16_SQUEEZED_HEADERS,
        "shareholders_equity",
        [
            "Attributable to equity holders of the Company Share capital",
            "Attributable to equity holders of the Company Merger reserve",
            "Attributable to equity holders of the Company Share-based payment reserve",
            "Attributable to equity holders of the Company Translation reserve",
            "Attributable to equity holders of the Company Other reserve",
            "Attributable to equity holders of the Company Retained earnings",
            "Total",
            "Non controlling interests",
            "Total Equity",
        ],
    ),
    (
        "10-K percent-of-revenue columns beside the amounts are not value columns",
        PERCENT_OF_REVENUE,
        "income_statement",
        ["Year Ended December 31, 2022", "Year Ended December 31, 2021"],
    ),
]


@pytest.mark.parametrize(("source", "text", "kind", "headers"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_column_headers(source, text, kind, headers):
    assert [c.header for c in parse(text, kind).columns] == headers


ROWS = [
    (
        "pge 10-Q 2022q3 p49 the opening balance of the earlier year's block is carried, not a total",
        PGE_P48_QUARTERLY_BLOCKS,
        "shareholders_equity",
        "Balance at December 31, 2020",
        "line",
        [D(1322), D(28286), D(-4385), D(-5), D(25218)],
    ),
    (
        "pge 10-Q 2022q3 p49 a quarter's closing balance is a total",
        PGE_P48_QUARTERLY_BLOCKS,
        "shareholders_equity",
        "Balance at March 31, 2021",
        "total",
        [D(1322), D(28286), D(-4208), D(-5), D(25395)],
    ),
    (
        "xppower interim 2025h1 p16 the next half-year's opening balance is carried, not a total",
        XPPOWER_P16_SQUEEZED_HEADERS,
        "shareholders_equity",
        "Balance at 1 January 2025",
        "line",
        [D("71.2"), D("0.2"), D("3.1"), D("-2.6"), D("8.6"), D("64.8"), D("145.3"), D("0.6"), D("145.9")],
    ),
    (
        "idealmarketing AFS 2022 p11 (OCR) letter-spaced caption",
        IDEALMARKETING_P11_SCANNED_BS,
        "balance_sheet",
        "ASSETS",
        "header",
        [None, None],
    ),
    (
        "idealmarketing AFS 2022 p11 (OCR) a balance sheet's second bare TOTAL is a total too",
        IDEALMARKETING_P11_SCANNED_BS,
        "balance_sheet",
        "TOTAL",
        "total",
        [D(17007536), D(20322835)],
    ),
    (
        "idealmarketing AFS 2022 p11 (OCR) nil total of an empty group",
        IDEALMARKETING_P11_SCANNED_BS,
        "balance_sheet",
        "Total Non-Current Liabilities",
        "total",
        [D(0), D(0)],
    ),
    (
        "UK plc trailing minus",
        TRAILING_MINUS_NIL,
        "income_statement",
        "Cost of sales",
        "line",
        [D(-700), D(-640)],
    ),
    (
        "UK plc 'nil' is zero",
        TRAILING_MINUS_NIL,
        "income_statement",
        "Exceptional items",
        "line",
        [D(0), D(-20)],
    ),
]


@pytest.mark.parametrize(
    ("source", "text", "kind", "label", "item_kind", "values"), ROWS, ids=[r[0] for r in ROWS]
)
def test_rows(source, text, kind, label, item_kind, values):
    found = [i for i in parse(text, kind).items if i.label == label]
    assert found, [i.label for i in parse(text, kind).items]
    assert [(i.kind, i.values) for i in found][-1] == (item_kind, values)


def test_idealmarketing_p11_notes_header_on_its_own_line_is_no_caption():
    statement = parse(IDEALMARKETING_P11_SCANNED_BS, "balance_sheet")
    assert "Notes" not in [i.label for i in statement.items]
    assert {i.label: i.notes for i in statement.items}["Receivables"] == ["3", "7"]


def test_percent_columns_leave_the_amounts_in_their_columns():
    statement = parse(PERCENT_OF_REVENUE)
    assert {i.label: i.values for i in statement.items}["Gross profit"] == [D(400), D(300)]
