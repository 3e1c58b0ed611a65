"""Layout text (aligned columns) → statements, each example named after the filing it imitates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement

D = Decimal


def parse(text: str, kind: str = "income_statement", pages: tuple[str, ...] = ()):
    texts = (text, *pages)
    page_texts = [PageText(page=5 + k, text=t, engine="local", mode="layout") for k, t in enumerate(texts)]
    detection = Detection(type=kind, pages=tuple(p.page for p in page_texts), confidence=1.0, title="")
    return parse_statement(page_texts, detection)


def rows(statement) -> dict[str, list]:
    return {item.label: item.values for item in statement.items}


SALESFORCE_10Q = """\
                                          Salesforce, Inc.
                           Condensed Consolidated Statements of Operations
                                (in millions, except per share data)
3                                     Three Months Ended October 31,      Nine Months Ended October 31,
                                          2022             2021              2022             2021
Revenues:
    Subscription and support       $     7,233    $      6,379      $     21,232    $     17,829
    Professional services and other        604             484             1,736           1,337
        Total revenues                   7,837           6,863            22,968          19,166
Basic net income per share         $      0.21    $       0.48      $       0.31    $       1.56
Shares used in computing basic net income per share
                                           997             980               995             945

(1) Amounts include amortization of intangible assets acquired through business combinations:
                                      Three Months Ended October 31,      Nine Months Ended October 31,
    Cost of revenues               $       250    $        272      $        785    $        624
"""

COSTCO_52_WEEKS = """\
                                  COSTCO WHOLESALE CORPORATION
                                CONSOLIDATED STATEMENTS OF INCOME
                           (amounts in millions, except per share data)
                                   52 Weeks Ended     52 Weeks Ended     52 Weeks Ended
                                     August 28,         August 29,         August 30,
                                        2022               2021               2020
REVENUE
Net sales                          $   222,730        $  192,052         $  163,220
Membership fees                          4,224             3,877              3,541
     Total revenue                     226,954           195,929            166,761
NET INCOME PER COMMON SHARE ATTRIBUTABLE TO
COSTCO:
Basic                              $     13.17        $    11.30         $     9.05
Shares used in calculation (000’s)
Basic                                  443,651           443,089            442,297
"""

OLDEST_FIRST_THOUSANDS = """\
                                 SMALLCO HOLDINGS, INC.
                                CONSOLIDATED BALANCE SHEETS
                                     (In thousands)
                                        December 31,
                                    2022          2023
Cash                            $  1,200      $  1,450
Receivables                          300           —
Total current assets               1,500         1,450
"""

IFRS_NOTE_COLUMN = """\
                                  SEVEN A.D. INC.
                          STATEMENTS OF FINANCIAL POSITION
                                                     December 31
                                          Note          2024          2023
Cash                                        3    P=17,299,358  P=29,984,998
Trade and other receivables              4, 9      37,318,785    49,610,898
Creditable withholding taxes                        2,516,884             –
                                                   57,134,027    79,595,896
Capital stock                               8    (P=2,663,920)  (P=2,663,920)
"""

BOEING_DOLLAR_INSIDE = """\
                            The Boeing Company and Subsidiaries
                      Consolidated Statements of Financial Position
(Dollars in millions, except per share data)
December 31,                                                  2022          2021
Treasury stock, at cost                                   ($50,814)     ($51,861)
Retained earnings                                           29,473        34,408
Common stock, par value $5.00 – 1,200,000,000 shares authorized;
  1,012,261,159 shares issued                                5,061         5,061
"""

FOOTNOTES_AND_PERCENT = """\
                               EXAMPLE CORPORATION
                       CONSOLIDATED STATEMENTS OF OPERATIONS
                                  (In millions)
                                         Year Ended December 31,
                                        2024        2023
Revenue (1)                           $ 1,000     $   900
Cost of revenue*                          600         540
Gross margin                              40%         40%
"""

LABEL_LESS_TOTAL = """\
                               EXAMPLE CORPORATION
                           CONSOLIDATED BALANCE SHEETS
                                    (In millions)
                                         2024        2023
Cash                                      100          90
Receivables                                50          40
                                       ------      ------
                                          150         130

