"""Footing: which rows each total sums, from real layouts (named after where they came from)."""

# ruff: noqa: E501  (statement rows are kept on one line, as printed)
from __future__ import annotations

import pytest

from app.verification.verify import verify_statement
from tests.verification.build import components, failed, footed_rows, statement, years

AMEX_INCOME = """
H0 Revenues
H1 Non-interest revenues
L2 Discount revenue | $ 30,739 | $ 24,563 | $ 19,435
L2 Net card fees | 6,070 | 5,195 | 4,664
L2 Service fees and other revenue | 4,521 | 3,316 | 2,702
L2 Processed revenue | 1,637 | 1,556 | 1,301
T1 Total non-interest revenues | 42,967 | 34,630 | 28,102
H1 Interest income
L2 Interest on loans | 11,967 | 8,850 | 9,779
L2 Interest and dividends on investment securities | 96 | 83 | 127
L2 Deposits with banks and other | 595 | 100 | 177
T1 Total interest income | 12,658 | 9,033 | 10,083
H1 Interest expense
L2 Deposits | 1,527 | 458 | 943
L2 Long-term debt and other | 1,236 | 825 | 1,155
T1 Total interest expense | 2,763 | 1,283 | 2,098
T1 Net interest income | 9,895 | 7,750 | 7,985
T0 Total revenues net of interest expense | 52,862 | 42,380 | 36,087
H0 Provisions for credit losses
L1 Card Member receivables | 627 | (73) | 1,015
L1 Card Member loans | 1,514 | (1,155) | 3,453
L1 Other | 41 | (191) | 262
T0 Total provisions for credit losses | 2,182 | (1,419) | 4,730
T0 Total revenues net of interest expense after provisions for credit losses | 50,680 | 43,799 | 31,357
H0 Expenses
L1 Card Member rewards | 14,002 | 11,007 | 8,041
L1 Business development | 4,943 | 3,762 | 3,051
L1 Card Member services | 2,959 | 1,993 | 1,230
L1 Marketing | 5,458 | 5,291 | 3,696
L1 Salaries and employee benefits | 7,252 | 6,240 | 5,718
L1 Other, net | 6,481 | 4,817 | 5,325
T0 Total expenses | 41,095 | 33,110 | 27,061
T0 Pretax income | 9,585 | 10,689 | 4,296
L0 Income tax provision | 2,071 | 2,629 | 1,161
T0 Net income | $ 7,514 | $ 8,060 | $ 3,135
L0 Net income attributable to common shareholders | 7,400 | 7,917 | 3,036
H0 Earnings per Common Share
L1p Basic | 9.86 | 10.04 | 3.77
L1p Diluted | 9.85 | 10.02 | 3.77
H0 Average common shares outstanding for earnings per common share:
L1s Basic | 751 | 789 | 805
L1s Diluted | 752 | 790 | 806
"""

BOEING_POSITION = """
H0 Assets
L0 Cash and cash equivalents | $14,614 | $8,052
L0 Short-term and other investments | 2,606 | 8,192
L0 Accounts receivable, net | 2,517 | 2,641
L0 Unbilled receivables, net | 8,634 | 8,620
L0 Current portion of customer financing, net | 154 | 117
L0 Inventories | 78,151 | 78,823
L0 Other current assets, net | 2,847 | 2,221
T0 Total current assets | 109,523 | 108,666
L0 Customer financing, net | 1,450 | 1,695
L0 Property, plant and equipment, net | 10,550 | 10,918
L0 Goodwill | 8,057 | 8,068
L0 Acquired intangible assets, net | 2,311 | 2,562
L0 Deferred income taxes | 63 | 77
L0 Investments | 983 | 975
L0 Other assets, net of accumulated amortization of $949 and $975 | 4,163 | 5,591
T0 Total assets | $137,100 | $138,552
H0 Liabilities and equity
L0 Accounts payable | $10,200 | $9,261
L0 Accrued liabilities | 21,581 | 18,455
L0 Advances and progress billings | 53,081 | 52,980
L0 Short-term debt and current portion of long-term debt | 5,190 | 1,296
T0 Total current liabilities | 90,052 | 81,992
L0 Deferred income taxes | 230 | 218
L0 Accrued retiree health care | 2,503 | 3,528
L0 Accrued pension plan liability, net | 6,141 | 9,104
L0 Other long-term liabilities | 2,211 | 1,750
L0 Long-term debt | 51,811 | 56,806
T0 Total liabilities | 152,948 | 153,398
H0 Shareholders' equity:
L1 Common stock, par value $5.00 - 1,200,000,000 shares authorized; 1,012,261,159 shares issued | 5,061 | 5,061
L1 Additional paid-in capital | 9,947 | 9,052
L1 Treasury stock, at cost | (50,814) | (51,861)
L1 Retained earnings | 29,473 | 34,408
L1 Accumulated other comprehensive loss | (9,550) | (11,659)
T0 Total shareholders' deficit | (15,883) | (14,999)
L0 Noncontrolling interests | 35 | 153
T0 Total equity | (15,848) | (14,846)
T0 Total liabilities and equity | $137,100 | $138,552
"""

