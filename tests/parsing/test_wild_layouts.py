"""Layouts met in real filings the parser had not seen, each example named after where it came from.

The texts are short excerpts written for the test (as the local extractor lays such pages out),
not copies of the filings."""

# ruff: noqa: E501  (statement rows are kept on one line, as printed)

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.parsing.test_layout import parse
from tests.parsing.test_rows import SALESFORCE_TWO_EQUITY_TABLES

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
        [
            "Adjusted",
            None,
            "Six months ended 30 June 2025",
            "Adjusted",
            None,
            "Six months ended 30 June 2024",
        ],
    ),
    (
        "boeing 10-K 2022 p61 wide group header spans the shareholders' columns only",
        BOEING_P61_GROUP,
        "shareholders_equity",
        [(None, None)] * 7,
        ["Boeing shareholders Common Stock"]
        + [None] * 3
        + ["Boeing shareholders Accumulated Other Comprehensive Loss", "Non controlling Interests", "Total"],
    ),
    (
        "salesforce 10-Q fy2023q3 p6 (unaudited) remark and treasury group header",
        SALESFORCE_P6_UNAUDITED,
        "shareholders_equity",
        [(None, None)] * 6,
        [
            "Common Stock Shares",
            "Common Stock Amount",
            "Treasury Stock Shares",
            "Treasury Stock Amount",
            "Retained Earnings",
            "Total Equity",
        ],
    ),
    (
        "patriot 10-K fy2023 p27 'Amount Par Value' glued by the text layer",
        PATRIOT_P27_GLUED_HEADERS,
        "shareholders_equity",
        [(None, None)] * 6,
        [
            "Common Stock Shares",
            "Common Stock Amount",
            "Capital in Excess of Par Value",
            None,
            None,
            "Total Stockholders' Equity",
        ],
    ),
]


@pytest.mark.parametrize(
    ("source", "text", "kind", "periods", "headers"), COLUMNS, ids=[c[0] for c in COLUMNS]
)
def test_columns(source, text, kind, periods, headers):
    statement = parse(text, kind)
    assert [(c.period_end, c.period_months) for c in statement.columns] == periods
    for column, header in zip(statement.columns, headers, strict=True):
        if header is not None:
            assert column.header == header
    assert len({c.key for c in statement.columns}) == len(statement.columns)


SEVENAD_P33_VERTICAL_EQUITY = """\
                                                 SEVEN A.D. INC.
                              STATEMENTS OF CHANGES IN EQUITY

                                                                                 Years Ended December     31
                                                                Note                 2023               2022

CAPITAL STOCK - P=100 par value
Authorized, issued and outstanding - 100,000 shares               9          P=10,000,000       P=10,000,000

RETAINED EARNINGS                                                 9

Appropriated for Business Project                                              10,000,000         10,000,000

Unappropriated
Balance at beginning of year                                                   34,421,430         38,159,430
Declaration of cash dividends - P=330.81 a share in
    2023 and P=369.74 a share in 2022                                         (31,757,510)      (35,495,510)
Net income                                                                      8,160,879         31,757,510
Balance at end of year                                                         10,824,799         34,421,430
                                                                               20,824,799         44,421,430

OTHER COMPREHENSIVE INCOME
Cumulative Remeasurement Gain on Net Retirement                   10
   Liability
Balance at beginning of year                                                    6,226,929          6,778,210
"""

PGE_P43_DOLLAR_AFTER_LABEL = """\
CONDENSED CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME

                                                                                 Three Months Ended September 30,        Nine Months Ended September 30,
(in millions)                                                                         2022                2021                2022                2021
Net Income (Loss)                                                              $             459   $          (1,088)  $           1,297  $            (564)
Other Comprehensive Income
   Pension and other post-retirement benefit plans obligations (net of taxes
   of $0, $0, $0, and $0, respectively)                                                        —                   1                   —                   2
   Net unrealized losses on available-for-sale securities (net of taxes of $5,
   $0, $7, and $0, respectively)                                                             (12)                  —                 (17)                  —
 Total other comprehensive income (loss)                                                     (12)                  1                 (17)                  2
Comprehensive Income (Loss)                                                                  447              (1,087)              1,280               (562)
 Preferred stock dividend requirement of subsidiary                                            3                   3                  10                  10
Comprehensive Income (Loss) Attributable to Common Shareholders $                            444   $          (1,090)  $           1,270  $            (572)
"""