Payables                                   70          60
"""

CASES = [
    (
        "salesforce 10-Q four columns",
        SALESFORCE_10Q,
        [("2022-10-31", 3), ("2021-10-31", 3), ("2022-10-31", 9), ("2021-10-31", 9)],
        {
            "Total revenues": [D(7837), D(6863), D(22968), D(19166)],
            "Basic net income per share": [D("0.21"), D("0.48"), D("0.31"), D("1.56")],
        },
    ),
    (
        "costco 52 weeks",
        COSTCO_52_WEEKS,
        [("2022-08-28", 12), ("2021-08-29", 12), ("2020-08-30", 12)],
        {"Net sales": [D(222730), D(192052), D(163220)]},
    ),
    (
        "generated oldest-first years in thousands",
        OLDEST_FIRST_THOUSANDS,
        [("2022-12-31", None), ("2023-12-31", None)],
        {"Receivables": [D(300), D(0)], "Total current assets": [D(1500), D(1450)]},
    ),
    (
        "sevenad-style note column and peso",
        IFRS_NOTE_COLUMN,
        [("2024-12-31", None), ("2023-12-31", None)],
        {
            "Cash": [D(17299358), D(29984998)],
            "": [D(57134027), D(79595896)],
            "Capital stock": [D(-2663920)] * 2,
        },
    ),
    (
        "boeing-style ($50,814) and wrapped caption",
        BOEING_DOLLAR_INSIDE,
        [("2022-12-31", None), ("2021-12-31", None)],
        {
            "Treasury stock, at cost": [D(-50814), D(-51861)],
            "Common stock, par value $5.00 – 1,200,000,000 shares authorized; 1,012,261,159 shares issued": [
                D(5061)
            ]
            * 2,
        },
    ),
    (
        "generated footnotes and percent row",
        FOOTNOTES_AND_PERCENT,
        [("2024-12-31", 12), ("2023-12-31", 12)],
        {"Revenue": [D(1000), D(900)], "Cost of revenue": [D(600), D(540)], "Gross margin": [D(40), D(40)]},
    ),
    (
        "generated label-less total after a rule",
        LABEL_LESS_TOTAL,
        [(None, None), (None, None)],
        {"": [D(150), D(130)], "Payables": [D(70), D(60)]},
    ),
]


@pytest.mark.parametrize(("source", "text", "columns", "values"), CASES, ids=[c[0] for c in CASES])
def test_layout_examples(source, text, columns, values):
    kind = "balance_sheet" if "BALANCE" in text or "POSITION" in text.upper() else "income_statement"
    statement = parse(text, kind)
    assert [(c.period_end, c.period_months) for c in statement.columns] == columns
    found = rows(statement)
    for label, expected in values.items():
        assert found[label] == expected


def test_salesforce_footnote_tables_are_not_rows():
    statement = parse(SALESFORCE_10Q)
    assert "Cost of revenues" not in rows(statement)
    assert statement.unit == "millions"


def test_costco_shares_in_thousands_and_wrapped_header():
    statement = parse(COSTCO_52_WEEKS)
    items = statement.items
    header = next(i for i in items if i.label.startswith("NET INCOME PER COMMON SHARE"))
    assert header.label == "NET INCOME PER COMMON SHARE ATTRIBUTABLE TO COSTCO:"
    basics = [i for i in items if i.label == "Basic"]
    assert [b.value_kind for b in basics] == ["per_share", "shares"]
    assert basics[1].unit == "thousands"


def test_sevenad_note_references_and_label_less_total():
    statement = parse(IFRS_NOTE_COLUMN, "balance_sheet")
    items = {i.label: i for i in statement.items}
    assert items["Trade and other receivables"].notes == ["4", "9"]
    assert items[""].kind == "total"
    assert statement.currency == "PHP"
    assert len(statement.columns) == 2


def test_footnote_markers_move_to_footnotes():
    statement = parse(FOOTNOTES_AND_PERCENT)
    items = {i.label: i for i in statement.items}
    assert items["Revenue"].footnotes == ["(1)"]
    assert items["Cost of revenue"].footnotes == ["*"]
    assert items["Gross margin"].value_kind == "percent"


def test_two_pages_are_one_statement():
    first = BOEING_DOLLAR_INSIDE
    second = """\
December 31,                                                  2022          2021
Total equity                                              (15,848)      (14,846)

                                      59
