"""Layouts met in real filings the parser had not seen, each example named after where it came from.

The texts are short excerpts written for the test (as the local extractor lays such pages out),
not copies of the filings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.parsing.test_layout import parse

D = Decimal

XPPOWER_P14_TRIPLETS = """\
Condensed Consolidated Income Statement
£m                                Note   Adjusted     Adjustments        Six months     Adjusted     Adjustments         Six months
                                                       (see Note  5)  ended 30 June                  (see Note   5)   ended 30 June
                                                                                2025                                             2024

Revenue                              4       110.9                 -           110.9       127.1                  -             127.1
Cost of sales                               (65.0)               0.2          (64.8)      (75.5)                  -            (75.5)
Gross profit                                  45.9               0.2            46.1        51.6                  -              51.6
(Loss)/profit before tax                       0.8             (2.2)           (1.4)         7.6              (4.4)               3.2
Tax expense                          6       (0.6)               0.2           (0.4)       (1.7)                0.7             (1.0)
(Loss)/profit for the period                   0.2             (2.0)           (1.8)         5.9              (3.7)               2.2
"""

BOEING_P61_GROUP = """\
                              Consolidated Statements of Equity
                                                            Boeing shareholders
                                                                                              Accumulated
                                                 Additional                                          Other          Non
                                    Common         Paid-In      Treasury     Retained       Comprehensive      controlling
(Dollars in millions)                  Stock       Capital         Stock     Earnings                 Loss      Interests         Total
Balance at January 1, 2020           $5,061        $6,745      ($54,914)     $50,482             ($16,153)         $317        ($8,462)
Net loss                                                                      (11,873)                                (68)     (11,941)
Other comprehensive loss                                                                              (980)                        (980)
Balance at December 31, 2020         $5,061        $7,787      ($52,641)     $38,610             ($17,133)         $241       ($18,075)
Treasury shares issued, net                           (214)          47                                                           (167)
"""

AMEX_P99_RECONCILIATION = """\
                              CONSOLIDATED STATEMENTS OF CASH FLOWS
Year Ended December 31 (Millions)                                   2022          2021          2020
Cash Flows from Financing Activities
Net increase (decrease) in customer deposits                      25,902        (2,468)       13,542
Net (decrease) increase in short-term borrowings                    (706)          461        (4,627)
Net cash provided by (used in) financing activities               25,196        (2,007)        8,915
Net increase (decrease) in cash and cash equivalents              11,886       (10,937)        8,519
Supplemental cash flow information
Cash and cash equivalents reconciliation                            2022          2021          2020
Cash and cash equivalents per Consolidated Balance Sheets    $    33,914   $    22,028   $    32,965
Restricted balances included in Cash and cash equivalents            544           525           606
"""

AMEX_P96_BANK_REVENUES = """\
                              CONSOLIDATED STATEMENTS OF INCOME
Year Ended December 31 (Millions, except per share amounts)         2022          2021          2020
Revenues
Non-interest revenues
   Discount revenue                                        $      30,739   $    24,563   $    19,435
      Total non-interest revenues                                 42,967        34,630        28,102
Interest income
   Interest on loans                                              11,967         8,850         9,779
      Total interest income                                       12,658         9,033        10,083
Interest expense
   Deposits                                                        1,527           458           943
      Total interest expense                                       2,763         1,283         2,098
      Net interest income                                          9,895         7,750         7,985
Total revenues net of interest expense                            52,862        42,380        36,087
Pretax income                                                      9,585        10,689         4,296
"""

XPPOWER_P16_WRAPPED = """\
Condensed Consolidated Statement of Changes in Equity
                                    Share     Retained      Total
£m                                  capital   earnings     Equity
Balance at 1 January 2025              71.2       64.8      136.0
(Loss)/profit for the period              -      (1.9)      (1.9)

Total comprehensive
(loss)/profit for the period              -      (1.9)      (1.9)

Balance at 30 June 2025                71.2       62.9      134.1
"""

XPPOWER_P14_OCI = """\
Condensed Consolidated Statement of Comprehensive Income
£m                                                         Six months ended     Six months ended
                                                             30 June 2025         30 June 2024
(Loss)/profit for the period                                        (1.8)                  2.2

Items that may be reclassified subsequently to profit or loss:

Exchange differences on translation of foreign operations           (4.9)                (1.0)
Other comprehensive loss, net of tax                                (4.9)                (1.0)

Total comprehensive (loss)/income for the period                    (6.7)                  1.2
"""

SALESFORCE_P6_UNAUDITED = """\
                                   Condensed Consolidated Statements of Stockholders’ Equity
                                                       (in millions)
                                                       (unaudited)
                                                   Three and Nine months ended October 31, 2022

                                 Common Stock               Treasury Stock          Retained        Total
                               Shares       Amount        Shares      Amount        Earnings       Equity
Balance at July 31, 2022           999            1             0           0          7,473       60,098
     Common stock repurchased        0            0           (11)     (1,743)             0       (1,743)
Balance at October 31, 2022      1,002   $        1           (11)  $  (1,743)  $      7,683   $   59,351
"""

PATRIOT_P27_GLUED_HEADERS = """\
CONSOLIDATED STATEMENTS OF SHAREHOLDERS’ EQUITY - Years ended September                                      30
                                                                                    Retained         Accumulated
                                                                       Capital in   Earnings/           Other            Total
                                                    Common Stock       Excess of (Accumulated)      Comprehensive    Stockholders'
                                                   Shares    Amount Par Value        Deficit          Income, net       Equity