SALESFORCE_P5_OCI_SUBTOTALS = """\
                                            Condensed Consolidated Statements of Comprehensive Income (Loss)
                                                                          (in millions)
3                                                                                   Three Months Ended October 31,             Nine Months Ended October 31,
                                                                                       2022                2021                 2022                2021
Net income                                                                     $              210   $              468   $             306   $              1,472
Other comprehensive loss, net of reclassification adjustments:
    Foreign currency translation and other losses                                             (66)                 (17)               (175)                   (42)
    Unrealized losses on marketable securities                                                (77)                 (26)               (179)                   (47)
Other comprehensive loss, before tax                                                         (143)                 (43)               (354)                   (89)
Tax effect                                                                                     17                    5                  39                      9
Other comprehensive loss, net                                                                (126)                 (38)               (315)                   (80)
Comprehensive income (loss)                                                    $               84   $              430   $              (9)  $              1,392
"""

COSTCO_P36_ATTRIBUTABLE = """\
                                CONSOLIDATED STATEMENTS OF INCOME
                           (amounts in millions, except per share data)
                                   52 Weeks Ended     52 Weeks Ended     52 Weeks Ended
                                     August 28,         August 29,         August 30,
                                        2022               2021               2020
INCOME BEFORE INCOME TAXES                7,840              6,680              5,367
Provision for income taxes                1,925              1,601              1,308
Net income including noncontrolling
interests                                 5,915              5,079              4,059
Net income attributable to
noncontrolling interests                    (71)               (72)               (57)
NET INCOME ATTRIBUTABLE TO COSTCO   $     5,844        $     5,007        $     4,002
"""

IDEALMARKETING_P14_SCANNED_IS = """\
                    IDEAL MARKETING & MANUFACTURING CORPORATION
                                STATEMENTS OF INCOME
                                                     For the Year ended December 31
                                          Notes            2022             2021
REVENUE                                            485,192,483      487,225,599
DIRECT COSTS                                       439,318,810      440,879,641
GROSS PROFIT                                        45,873,673       46,345,958
GENERAL AND ADMINISTRATIVE EXPENSE                  37,387,453       37,517,159
NET INCOME BEFORE INCOME TAX                         8,486,219        8,828,798
Provision for Income Tax                             2,121,555        2,207,200
NET INCOME                                           6,364,665        6,621,599
"""

IDEALMARKETING_P12_SCANNED_EQUITY = """\
                              STATEMENTS OF CHANGES IN EQUITY
                                                     For the Year ended December 31
                                                           2022             2021
Retained Earnings
  Appropriated :
  Beginning Balance                                   20,300,000       10,300,000
  Add: Appropriation for Capital Expansion            25,000,000       10,000,000
  Totai Appropriated Retained Earnings                45,300,000       20,300,000
SHAREHOLDERS' EQUITY, ENDING                         118,592,407      112,227,742
"""

XPPOWER_P15_NET_ASSETS = """\
Condensed Consolidated Balance Sheet
£m                                          Note       30 June 2025     31 December 2024
Total current assets                                          164.0                160.7
Total non-current assets                                      242.9                255.5
Total assets                                                  406.9                416.2
Total liabilities                                             227.7                270.3
NET ASSETS                                                    179.2                145.9
"""

IDEALMARKETING_P13_SCANNED_CF = """\
                                STATEMENTS OF CASH FLOWS
                                                     For the Year ended December 31
                                                           2022             2021
NET INCREASE (DECREASE) IN CASH                       (1,195,704)       1,837,324
CASH BALANCE AT BEGINNING OF YEAR                      11,237,376       9,400,052
CASH BALANCE AT END OF YEAR                            10,041,673      11,237,376
"""

FANMILK_P20_SCANNED_CF = """\
                              STATEMENT OF CASH FLOWS
                                                      2024            2023
                                                  GH¢'000         GH¢'000
Net cash outflow from Financing Activities         (65,173)        (17,871)
Increase in Cash and Cash Equivalents                43,183           4,602
Analysis of changes in Cash and Cash Equivalents during the year
Balance at 1 January                                 65,922          61,320
Increase in cash and cash equivalents                43,183           4,602
Balance at 31 December                              109,105          65,922
"""

