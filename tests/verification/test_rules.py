"""Statement rules and cross-statement ties, from real layouts (named after where they came from)."""

# ruff: noqa: E501  (statement rows are kept on one line, as printed)
from __future__ import annotations

import pytest

from app.verification.verify import verify_all, verify_statement
from tests.verification.build import failed, statement, years

Y2 = years("2022-12-31", "2021-12-31", months=None)

BALANCE_SHEET_LABELS = [
    pytest.param("Total liabilities and shareholders' equity", id="nvidia-10k-fy2020-p41"),
    pytest.param("Total equity and liabilities", id="ifrs-equity-first"),
    pytest.param("Total liabilities, redeemable noncontrolling interest and equity", id="redeemable-nci"),
    pytest.param("Total liabilities and shareholders' deficit", id="boeing-style-deficit"),
]


@pytest.mark.parametrize("caption", BALANCE_SHEET_LABELS)
def test_total_assets_equals_total_liabilities_and_equity_whatever_the_caption(caption):
    text = f"""
L0 Cash | 60 | 50
L0 Property | 40 | 30
T0 Total assets | 100 | 80
L0 Payables | 70 | 60
T0 Total liabilities | 70 | 60
L0 Redeemable noncontrolling interest | 5 | 5
L0 Equity | 25 | 15
T0 {caption} | 100 | 80
"""
    result = verify_statement(statement("balance_sheet", text, periods=Y2))
    equation = [c for c in result.checks if c.rule == "balance_sheet"]
    assert [(c.row, c.components, c.ok) for c in equation] == [(caption, ["Total assets"], True)] * 2
    assert failed(result) == [] and result.verified


def test_the_balance_sheet_equation_catches_a_sheet_that_foots_inside_but_does_not_balance():
    text = "L0 Cash | 100\nT0 Total assets | 100\nL0 Payables | 60\nL0 Equity | 39\nT0 Total liabilities and equity | 99"
    result = verify_statement(statement("balance_sheet", text, periods=years("2022-12-31", months=None)))
    assert [c.rule for c in result.checks if not c.ok] == ["balance_sheet"]


COSTCO_CASH = """
H0 CASH FLOWS FROM OPERATING ACTIVITIES
L0 Net income including noncontrolling interests | $ 5,915 | $ 5,079 | $ 4,059
H0 Adjustments to reconcile net income including noncontrolling interests to net cash provided by operating activities:
L1 Depreciation and amortization | 1,900 | 1,781 | 1,645
L1 Non-cash lease expense | 377 | 286 | 194
L1 Stock-based compensation | 724 | 665 | 619
L1 Other non-cash operating activities, net | 76 | 85 | 42
L1 Deferred income taxes | (37) | 59 | 104
H0 Changes in operating assets and liabilities:
L1 Merchandise inventories | (4,003) | (1,892) | (791)
L1 Accounts payable | 1,891 | 1,838 | 2,261
L1 Other operating assets and liabilities, net | 549 | 1,057 | 728
T0 Net cash provided by operating activities | 7,392 | 8,958 | 8,861
H0 CASH FLOWS FROM INVESTING ACTIVITIES
L1 Purchases of short-term investments | (1,121) | (1,331) | (1,626)
L1 Maturities and sales of short-term investments | 1,145 | 1,446 | 1,678
L1 Additions to property and equipment | (3,891) | (3,588) | (2,810)
L1 Acquisitions | — | — | (1,163)
L1 Other investing activities, net | (48) | (62) | 30
T0 Net cash used in investing activities | (3,915) | (3,535) | (3,891)
H0 CASH FLOWS FROM FINANCING ACTIVITIES
L1 Proceeds from issuance of long-term debt | — | — | 3,992
L1 Repayments of long-term debt | (800) | (94) | (3,200)
L1 Tax withholdings on stock-based awards | (363) | (312) | (330)
L1 Repurchases of common stock | (439) | (496) | (196)
L1 Cash dividend payments | (1,498) | (5,748) | (1,479)
L1 Dividend to noncontrolling interest | (208) | — | —
L1 Acquisition of noncontrolling interest | (842) | — | —
L1 Other financing activities, net | (133) | 162 | 66
T0 Net cash used in financing activities | (4,283) | (6,488) | (1,147)
L0 EFFECT OF EXCHANGE RATE CHANGES ON CASH AND CASH EQUIVALENTS | (249) | 46 | 70
{change}
L0 CASH AND CASH EQUIVALENTS BEGINNING OF YEAR | 11,258 | 12,277 | 8,384
{ending}
"""
COSTCO_YEARS = years("2022-08-28", "2021-08-29", "2020-08-30")