Balance as of October 1, 2020                     3,377,279 $     338 $  38,670 $          5,935  $          105     $    45,048

Exercise of stock options                            13,497         1         123             —              —               124
Shares granted to Directors                          24,867         3         216             —              —               219
Cash dividends ($3.00 per share)                         —         —         —          (10,132)             —           (10,132)
"""

COLUMNS = [
    (
        "xppower interim 2025h1 p14 adjusted/adjustments/statutory triplets carry their half-year",
        XPPOWER_P14_TRIPLETS,
        "income_statement",
        [("2025-06-30", 6)] * 3 + [("2024-06-30", 6)] * 3,
        ["Adjusted", None, "Six months ended 30 June 2025", "Adjusted", None, "Six months ended 30 June 2024"],
    ),
    (
        "boeing 10-K 2022 p61 wide group header spans the shareholders' columns only",
        BOEING_P61_GROUP,
        "shareholders_equity",
        [(None, None)] * 7,
        ["Boeing shareholders Common Stock"] + [None] * 3
        + ["Boeing shareholders Accumulated Other Comprehensive Loss", "Non controlling Interests", "Total"],
    ),
    (
        "salesforce 10-Q fy2023q3 p6 (unaudited) remark and treasury group header",
        SALESFORCE_P6_UNAUDITED,
        "shareholders_equity",
        [(None, None)] * 6,
        ["Common Stock Shares", "Common Stock Amount", "Treasury Stock Shares", "Treasury Stock Amount",
         "Retained Earnings", "Total Equity"],
    ),
    (
        "patriot 10-K fy2023 p27 'Amount Par Value' glued by the text layer",
        PATRIOT_P27_GLUED_HEADERS,
        "shareholders_equity",
        [(None, None)] * 6,
        ["Common Stock Shares", "Common Stock Amount", "Capital in Excess of Par Value", None, None,
         "Total Stockholders' Equity"],
    ),
]


@pytest.mark.parametrize(("source", "text", "kind", "periods", "headers"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_columns(source, text, kind, periods, headers):
    statement = parse(text, kind)
    assert [(c.period_end, c.period_months) for c in statement.columns] == periods
    for column, header in zip(statement.columns, headers, strict=True):
        if header is not None:
            assert column.header == header
    assert len({c.key for c in statement.columns}) == len(statement.columns)


ROWS = [
    (
        "amex 10-K 2022 p99 a sub-table's year header row is not values",
        AMEX_P99_RECONCILIATION, "cash_flow",
        "Cash and cash equivalents reconciliation 2022 2021 2020", "header", [None, None, None],
    ),
    (
        "amex 10-K 2022 p99 net increase in customer deposits is a line, not a total",
        AMEX_P99_RECONCILIATION, "cash_flow",
        "Net increase (decrease) in customer deposits", "line", [D(25902), D(-2468), D(13542)],
    ),
    (
        "amex 10-K 2022 p99 net increase in cash is a total",
        AMEX_P99_RECONCILIATION, "cash_flow",
        "Net increase (decrease) in cash and cash equivalents", "total", [D(11886), D(-10937), D(8519)],
    ),
    (
        "amex 10-K 2022 p96 net interest income is a subtotal",
        AMEX_P96_BANK_REVENUES, "income_statement",
        "Net interest income", "total", [D(9895), D(7750), D(7985)],
    ),
    (
        "amex 10-K 2022 p96 pretax income is a subtotal",
        AMEX_P96_BANK_REVENUES, "income_statement",
        "Pretax income", "total", [D(9585), D(10689), D(4296)],
    ),
    (
        "xppower interim 2025h1 p14 (loss)/profit before tax is a subtotal",
        XPPOWER_P14_TRIPLETS, "income_statement",
        "(Loss)/profit before tax", "total", [D("0.8"), D("-2.2"), D("-1.4"), D("7.6"), D("-4.4"), D("3.2")],
    ),
    (
        "xppower interim 2025h1 p14 (loss)/profit for the period is a total",
        XPPOWER_P14_TRIPLETS, "income_statement",
        "(Loss)/profit for the period", "total", [D("0.2"), D("-2.0"), D("-1.8"), D("5.9"), D("-3.7"), D("2.2")],
    ),
    (
        "xppower interim 2025h1 p16 label wrapped before a parenthesised word is joined",
        XPPOWER_P16_WRAPPED, "shareholders_equity",
        "Total comprehensive (loss)/profit for the period", "total", [D(0), D("-1.9"), D("-1.9")],
    ),
    (
        "xppower interim 2025h1 p14 IFRS OCI group closed by other comprehensive loss, net of tax",
        XPPOWER_P14_OCI, "comprehensive_income",
        "Other comprehensive loss, net of tax", "total", [D("-4.9"), D("-1.0")],
    ),
]


@pytest.mark.parametrize(("source", "text", "kind", "label", "item_kind", "values"), ROWS, ids=[r[0] for r in ROWS])
def test_rows(source, text, kind, label, item_kind, values):
    statement = parse(text, kind)
    found = [i for i in statement.items if i.label == label]
    assert found, [i.label for i in statement.items]
    assert (found[0].kind, found[0].values) == (item_kind, values)
