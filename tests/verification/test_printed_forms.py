"""How captions and nesting tell a total's components and signs (small statements, named after their source).

Each row names the filing whose layout it imitates; the numbers are invented.
"""

from __future__ import annotations

import pytest

from app.verification.findings import ROUNDING
from app.verification.verify import verify_statement
from tests.verification.build import components, failed, footed_rows, statement, years

# a cash reconciliation after the roll-forward: "excluding X" subtracts the row naming X
CASH_EXCLUDING = """
L0 Net cash provided by operating activities | 500 | 400
L0 Net cash used in investing activities | (300) | (250)
T0 Net increase in cash and cash equivalents | 200 | 150
L0 Cash and cash equivalents at beginning of year | 1,150 | 1,000
T0 Cash and cash equivalents at end of year | 1,350 | 1,150
H0 Supplemental cash flow information
H0 Cash and cash equivalents reconciliation
L0 Cash and cash equivalents per balance sheets | 1,350 | 1,150
L0 Restricted balances included in cash and cash equivalents | 40 | 35
T0 Total cash and cash equivalents, excluding restricted balances | 1,310 | 1,115
"""

# "Less:" names the operation; a loss attributable to NCI is printed negative and still subtracted
LESS_NEGATIVE = """
L0 Revenues | 1,000 | 900
L0 Costs and expenses | (1,200) | (1,000)
T0 Loss before income taxes | (200) | (100)
L0 Income tax benefit | 20 | 10
T0 Net loss | (180) | (90)
L0 Less: net loss attributable to noncontrolling interest | (12) | (7)
T0 Net loss attributable to shareholders | (168) | (83)
"""

# capitals, expenses printed bare: the captions alone say they are subtracted
CAPITALS_BARE_EXPENSES = """
H1 Notes
L0 REVENUE | 9,000 | 8,000
L0 DIRECT COSTS | 6,500 | 5,900
T0 GROSS PROFIT | 2,500 | 2,100
L0 GENERAL AND ADMINISTRATIVE EXPENSE | 1,300 | 1,200
T0 NET INCOME BEFORE INCOME TAX | 1,200 | 900
L0 Provision for Income Tax | 300 | 225
T0 NET INCOME | 900 | 675
"""

# a vertical equity statement: share capital, then retained earnings in two blocks, the first
# with a subtotal printed as a line ("Net unappropriated ...") before "Less: appropriation"
VERTICAL_EQUITY = """
H0 Shareholders' Equity, beginning
L1 Share Capital | 5,000 | 5,000
T1 Total | 5,000 | 5,000
H0 Retained Earnings
H1 Unappropriated:
L1 Beginning Balance | 3,000 | 2,600
L1 Prior Year's Adjustment | | (100)
L1 Net Income for the period | 900 | 700
L1 Net Unappropriated Retained Earnings | 3,900 | 3,200
L1 Less: Appropriation for Capital Expansion | (1,000) | (200)
T1 Total Unappropriated Retained Earnings | 2,900 | 3,000
H1 Appropriated:
L1 Beginning Balance | 1,200 | 1,000
L1 Add: Appropriation for Capital Expansion | 1,000 | 200
T1 Total Appropriated Retained Earnings | 2,200 | 1,200
T1 Total Retained Earnings | 5,100 | 4,200
T0 SHAREHOLDERS' EQUITY, ENDING | 10,100 | 9,200
"""

Y = years("2022-12-31", "2021-12-31")

CASES = [
    pytest.param("cash_flow", CASH_EXCLUDING, {
        "Total cash and cash equivalents, excluding restricted balances": [
            "+Cash and cash equivalents per balance sheets",
            "-Restricted balances included in cash and cash equivalents",
        ],
    }, id="amex-10k-2022-p99-cash-excluding-restricted-balances"),
    pytest.param("income_statement", LESS_NEGATIVE, {
        "Net loss attributable to shareholders": [
            "+Net loss", "-Less: net loss attributable to noncontrolling interest",
        ],
    }, id="boeing-10k-2022-p55-less-nci-loss-printed-negative"),
    pytest.param("income_statement", CAPITALS_BARE_EXPENSES, {
        "GROSS PROFIT": ["+REVENUE", "-DIRECT COSTS"],
        "NET INCOME BEFORE INCOME TAX": ["+GROSS PROFIT", "-GENERAL AND ADMINISTRATIVE EXPENSE"],
        "NET INCOME": ["+NET INCOME BEFORE INCOME TAX", "-Provision for Income Tax"],
    }, id="idealmarketing-afs-2022-p14-capital-captions-bare-expenses"),
    pytest.param("shareholders_equity", VERTICAL_EQUITY, {
        "Net Unappropriated Retained Earnings": [
            "+Beginning Balance", "+Prior Year's Adjustment", "+Net Income for the period",
        ],
        "Total Retained Earnings": [
            "+Total Unappropriated Retained Earnings", "+Total Appropriated Retained Earnings",
        ],
        "SHAREHOLDERS' EQUITY, ENDING": ["+Total", "+Total Retained Earnings"],
    }, id="idealmarketing-afs-2022-p12-vertical-equity-line-subtotal"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "text", "expected"), CASES)