class TestCashFlow:
    def test_costco_fy2022_p40_net_change_includes_the_exchange_rate_effect(self):
        text = COSTCO_CASH.format(
            change="T0 Net change in cash and cash equivalents | (1,055) | (1,019) | 3,893",
            ending="T0 CASH AND CASH EQUIVALENTS END OF YEAR | $ 10,203 | $ 11,258 | $ 12,277",
        )
        result = verify_statement(statement("cash_flow", text, periods=COSTCO_YEARS))
        assert failed(result) == [] and result.verified
        change = next(c for c in result.checks if c.row.startswith("Net change"))
        assert change.components[-1].startswith("EFFECT OF EXCHANGE RATE")
        continuity = [c for c in result.checks if c.rule == "cash_continuity"]
        assert [(c.column, str(c.printed)) for c in continuity] == [
            ("2022-08-28/12m", "11258"),
            ("2021-08-29/12m", "12277"),
        ]

    def test_net_change_and_ending_cash_printed_as_lines_are_checked_by_the_rules(self):
        text = COSTCO_CASH.format(
            change="L0 Net change in cash and cash equivalents | (1,055) | (1,019) | 3,893",
            ending="L0 CASH AND CASH EQUIVALENTS END OF YEAR | $ 10,203 | $ 11,258 | $ 12,277",
        )
        result = verify_statement(statement("cash_flow", text, periods=COSTCO_YEARS))
        rules = {c.rule for c in result.checks}
        assert {"cash_net_change", "cash_rollforward", "cash_continuity"} <= rules
        assert failed(result) == [] and result.verified

    def test_a_wrong_ending_balance_printed_as_a_line_fails(self):
        text = COSTCO_CASH.format(
            change="L0 Net change in cash and cash equivalents | (1,055) | (1,019) | 3,893",
            ending="L0 CASH AND CASH EQUIVALENTS END OF YEAR | $ 10,213 | $ 11,258 | $ 12,277",
        )
        result = verify_statement(statement("cash_flow", text, periods=COSTCO_YEARS))
        assert not result.verified


COSTCO_EQUITY = """
L0 BALANCE AT SEPTEMBER 1, 2019 | 439,625 | $ 4 | $ 6,417 | $ (1,436) | $ 10,258 | $ 15,243 | $ 341 | $ 15,584
L0 Net income | — | — | — | — | 4,002 | 4,002 | 57 | 4,059
L0 Foreign-currency translation adjustment and other, net | — | — | — | 139 | — | 139 | 23 | 162
L0 Stock-based compensation | — | — | 621 | — | — | 621 | — | 621
L0 Release of vested restricted stock units (RSUs), including tax effects | 2,273 | — | (330) | — | — | (330) | — | (330)
L0 Repurchases of common stock | (643) | — | (10) | — | (188) | (198) | — | (198)
L0 Cash dividends declared and other | — | — | — | — | (1,193) | (1,193) | — | (1,193)
T0 BALANCE AT AUGUST 30, 2020 | 441,255 | 4 | 6,698 | (1,297) | 12,879 | 18,284 | 421 | 18,705
"""
COSTCO_HEADERS = [
    "Common Stock Shares (000's)", "Common Stock Amount", "Additional Paid-in Capital",
    "Accumulated Other Comprehensive Income (Loss)", "Retained Earnings", "Total Costco Stockholders' Equity",
    "Noncontrolling Interests", "Total Equity",
]  # fmt: skip