COSTCO_INCOME = """
H0 REVENUE
L1 Net sales | $ 222,730 | $ 192,052 | $ 163,220
L1 Membership fees | 4,224 | 3,877 | 3,541
T0 Total revenue | 226,954 | 195,929 | 166,761
H0 OPERATING EXPENSES
L1 Merchandise costs | 199,382 | 170,684 | 144,939
L1 Selling, general and administrative | 19,779 | 18,537 | 16,387
T0 Operating income | 7,793 | 6,708 | 5,435
H0 OTHER INCOME (EXPENSE)
L1 Interest expense | (158) | (171) | (160)
L1 Interest income and other, net | 205 | 143 | 92
T0 INCOME BEFORE INCOME TAXES | 7,840 | 6,680 | 5,367
L0 Provision for income taxes | 1,925 | 1,601 | 1,308
T0 Net income including noncontrolling interests | 5,915 | 5,079 | 4,059
L0 Net income attributable to noncontrolling interests | (71) | (72) | (57)
T0 NET INCOME ATTRIBUTABLE TO COSTCO | $ 5,844 | $ 5,007 | $ 4,002
H0 NET INCOME PER COMMON SHARE ATTRIBUTABLE TO COSTCO:
L1p Basic | $ 13.17 | $ 11.30 | $ 9.05
L1p Diluted | $ 13.14 | $ 11.27 | $ 9.02
H0 Shares used in calculation (000's)
L1s Basic | 443,651 | 443,089 | 442,297
L1s Diluted | 444,757 | 444,346 | 443,901
"""

SALESFORCE_10Q = """
H0 Revenues:
L1 Subscription and support | $ 7,233 | $ 6,379 | $ 21,232 | $ 17,829
L1 Professional services and other | 604 | 484 | 1,736 | 1,337
T0 Total revenues | 7,837 | 6,863 | 22,968 | 19,166
H0 Cost of revenues:
L1 Subscription and support | 1,451 | 1,335 | 4,381 | 3,603
L1 Professional services and other | 637 | 509 | 1,879 | 1,409
T0 Total cost of revenues | 2,088 | 1,844 | 6,260 | 5,012
T0 Gross profit | 5,749 | 5,019 | 16,708 | 14,154
H0 Operating expenses:
L1 Research and development | 1,280 | 1,203 | 3,927 | 3,174
L1 Marketing and sales | 3,345 | 3,111 | 10,141 | 8,391
L1 General and administrative | 664 | 667 | 1,967 | 1,865
T0 Total operating expenses | 5,289 | 4,981 | 16,035 | 13,430
T0 Income from operations | 460 | 38 | 673 | 724
L0 Gains on strategic investments, net | 23 | 363 | 75 | 1,177
L0 Other expense | (8) | (102) | (121) | (172)
T0 Income before benefit from (provision for) income taxes | 475 | 299 | 627 | 1,729
L0 Benefit from (provision for) income taxes | (265) | 169 | (321) | (257)
T0 Net income | $ 210 | $ 468 | $ 306 | $ 1,472
L0p Basic net income per share | $ 0.21 | $ 0.48 | $ 0.31 | $ 1.56
L0p Diluted net income per share | $ 0.21 | $ 0.47 | $ 0.31 | $ 1.53
L0s Shares used in computing basic net income per share | 997 | 980 | 995 | 945
L0s Shares used in computing diluted net income per share | 1,000 | 1,001 | 1,001 | 964
"""