def test_captions_and_nesting_give_the_components(type_, text, expected):
    result = verify_statement(statement(type_, text, periods=Y))
    assert failed(result) == []
    assert result.verified
    totals = {i for i, it in enumerate(result.items) if it.kind == "total"}
    assert totals <= footed_rows(result)
    for label, wanted in expected.items():
        assert components(result, label) == wanted


def test_a_line_subtotal_that_does_not_sum_its_rows_does_not_extend_the_group():
    broken = VERTICAL_EQUITY.replace(
        "L1 Net Income for the period | 900 | 700", "L1 Net Income for the period | 901 | 700"
    )
    result = verify_statement(statement("shareholders_equity", broken, periods=Y))
    assert not result.verified


ROUNDED = [
    pytest.param("1,201", ROUNDING, id="idealmarketing-afs-2022-p14-total-off-by-one-peso"),
    pytest.param("1,202", None, id="off-by-two-is-no-rounding"),
]


@pytest.mark.parametrize(("printed", "note"), ROUNDED)
def test_a_total_off_by_one_unit_fails_and_says_it_may_be_rounding(printed, note):
    text = CAPITALS_BARE_EXPENSES.replace(
        "NET INCOME BEFORE INCOME TAX | 1,200", f"NET INCOME BEFORE INCOME TAX | {printed}"
    )
    text = text.replace("T0 NET INCOME | 900", f"T0 NET INCOME | {int(printed.replace(',', '')) - 300}")
    result = verify_statement(statement("income_statement", text, periods=Y))
    assert not result.verified
    bad = [c for c in result.checks if not c.ok]
    assert [c.row for c in bad] == ["NET INCOME BEFORE INCOME TAX"]
    assert bad[0].signs == [1, -1] and bad[0].note == note


def test_a_proven_line_subtotal_becomes_a_total():
    """idealmarketing AFS 2022 p12: "Net Unappropriated Retained Earnings" sums the rows above it."""
    result = verify_statement(statement("shareholders_equity", VERTICAL_EQUITY, periods=Y))
    kinds = {item.label: item.kind for item in result.items}
    assert kinds["Net Unappropriated Retained Earnings"] == "total"
    assert kinds["Net Income for the period"] == "line"


def test_a_line_that_only_looks_like_a_subtotal_stays_a_line():
    broken = VERTICAL_EQUITY.replace(
        "L1 Net Income for the period | 900 | 700", "L1 Net Income for the period | 901 | 700"
    )
    result = verify_statement(statement("shareholders_equity", broken, periods=Y))
    assert {i.label: i.kind for i in result.items}["Net Unappropriated Retained Earnings"] == "line"


# A group with nothing in it closes on a nil total right under its header.
EMPTY_GROUPS = [
    pytest.param("balance_sheet", """
H0 Current Liabilities
L1 Trade and Other Payables | 178,874,377 | 151,497,735
T1 Total Current Liabilities | 178,874,377 | 151,497,735
H0 Non-Current Liabilities
T1 Total Non-Current Liabilities | — | —
H0 Shareholders' Equity
L1 Share Capital | 46,000,000 | 46,000,000
T1 Total Shareholders' Equity | 46,000,000 | 46,000,000
T0 TOTAL | 224,874,377 | 197,497,735
""", id="idealmarketing-afs-2022-p11-empty-non-current-liabilities"),
    pytest.param("cash_flow", """
H0 CASH FLOW FROM INVESTING ACTIVITY
L0 Acquisition of Property and Equipment | — | (47,537)
T1  | — | (47,537)
H0 CASH FLOWS FROM FINANCING ACTIVITIES
T1  | — | —
T0 NET INCREASE (DECREASE) IN CASH | — | (47,537)
""", id="idealmarketing-afs-2022-p13-empty-financing-section"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "text"), EMPTY_GROUPS)
def test_a_nil_total_of_an_empty_group_foots(type_, text):
    result = verify_statement(statement(type_, text, periods=Y))
    assert failed(result) == []
    assert result.verified


def test_a_nonzero_total_right_under_its_header_is_still_unfooted():
    text = "H0 Non-Current Liabilities\nT1 Total Non-Current Liabilities | 5 | —\n"
    result = verify_statement(statement("balance_sheet", text, periods=Y))
    assert not result.verified