AMEX_EQUITY = """
L0 Balances as of December 31, 2021 | 22,177 | — | 153 | 11,495 | (2,945) | 13,474
L0 Net income | 7,514 | — | — | — | — | 7,514
L0 Other comprehensive loss | (265) | — | — | — | (265) | —
L0 Repurchase of common shares | (3,332) | — | (4) | (302) | — | (3,026)
L0 Other changes, primarily employee plans | 242 | — | — | 300 | — | (58)
L0 Cash dividends declared preferred Series D, $35,993.05 per share | (57) | — | — | — | — | (57)
L0 Cash dividends declared common, $2.08 per share | (1,568) | — | — | — | — | (1,568)
L0 Balances as of December 31, 2022 | $ 24,711 | $ — | $ 149 | $ 11,493 | $ (3,210) | $ 16,279
"""
AMEX_HEADERS = [
    "Total", "Preferred Shares", "Common Shares", "Additional Paid-in Capital",
    "Accumulated Other Comprehensive Income (Loss)", "Retained Earnings",
]  # fmt: skip

VERTICAL_EQUITY = """
H0 Share capital
L1 Balance at beginning of year | 1,000 | 1,000
L1 Issuance | 500 | —
T1 Balance at end of year | 1,500 | 1,000
H0 Retained earnings (deficit)
L1 Balance at beginning of year | (300) | (100)
L1 Net loss | (250) | (200)
T1 Balance at end of year | (550) | (300)
T0 Total equity (capital deficiency) | 950 | 700
"""


class TestEquity:
    def test_costco_fy2022_p39_noncontrolling_interests_and_a_share_count_column(self):
        result = verify_statement(statement("shareholders_equity", COSTCO_EQUITY, headers=COSTCO_HEADERS))
        assert failed(result) == [] and result.verified
        totals = {c.column: c.components for c in result.checks if c.rule == "equity_row_total"}
        assert totals["c7"] == ["Total Costco Stockholders' Equity", "Noncontrolling Interests"]
        assert "Common Stock Shares (000's)" not in totals["c5"]
        assert any(c.rule == "rollforward" and c.column == "c0" for c in result.checks)

    def test_amex_10k_2022_p100_total_column_first_and_common_shares_in_dollars(self):
        text = AMEX_EQUITY.replace(
            "L0 Balances as of December 31, 2022", "T0 Balances as of December 31, 2022"
        )
        result = verify_statement(statement("shareholders_equity", text, headers=AMEX_HEADERS))
        assert failed(result) == [] and result.verified
        row_total = next(c for c in result.checks if c.rule == "equity_row_total")
        assert row_total.column == "c0" and "Common Shares" in row_total.components

    def test_balance_rows_printed_as_lines_are_rolled_forward_by_the_rules(self):
        result = verify_statement(statement("shareholders_equity", AMEX_EQUITY, headers=AMEX_HEADERS))
        rolled = [c for c in result.checks if c.rule == "rollforward"]
        assert len(rolled) == 6 and all(c.ok for c in rolled)

    def test_a_component_that_breaks_the_row_total_fails(self):
        text = AMEX_EQUITY.replace("| 242 | — | — | 300 |", "| 242 | — | — | 310 |")
        result = verify_statement(statement("shareholders_equity", text, headers=AMEX_HEADERS))
        assert not result.verified

    def test_sevenad_afs_2024_style_vertical_roll_forward(self):
        result = verify_statement(statement("shareholders_equity", VERTICAL_EQUITY, periods=Y2))
        assert failed(result) == [] and result.verified
        assert [c.rule for c in result.checks].count("rollforward") == 4

    def test_fanmilk_annual_2024_style_blocks_newest_first_each_open_afresh(self):
        text = """
L0 Balance at 1 January 2024 | 100 | 50 | 150
L0 Profit for the year | — | 30 | 30
L0 Balance at 31 December 2024 | 100 | 80 | 180
L0 Balance at 1 January 2023 | 100 | 20 | 120
L0 Profit for the year | — | 30 | 30
L0 Balance at 31 December 2023 | 100 | 50 | 150
"""
        headers = ["Share capital", "Retained earnings", "Total"]
        result = verify_statement(statement("shareholders_equity", text, headers=headers))
        assert failed(result) == [] and result.verified
        assert {c.row for c in result.checks if c.rule == "rollforward"} == {
            "Balance at 31 December 2024",
            "Balance at 31 December 2023",
        }