XPPOWER_IFRS = """
H0 ASSETS
H0 Current assets
L1 Cash and bank balances | 17.6 | 13.9
L1 Inventories | 59.5 | 71.1
L1 Trade receivables | 32.7 | 30.2
L1 Bond receivables | 46.9 | 39.2
L1 Other current assets | 6.3 | 5.6
L1 Current income tax receivables | 1.0 | 0.7
T0 Total current assets | 164.0 | 160.7
H0 Non-current assets
L1 Cash and bank balances | 1.3 | 1.5
L1 Goodwill | 71.9 | 73.2
L1 Intangible assets | 59.1 | 63.5
L1 Property, plant and equipment | 61.7 | 64.4
L1 Right-of-use assets | 47.9 | 51.8
L1 Deferred income tax assets | 0.9 | 1.0
L1 ESOP loans to employees | 0.1 | 0.1
T0 Total non-current assets | 242.9 | 255.5
T0 Total assets | 406.9 | 416.2
H0 LIABILITIES
H0 Current liabilities
L1 Accrued consideration | - | 0.8
L1 Current income tax liabilities | 0.7 | 0.4
L1 Trade and other payables | 40.4 | 40.8
L1 Lease liabilities | 1.7 | 1.6
L1 Provisions | 48.2 | 54.0
L1 Borrowings | 0.2 | 0.3
T0 Total current liabilities | 91.2 | 97.9
H0 Non-current liabilities
L1 Accrued consideration | 1.7 | 0.7
L1 Borrowings | 76.6 | 108.6
L1 Deferred income tax liabilities | 7.7 | 9.1
L1 Provisions | 1.2 | 1.3
L1 Lease liabilities | 49.3 | 52.7
T0 Total non-current liabilities | 136.5 | 172.4
T0 Total liabilities | 227.7 | 270.3
T0 NET ASSETS | 179.2 | 145.9
H0 EQUITY
H0 Equity attributable to equity holders of the Company
L1 Share capital | 110.8 | 71.2
L1 Merger reserve | 0.2 | 0.2
L1 Share-based payments reserve | 3.0 | 3.1
L1 Translation reserve | (7.5) | (2.6)
L1 Other reserve | 9.2 | 8.6
L1 Retained earnings | 62.9 | 64.8
T0  | 178.6 | 145.3
L0 Non-controlling interests | 0.6 | 0.6
T0 TOTAL EQUITY | 179.2 | 145.9
"""

LABEL_LESS_GROUPS = """
H0 Revenue
L1 Product | 100 | 90
L1 Service | 50 | 40
T1  | 150 | 130
H0 Cost of revenue
L1 Product | 40 | 35
L1 Service | 10 | 9
T1  | 50 | 44
T0 Gross profit | 100 | 86
"""

LESS_LINES = """
L0 Property and equipment, at cost | 500 | 450
L0 Less: accumulated depreciation | 200 | 150
T0 Property and equipment, net | 300 | 300
L0 Net income including noncontrolling interests | 120 | 100
L0 Less: net income attributable to noncontrolling interests | 20 | 10
T0 Net income attributable to the company | 100 | 90
"""

Q = [("2022-10-31", 3), ("2021-10-31", 3), ("2022-10-31", 9), ("2021-10-31", 9)]