"""
    statement = parse(first, "balance_sheet", (second,))
    assert statement.pages == [5, 6]
    items = {i.label: i for i in statement.items}
    assert items["Total equity"].values == [D(-15848), D(-14846)]
    assert items["Total equity"].source.page == 6


def test_provenance_line_numbers_and_boxes():
    text = (
        "EXAMPLE INC.\nSTATEMENTS OF OPERATIONS\n                 2024    2023\n"
        "Revenue           100      90\nCosts              60      50\n"
    )
    boxes = tuple((0.0, float(k), 100.0, float(k) + 1) for k in range(6))
    page = PageText(page=3, text=text, engine="local", mode="layout", line_boxes=boxes)
    detection = Detection(type="income_statement", pages=(3,), confidence=1.0, title="")
    statement = parse_statement([page], detection)
    revenue = statement.items[0]
    assert (revenue.source.page, revenue.source.line) == (3, 4)
    assert revenue.source.bbox == (0.0, 3.0, 100.0, 4.0)


PATRIOT_TWO_STATEMENTS = """\
CONSOLIDATED STATEMENTS OF INCOME - Years ended September 30
(In thousands, except per share amounts)
                                                  2023          2022
Operating revenues                          $   94,785    $   87,882
Net income                                  $    2,673    $    7,190

CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME - Years ended September 30 (In thousands)
                                                  2023          2022
Net income                                  $    2,673    $    7,190
Unrealized investment gains (losses), net            5            (5)
Comprehensive income                        $    2,667    $    7,172
"""


@pytest.mark.parametrize(
    ("source", "kind", "labels"),
    [
        ("patriot-10k-2023 p26 income statement", "income_statement", ["Operating revenues", "Net income"]),
        (
            "patriot-10k-2023 p26 comprehensive income",
            "comprehensive_income",
            ["Net income", "Unrealized investment gains (losses), net", "Comprehensive income"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_two_statements_on_one_page(source, kind, labels):
    statement = parse(PATRIOT_TWO_STATEMENTS, kind)
    assert [i.label for i in statement.items] == labels
    assert [c.period_end for c in statement.columns] == ["2023-09-30", "2022-09-30"]
    assert statement.unit == "thousands"
    first_line = statement.items[0].source.line
    assert first_line == (4 if kind == "income_statement" else 9)


def test_footnote_marker_apart_from_its_label_is_not_a_value():
    text = """\
EXAMPLE CORPORATION
CONSOLIDATED STATEMENTS OF OPERATIONS
                                            2024          2023
Revenue      (1)                        $  1,000      $    900
Other income      (2)                                       15
Costs                                        600           540
"""
    items = {i.label: i for i in parse(text).items}
    assert items["Revenue"].values == [D(1000), D(900)]
    assert items["Revenue"].footnotes == ["(1)"]
    assert items["Other income"].values == [None, D(15)]
    assert items["Other income"].footnotes == ["(2)"]


def test_pge_year_wrapped_from_the_label_is_not_a_value():
    text = """\
PG&E CORPORATION
CONDENSED CONSOLIDATED STATEMENTS OF EQUITY
(in millions, except share amounts)
                                         Common Stock
                                      Shares          Amount      Total Equity
Balance at December 31,
2021                           1,985,400,540   $      35,129   $      21,223
Net income                                 —               —             478
Balance at March 31,
2022                           1,987,472,590   $      34,726   $      21,644
"""
    statement = parse(text, "shareholders_equity")
    items = {i.label: i.values for i in statement.items}
    assert items["Balance at December 31, 2021"] == [D(1985400540), D(35129), D(21223)]
    assert items["Net income"] == [D(0), D(0), D(478)]
    assert [c.header for c in statement.columns] == [
        "Common Stock Shares",
        "Common Stock Amount",
        "Total Equity",
    ]


def test_xppower_sentence_over_several_columns_is_one_group_header():
    text = """\
Condensed Consolidated Statement of Changes in Equity
                         Attributable to equity holders of the Company
                          Share        Merger    Translation     Total         Non        Total
                          capital     reserve       reserve              controlling     Equity
£m                                                                         interests
Balance at 1 January 2024    71.2         0.2          (0.9)     70.5            0.7      71.2
Profit for the period           -           -              -      2.1            0.1       2.2
"""
    statement = parse(text, "shareholders_equity")
    headers = [c.header for c in statement.columns]
    assert headers[1] == "Attributable to equity holders of the Company Merger reserve"
    assert headers[-1] == "Total Equity"
    items = {i.label: i.values for i in statement.items}
    assert items["Profit for the period"] == [D(0), D(0), D(0), D("2.1"), D("0.1"), D("2.2")]