INCOME = """
L0 Revenue | 100 | 90
L0 Cost of revenue | 40 | 35
T0 Net income | 60 | 55
"""
CASH = """
L0 Net income | 60 | 55
L0 Other | 5 | 5
T0 Net cash provided by operating activities | 65 | 60
L0 Cash and cash equivalents at beginning of period | 100 | 40
T0 Cash and cash equivalents at end of period | 165 | 100
"""
SHEET = """
L0 Cash and cash equivalents | 165 | 100
L0 Other assets | 35 | 20
T0 Total assets | 200 | 120
"""
P2 = years("2022-12-31", "2021-12-31")


class TestCrossStatementTies:
    def test_net_income_and_ending_cash_tie_by_period(self):
        results = verify_all(
            [
                statement("income_statement", INCOME, periods=P2),
                statement("cash_flow", CASH, periods=P2),
                statement("balance_sheet", SHEET, periods=Y2),
            ]
        )
        rules = [c.rule for s in results for c in s.checks if c.rule.startswith("tie_")]
        assert rules.count("tie_net_income") == 4 and rules.count("tie_ending_cash") == 4
        assert all(s.verified for s in results)

    def test_a_net_income_that_disagrees_fails_both_statements(self):
        cash = CASH.replace("L0 Net income | 60", "L0 Net income | 61").replace("| 65 |", "| 66 |")
        results = verify_all(
            [
                statement("income_statement", INCOME, periods=P2),
                statement("cash_flow", cash.replace("| 165 | 100\n", "| 166 | 100\n"), periods=P2),
            ]
        )
        assert [s.verified for s in results] == [False, False]

    def test_restricted_cash_is_not_tied_to_balance_sheet_cash(self):
        cash = CASH.replace("Cash and cash equivalents at", "Cash, cash equivalents and restricted cash at")
        results = verify_all(
            [statement("cash_flow", cash, periods=P2), statement("balance_sheet", SHEET, periods=Y2)]
        )
        assert not [c for s in results for c in s.checks if c.rule == "tie_ending_cash"]
        assert all(s.verified for s in results)

    def test_statements_of_two_registrants_are_not_tied_to_each_other(self):
        other = INCOME.replace("| 60 | 55", "| 61 | 55").replace("| 40 | 35", "| 39 | 35")
        results = verify_all(
            [
                statement("income_statement", INCOME, periods=P2, entity="PG&E Corporation"),
                statement("income_statement", other, periods=P2, entity="Pacific Gas and Electric Company"),
                statement("cash_flow", CASH, periods=P2, entity="PG&E Corporation"),
            ]
        )
        assert [s.verified for s in results] == [True, True, True]
        assert not [c for c in results[1].checks if c.rule.startswith("tie_")]

    def test_a_10q_ties_the_nine_month_income_column_to_the_nine_month_cash_flow_only(self):
        income = "L0 Revenue | 30 | 90\nL0 Cost of revenue | 10 | 30\nT0 Net income | 20 | 60"
        cash = "L0 Net income | 60\nL0 Other | 5\nT0 Net cash provided by operating activities | 65"
        results = verify_all(
            [
                statement("income_statement", income, periods=[("2022-09-30", 3), ("2022-09-30", 9)]),
                statement("cash_flow", cash, periods=[("2022-09-30", 9)]),
            ]
        )
        ties = [(c.column, c.ok) for c in results[0].checks if c.rule == "tie_net_income"]
        assert ties == [("2022-09-30/9m", True)]
