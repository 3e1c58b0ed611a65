"""Headings and column headers → unit, currency, company, title, ISO period ends and months."""

from __future__ import annotations

import pytest

from app.parsing.header import build_columns, find_date, period_months, read_heading

HEADINGS = [
    (
        "nvidia-10k-2020 p39",
        [
            "NVIDIA CORPORATION AND SUBSIDIARIES",
            "CONSOLIDATED STATEMENTS OF INCOME",
            "(In millions, except per share data)",
        ],
        "millions",
        "USD",
    ),
    (
        "amex-10k-2022 unit in column header",
        ["CONSOLIDATED STATEMENTS OF INCOME", "(Millions, except per share amounts)"],
        "millions",
        "USD",
    ),
    (
        "boeing-10k-2022",
        [
            "The Boeing Company and Subsidiaries",
            "Consolidated Statements of Operations",
            "(Dollars in millions, except per share data)",
        ],
        "millions",
        "USD",
    ),
    (
        "xppower-interim-2025 £m",
        ["XP Power Limited", "Condensed Consolidated Income Statement", "£m"],
        "millions",
        "GBP",
    ),
    (
        "fanmilk-2024 cedi",
        ["FAN MILK PLC", "STATEMENT OF FINANCIAL POSITION", "(All amounts are in thousands of Ghana Cedi)"],
        "thousands",
        "GHS",
    ),
    (
        "idealmarketing-2022 peso",
        [
            "IDEAL MARKETING & MANUFACTURING CORPORATION",
            "STATEMENTS OF FINANCIAL POSITION",
            "(Figures in Philippine Peso)",
        ],
        "units",
        "PHP",
    ),
    (
        "patriot-10k-2023 thousands",
        ["CONSOLIDATED BALANCE SHEETS", "(In thousands, except share data)"],
        "thousands",
        "USD",
    ),
    (
        "ocr squashed unit",
        ["NVIDIACORPORATIONANDSUBSIDIARIES", "(Inmillions,exceptpershare data)"],
        "millions",
        None,
    ),
]


@pytest.mark.parametrize(("source", "lines", "unit", "currency"), HEADINGS, ids=[h[0] for h in HEADINGS])
def test_unit_and_currency(source, lines, unit, currency):
    heading = read_heading(lines, "", "$ 1" if currency == "USD" else "")
    assert heading.unit == unit
    assert heading.currency == currency


def test_company_is_the_line_above_the_title():
    heading = read_heading(
        [
            "Table of Contents",
            "NVIDIA CORPORATION AND SUBSIDIARIES",
            "CONSOLIDATED BALANCE SHEETS",
            "(In millions, except par value)",
        ],
        "",
        "",
    )
    assert heading.company == "NVIDIA CORPORATION AND SUBSIDIARIES"
    assert heading.title == "CONSOLIDATED BALANCE SHEETS"


DATES = [
    ("nvidia-10k-2020 p39", "Year Ended January 26, 2020", (2020, 1, 26)),
    ("xppower-interim-2025", "Six months ended 30 June 2025", (2025, 6, 30)),
    ("abbreviated month", "Dec. 31, 2021", (2021, 12, 31)),
    ("iso", "2023-09-30", (2023, 9, 30)),
    ("sevenad bare year", "2024", (2024, None, None)),
    ("day on its own line", "December 31 2023 (As Restated - Note 2)", (2023, 12, 31)),
]


@pytest.mark.parametrize(("source", "text", "expected"), DATES, ids=[d[0] for d in DATES])
def test_find_date(source, text, expected):
    assert find_date(text) == expected


MONTHS = [
    ("salesforce 10-Q three months", "Three Months Ended October 31, 2022", 3),
    ("salesforce 10-Q nine months", "Nine Months Ended October 31, 2022", 9),
    ("pge 10-Q six months", "Six Months Ended June 30, 2022", 6),
    ("costco 52 weeks", "52 Weeks Ended August 28, 2022", 12),
    ("53 weeks", "53 Weeks Ended September 3, 2023", 12),
    ("retail 13 weeks", "13 Weeks Ended April 30, 2023", 3),
    ("nvidia year ended", "Year Ended January 26, 2020", 12),
    ("fiscal year", "Fiscal Year 2023", 12),
    ("quarter", "Quarter Ended March 31, 2024", 3),
    ("balance sheet date", "January 26, 2020", None),
]


@pytest.mark.parametrize(("source", "text", "months"), MONTHS, ids=[m[0] for m in MONTHS])
def test_period_months(source, text, months):
    assert period_months(text) == months


def test_bare_years_take_the_fiscal_year_end_from_the_heading():
    columns = build_columns(
        [["2024"], ["2023"]],
        "income_statement",
        ["STATEMENTS OF OPERATIONS", "For the years ended December 31, 2024 and 2023"],
    )
    assert [(c.key, c.period_end, c.period_months) for c in columns] == [
        ("2024-12-31/12m", "2024-12-31", 12),
        ("2023-12-31/12m", "2023-12-31", 12),
    ]


def test_bare_years_without_a_stated_year_end_have_no_period_end():
    columns = build_columns([["2024"], ["2023"]], "income_statement", ["STATEMENTS OF OPERATIONS"])
    assert [c.period_end for c in columns] == [None, None]
    assert len({c.key for c in columns}) == 2


def test_heading_with_two_period_lengths_decides_nothing():
    columns = build_columns(
        [["2022"], ["2022"]], "income_statement", ["Three Months Ended and Nine Months Ended October 31"]
    )
    assert [c.period_months for c in columns] == [None, None]


def test_balance_sheet_columns_are_dates_without_months():
    columns = build_columns([["January 26,", "2020"]], "balance_sheet", ["CONSOLIDATED BALANCE SHEETS"])
    assert (columns[0].key, columns[0].period_end, columns[0].period_months) == (
        "2020-01-26",
        "2020-01-26",
        None,
    )


@pytest.mark.parametrize(
    ("source", "stack", "key", "kind"),
    [
        (
            "nvidia-10k-2020 p42 shares",
            ["Common Stock", "Outstanding", "Shares"],
            "common-stock-outstanding-shares",
            "shares",
        ),
        (
            "costco-10k-2022 shares in thousands",
            ["Common Stock", "Shares (000’s)"],
            "common-stock-shares-000s",
            "shares",
        ),
        ("amex-10k-2022 total first", ["Total"], "total", None),
        ("amex-10k-2022 common shares are an amount", ["Common Shares"], "common-shares", None),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_equity_component_columns(source, stack, key, kind):
    column = build_columns([stack], "shareholders_equity", [])[0]
    assert (column.key, column.value_kind, column.period_end) == (key, kind, None)


def test_costco_share_column_in_thousands():
    columns = build_columns(
        [["Common Stock", "Shares (000’s)"], ["Common Stock", "Amount"]], "shareholders_equity", []
    )
    assert [(c.value_kind, c.unit) for c in columns] == [("shares", "thousands"), (None, None)]


def test_salesforce_period_line_over_equity_components_is_not_a_period():
    line = "Three and Nine months ended October 31, 2022"
    columns = build_columns(
        [[line, "Common Stock", "Shares"], [line, "Common Stock", "Amount"], [line, "Retained Earnings"]],
        "shareholders_equity",
        [],
    )
    assert [(c.header, c.period_end) for c in columns] == [
        ("Common Stock Shares", None),
        ("Common Stock Amount", None),
        ("Retained Earnings", None),
    ]