ROWS = [
    (
        "fanmilk annual 2024 p20 (OCR) opening balance under a header is carried, not a total",
        FANMILK_P20_SCANNED_CF,
        "cash_flow",
        "Balance at 1 January",
        "line",
        [D(65922), D(61320)],
    ),
    (
        "fanmilk annual 2024 p20 (OCR) increase in cash restated in the analysis is carried",
        FANMILK_P20_SCANNED_CF,
        "cash_flow",
        "Increase in cash and cash equivalents",
        "line",
        [D(43183), D(4602)],
    ),
    (
        "fanmilk annual 2024 p20 (OCR) closing balance is a total",
        FANMILK_P20_SCANNED_CF,
        "cash_flow",
        "Balance at 31 December",
        "total",
        [D(109105), D(65922)],
    ),
    (
        "idealmarketing AFS 2022 p13 (OCR) cash balance at end of year is a total",
        IDEALMARKETING_P13_SCANNED_CF,
        "cash_flow",
        "CASH BALANCE AT END OF YEAR",
        "total",
        [D(10041673), D(11237376)],
    ),
    (
        "xppower interim 2025h1 p15 UK-style net assets is a total",
        XPPOWER_P15_NET_ASSETS,
        "balance_sheet",
        "NET ASSETS",
        "total",
        [D("179.2"), D("145.9")],
    ),
    (
        "idealmarketing AFS 2022 p14 (OCR) net income before income tax is a subtotal",
        IDEALMARKETING_P14_SCANNED_IS,
        "income_statement",
        "NET INCOME BEFORE INCOME TAX",
        "total",
        [D(8486219), D(8828798)],
    ),
    (
        "idealmarketing AFS 2022 p12 (OCR) 'Totai' misread of Total",
        IDEALMARKETING_P12_SCANNED_EQUITY,
        "shareholders_equity",
        "Totai Appropriated Retained Earnings",
        "total",
        [D(45300000), D(20300000)],
    ),
    (
        "idealmarketing AFS 2022 p12 (OCR) vertical equity closing balance 'equity, ending'",
        IDEALMARKETING_P12_SCANNED_EQUITY,
        "shareholders_equity",
        "SHAREHOLDERS' EQUITY, ENDING",
        "total",
        [D(118592407), D(112227742)],
    ),
    (
        "pge 10-Q 2022q3 p43 '$' one space after the label still opens the value cell",
        PGE_P43_DOLLAR_AFTER_LABEL,
        "comprehensive_income",
        "Comprehensive Income (Loss) Attributable to Common Shareholders",
        "total",
        [D(444), D(-1090), D(1270), D(-572)],
    ),
    (
        "salesforce 10-Q fy2023q3 p5 other comprehensive loss before tax is a subtotal",
        SALESFORCE_P5_OCI_SUBTOTALS,
        "comprehensive_income",
        "Other comprehensive loss, before tax",
        "total",
        [D(-143), D(-43), D(-354), D(-89)],
    ),
    (
        "salesforce 10-Q fy2023q3 p5 other comprehensive loss, net is a subtotal",
        SALESFORCE_P5_OCI_SUBTOTALS,
        "comprehensive_income",
        "Other comprehensive loss, net",
        "total",
        [D(-126), D(-38), D(-315), D(-80)],
    ),
    (
        "salesforce 10-Q fy2023q3 p5 comprehensive income (loss) is a total",
        SALESFORCE_P5_OCI_SUBTOTALS,
        "comprehensive_income",
        "Comprehensive income (loss)",
        "total",
        [D(84), D(430), D(-9), D(1392)],
    ),
    (
        "costco 10-K fy2022 p36 net income including noncontrolling interests is a total",
        COSTCO_P36_ATTRIBUTABLE,
        "income_statement",
        "Net income including noncontrolling interests",
        "total",
        [D(5915), D(5079), D(4059)],
    ),
    (
        "costco 10-K fy2022 p36 net income attributable to noncontrolling interests is a line",
        COSTCO_P36_ATTRIBUTABLE,
        "income_statement",
        "Net income attributable to noncontrolling interests",
        "line",
        [D(-71), D(-72), D(-57)],
    ),
    (
        "costco 10-K fy2022 p36 net income attributable to the company is a total",
        COSTCO_P36_ATTRIBUTABLE,
        "income_statement",
        "NET INCOME ATTRIBUTABLE TO COSTCO",
        "total",
        [D(5844), D(5007), D(4002)],
    ),
    (
        "amex 10-K 2022 p99 a sub-table's year header row is not values",
        AMEX_P99_RECONCILIATION,
        "cash_flow",
        "Cash and cash equivalents reconciliation 2022 2021 2020",
        "header",
        [None, None, None],
    ),
    (
        "amex 10-K 2022 p99 net increase in customer deposits is a line, not a total",
        AMEX_P99_RECONCILIATION,
        "cash_flow",
        "Net increase (decrease) in customer deposits",
        "line",
        [D(25902), D(-2468), D(13542)],
    ),
    (
        "amex 10-K 2022 p99 net increase in cash is a total",
        AMEX_P99_RECONCILIATION,
        "cash_flow",
        "Net increase (decrease) in cash and cash equivalents",
        "total",
        [D(11886), D(-10937), D(8519)],
    ),
    (
        "amex 10-K 2022 p96 net interest income is a subtotal",
        AMEX_P96_BANK_REVENUES,
        "income_statement",
        "Net interest income",
        "total",
        [D(9895), D(7750), D(7985)],
    ),
    (
        "amex 10-K 2022 p96 pretax income is a subtotal",
        AMEX_P96_BANK_REVENUES,
        "income_statement",
        "Pretax income",
        "total",
        [D(9585), D(10689), D(4296)],
    ),
    (
        "xppower interim 2025h1 p14 (loss)/profit before tax is a subtotal",
        XPPOWER_P14_TRIPLETS,
        "income_statement",
        "(Loss)/profit before tax",
        "total",
        [D("0.8"), D("-2.2"), D("-1.4"), D("7.6"), D("-4.4"), D("3.2")],
    ),
    (
        "xppower interim 2025h1 p14 (loss)/profit for the period is a total",
        XPPOWER_P14_TRIPLETS,
        "income_statement",
        "(Loss)/profit for the period",
        "total",
        [D("0.2"), D("-2.0"), D("-1.8"), D("5.9"), D("-3.7"), D("2.2")],
    ),
    (
        "xppower interim 2025h1 p16 label wrapped before a parenthesised word is joined",
        XPPOWER_P16_WRAPPED,
        "shareholders_equity",
        "Total comprehensive (loss)/profit for the period",
        "total",
        [D(0), D("-1.9"), D("-1.9")],
    ),
    (
        "xppower interim 2025h1 p14 IFRS OCI group closed by other comprehensive loss, net of tax",
        XPPOWER_P14_OCI,
        "comprehensive_income",
        "Other comprehensive loss, net of tax",
        "total",
        [D("-4.9"), D("-1.0")],
    ),
    (
        "sevenad AFS 2024 p33 vertical equity: net income is a movement, not a total",
        SEVENAD_P33_VERTICAL_EQUITY,
        "shareholders_equity",
        "Net income",
        "line",
        [D(8160879), D(31757510)],
    ),
    (
        "sevenad AFS 2024 p33 caption with a note reference wrapped onto an indented line",
        SEVENAD_P33_VERTICAL_EQUITY,
        "shareholders_equity",
        "Cumulative Remeasurement Gain on Net Retirement Liability",
        "header",
        [None, None],
    ),
    (
        "sevenad AFS 2024 p33 peso-signed label-less total",
        SEVENAD_P33_VERTICAL_EQUITY,
        "shareholders_equity",
        "",
        "total",
        [D(20824799), D(44421430)],
    ),
]