CASES = [
    pytest.param("income_statement", AMEX_INCOME, years("2022-12-31", "2021-12-31", "2020-12-31"), {
        "Net interest income": ["+Total interest income", "-Total interest expense"],
        "Total revenues net of interest expense": ["+Total non-interest revenues", "+Net interest income"],
        "Pretax income": [
            "+Total revenues net of interest expense after provisions for credit losses", "-Total expenses"
        ],
    }, id="amex-10k-2022-p96-bank-revenues-net-of-interest-expense"),
    pytest.param("balance_sheet", BOEING_POSITION, years("2022-12-31", "2021-12-31", months=None), {
        "Total equity": ["+Total shareholders' deficit", "+Noncontrolling interests"],
        "Total liabilities and equity": ["+Total liabilities", "+Total equity"],
    }, id="boeing-10k-2022-p57-negative-equity-deficit"),
    pytest.param("income_statement", COSTCO_INCOME, years("2022-08-28", "2021-08-29", "2020-08-30"), {
        "Operating income": ["+Total revenue", "-Merchandise costs", "-Selling, general and administrative"],
        "NET INCOME ATTRIBUTABLE TO COSTCO": [
            "+Net income including noncontrolling interests", "+Net income attributable to noncontrolling interests"
        ],
    }, id="costco-10k-fy2022-p36-noncontrolling-interests"),
    pytest.param("income_statement", SALESFORCE_10Q, Q, {
        "Gross profit": ["+Total revenues", "-Total cost of revenues"],
    }, id="salesforce-10q-fy2023q3-p4-3-and-9-month-columns"),
    pytest.param("balance_sheet", XPPOWER_IFRS, years("2025-06-30", "2024-12-31", months=None), {
        "NET ASSETS": ["+Total assets", "-Total liabilities"],
        "TOTAL EQUITY": ["+", "+Non-controlling interests"],
    }, id="xppower-interim-2025h1-p15-ifrs-current-assets-first-label-less-subtotal"),
    pytest.param("income_statement", LABEL_LESS_GROUPS, years("2022-12-31", "2021-12-31"), {
        "Gross profit": ["+", "-"],
    }, id="synthetic-label-less-group-totals"),
    pytest.param("balance_sheet", LESS_LINES, years("2022-12-31", "2021-12-31", months=None), {
        "Property and equipment, net": ["+Property and equipment, at cost", "-Less: accumulated depreciation"],
        "Net income attributable to the company": [
            "+Net income including noncontrolling interests",
            "-Less: net income attributable to noncontrolling interests",
        ],
    }, id="synthetic-less-lines"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "text", "periods", "expected"), CASES)
def test_every_total_foots_with_the_components_the_layout_implies(type_, text, periods, expected):
    result = verify_statement(statement(type_, text, periods=periods))
    assert failed(result) == []
    assert result.verified
    totals = {i for i, it in enumerate(result.items) if it.kind == "total"}
    assert totals <= footed_rows(result)
    for label, wanted in expected.items():
        assert components(result, label) == wanted


def test_eps_is_checked_with_shares_in_thousands_and_money_in_millions():
    result = verify_statement(
        statement("income_statement", COSTCO_INCOME, periods=years("2022-08-28", "2021-08-29", "2020-08-30"))
    )
    eps = [c for c in result.checks if c.rule == "eps"]
    assert len(eps) == 6 and all(c.ok for c in eps)
    assert eps[0].components == ["NET INCOME ATTRIBUTABLE TO COSTCO", "Basic"]


def test_eps_uses_the_shares_unit_the_parser_states():
    income = statement(
        "income_statement", COSTCO_INCOME, periods=years("2022-08-28", "2021-08-29", "2020-08-30")
    )
    items = [
        it.model_copy(update={"unit": "units"}) if it.value_kind == "shares" else it for it in income.items
    ]
    result = verify_statement(income.model_copy(update={"items": items}))
    assert [c.ok for c in result.checks if c.rule == "eps"] == [False] * 6