@pytest.mark.parametrize(
    ("source", "text", "kind", "label", "item_kind", "values"), ROWS, ids=[r[0] for r in ROWS]
)
def test_rows(source, text, kind, label, item_kind, values):
    statement = parse(text, kind)
    found = [i for i in statement.items if i.label == label]
    assert found, [i.label for i in statement.items]
    assert (found[0].kind, found[0].values) == (item_kind, values)


SALESFORCE_P6_STACKED = """\
                                                                   Three and Nine months ended October 31, 2022
                                   Common Stock        Treasury Stock      Additional Paid-in   Retained    Stockholders’ Total
                                 Shares    Amount     Shares    Amount         Capital          Earnings         Equity
Balance at July 31, 2022            999         1          0         0          52,979           7,473          60,098
     Common stock repurchased         0         0        (11)   (1,743)              0               0          (1,743)
Balance at October 31, 2022       1,002   $     1        (11)  $ (1,743) $      53,891   $       7,683   $      59,351

                                                                   Three and Nine months ended October 31, 2021
                                       Common Stock               Additional                                   Total
                                                                    Paid-in             Retained            Stockholders’
                                   Shares          Amount           Capital             Earnings               Equity
Balance at July 31, 2021              978               1            48,666                6,937               55,520
     Common stock issued                6               0               292                    0                  292
Balance at October 31, 2021           984   $           1   $        49,770   $            7,405   $           57,054
"""

STACKED = [
    (
        "salesforce 10-Q fy2023q3 p6 stacked equity tables, excerpt",
        SALESFORCE_TWO_EQUITY_TABLES,
        "Balances, July 31, 2021",
        [D(980), D(1), None, None, D(900), D(901)],
    ),
    (
        "salesforce 10-Q fy2023q3 p6 stacked equity tables, second table shifted and reworded",
        SALESFORCE_P6_STACKED,
        "Balance at October 31, 2021",
        [D(984), D(1), None, None, D(49770), D(7405), D(57054)],
    ),
    (
        "salesforce 10-Q fy2023q3 p6 stacked equity tables, first table keeps its treasury columns",
        SALESFORCE_P6_STACKED,
        "Balance at October 31, 2022",
        [D(1002), D(1), D(-11), D(-1743), D(53891), D(7683), D(59351)],
    ),
]


@pytest.mark.parametrize(("source", "text", "label", "values"), STACKED, ids=[s[0] for s in STACKED])
def test_stacked_tables_with_different_columns(source, text, label, values):
    statement = parse(text, "shareholders_equity")
    items = {i.label: i.values for i in statement.items}
    assert items[label] == values
    assert len(statement.columns) == len(values)
    assert statement.columns[2].key == "treasury-stock-shares"