def test_eps_divides_net_income_attributable_to_common_shareholders():
    result = verify_statement(
        statement("income_statement", AMEX_INCOME, periods=years("2022-12-31", "2021-12-31", "2020-12-31"))
    )
    eps = [c for c in result.checks if c.rule == "eps"]
    assert len(eps) == 6 and all(c.ok for c in eps)
    assert {c.components[0] for c in eps} == {"Net income attributable to common shareholders"}


def test_eps_misread_without_decimal_point_is_never_absorbed_by_a_unit_guess():
    text = SALESFORCE_10Q.replace("$ 1.56", "$ 156").replace("$ 1.53", "$ 153")
    result = verify_statement(statement("income_statement", text, periods=Q))
    assert {(r.row, r.reading, str(r.value)) for r in result.repairs or []} == {
        ("Basic net income per share", "156", "1.56"),
        ("Diluted net income per share", "153", "1.53"),
    }


class TestTotalsWithoutComponents:
    def test_a_total_with_nothing_above_it_is_unfooted_and_fails(self):
        result = verify_statement(
            statement("balance_sheet", "T0 Total assets | 100", periods=years("2022-12-31"))
        )
        assert [c.rule for c in result.checks] == ["unfooted"]
        assert not result.verified

    def test_a_total_that_does_not_foot_fails_with_its_structural_components(self):
        text = "L0 Cash | 10\nL0 Receivables | 20\nT0 Total current assets | 31"
        result = verify_statement(statement("balance_sheet", text, periods=years("2022-12-31")))
        (check,) = result.checks
        assert (check.rule, check.ok, check.components, str(check.computed)) == (
            "sum",
            False,
            ["Cash", "Receivables"],
            "30",
        )
        assert not result.verified

    def test_a_fallback_reading_one_misread_away_from_the_first_is_refused(self):
        # the first reading (all three lines) misses by one unit in one column; the two nearest lines
        # happen to foot, but that is a wrong number, not a different structure
        text = "H0 Assets\nL1 A | 1 | 5\nL1 B | 10 | 7\nL1 C | 20 | 9\nT0 Total assets | 30 | 21"
        result = verify_statement(statement("balance_sheet", text, periods=years("2022-12-31", "2021-12-31")))
        assert not result.verified

    def test_an_opening_balance_printed_as_a_total_is_not_a_total(self):
        text = "L0 Net income | 5 | 4\nT0 Cash at beginning of year | 10 | 6"
        result = verify_statement(statement("cash_flow", text, periods=years("2022-12-31", "2021-12-31")))
        assert [c.rule for c in result.checks if c.rule in ("sum", "unfooted")] == []


class TestSignsOfContraLines:
    TEXT = "L0 Revenue | 100\nL0 Cost of revenue | 40\nT0 Gross profit | 60"

    def test_a_text_layer_cost_printed_positive_is_subtracted(self):
        result = verify_statement(statement("income_statement", self.TEXT, periods=years("2022-12-31")))
        assert result.verified and components(result, "Gross profit") == ["+Revenue", "-Cost of revenue"]

    def test_one_ocr_column_cannot_tell_a_subtracted_cost_from_a_lost_parenthesis(self):
        income = statement("income_statement", self.TEXT, periods=years("2022-12-31"))
        ocr = income.model_copy(update={"text_source": income.text_source.model_copy(update={"ocr": True})})
        result = verify_statement(ocr)
        assert not result.verified and not result.repairs

    def test_several_ocr_columns_settle_the_sign(self):
        text = "L0 Revenue | 100 | 90\nL0 Cost of revenue | 40 | 30\nT0 Gross profit | 60 | 60"
        income = statement("income_statement", text, periods=years("2022-12-31", "2021-12-31"))
        ocr = income.model_copy(update={"text_source": income.text_source.model_copy(update={"ocr": True})})
        assert verify_statement(ocr).verified


def test_per_share_rows_are_never_summed_with_money():
    text = "L0 Revenue | 100\nL0p Basic | 1.00\nL0 Cost | 40\nT0 Gross profit | 60"
    result = verify_statement(statement("income_statement", text, periods=years("2022-12-31")))
    assert components(result, "Gross profit") == ["+Revenue", "-Cost"]
