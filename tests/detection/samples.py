"""Statement pages for detection tests, modelled on NVIDIA's FY2020 10-K (pages 39-45)."""

from __future__ import annotations

from tests.detection.pages import dedent

IS, CI, BS, CF, EQ = (
    "income_statement",
    "comprehensive_income",
    "balance_sheet",
    "cash_flow",
    "shareholders_equity",
)

INCOME_ROWS = """
    (In millions, except per share data)
    Year Ended
    January 26, 2020 January 27, 2019
    Revenue $ 10,918 $ 11,716
    Cost of revenue 4,150 4,545
    Gross profit 6,768 7,171
    Total operating expenses 3,922 3,367
    Income from operations 2,846 3,804
    Income before income tax 2,970 3,896
    Income tax expense (benefit) 174 (245)
    Net income $ 2,796 $ 4,141
    Basic $ 4.59 $ 6.81
"""
OCI_ROWS = """
    Other comprehensive income (loss), net of tax
    Net unrealized gain (loss) 8 10
    Reclassification adjustments for net realized gain included in net income — 1
    Other comprehensive income (loss), net of tax 13 6
    Total comprehensive income $ 2,809 $ 4,147
"""
BALANCE_ROWS = """
    (In millions, except par value)
    January 26, 2020 January 27, 2019
    ASSETS
    Cash and cash equivalents $ 10,896 $ 782
    Accounts receivable, net 1,657 1,424
    Inventories 979 1,575
    Total current assets 13,690 10,557
    Goodwill 618 618
    Total assets $ 17,315 $ 13,292
    Accounts payable $ 687 $ 511
    Total current liabilities 1,784 1,329
    Total liabilities 5,111 3,950
    Retained earnings 14,971 12,565
    Total shareholders' equity 12,204 9,342
    Total liabilities and shareholders' equity $ 17,315 $ 13,292
"""
CASH_FLOW_ROWS = """
    (In millions)
    Cash flows from operating activities:
    Net income $ 2,796 $ 4,141
    Adjustments to reconcile net income to net cash provided by operating activities:
    Depreciation and amortization 381 262
    Net cash provided by operating activities 4,761 3,743
    Purchases of property and equipment and intangible assets (489) (600)
    Net cash provided by (used in) investing activities 6,145 (4,097)
    Dividends paid (390) (371)
    Net cash used in financing activities (792) (2,866)
    Change in cash and cash equivalents 10,114 (3,220)
    Cash and cash equivalents at beginning of period 782 4,002
    Cash and cash equivalents at end of period $ 10,896 $ 782
"""
EQUITY_ROWS = """
    (In millions) Shares Amount Capital Earnings Total
    Balances, January 28, 2018 606 1 5,351 8,787 7,471
    Net income — — — 4,141 4,141
    Issuance of common stock from stock plans 13 — 137 — 137
    Cash dividends declared and paid ($0.610 per common share) — — — (371) (371)
    Stock-based compensation — — 561 — 561
    Balances, January 27, 2019 606 1 6,051 12,565 9,342
"""
FOOTER = "See accompanying notes to the consolidated financial statements.\n"


def statement(title: str, rows: str, *, entity: str = "NVIDIA CORPORATION AND SUBSIDIARIES") -> str:
    """A statement page as PDFium prints it: the link line, entity, title, rows."""
    return f"Table of Contents\n{entity}\n{title}\n{dedent(rows)}\n"


INCOME = statement("CONSOLIDATED STATEMENTS OF INCOME", INCOME_ROWS) + FOOTER
COMPREHENSIVE = statement(
    "CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME",
    "(In millions)\nNet income $ 2,796 $ 4,141\n" + OCI_ROWS,
)
BALANCE = statement("CONSOLIDATED BALANCE SHEETS", BALANCE_ROWS) + FOOTER
CASH_FLOW = statement("CONSOLIDATED STATEMENTS OF CASH FLOWS", CASH_FLOW_ROWS)
EQUITY = statement("CONSOLIDATED STATEMENTS OF SHAREHOLDERS' EQUITY", EQUITY_ROWS) + FOOTER
NOTES = """
    NOTES TO CONSOLIDATED FINANCIAL STATEMENTS
    Note 1 - Organization and Summary of Significant Accounting Policies
    Our Company
    Headquartered in Santa Clara, California, NVIDIA was incorporated in California in April 1993 and
    reincorporated in Delaware in April 1998. All references to "NVIDIA," "we," "us," "our" or the "Company"
    mean NVIDIA Corporation and its subsidiaries, except where it is made clear that the term means only the
    parent company. The consolidated financial statements include the accounts of NVIDIA and its subsidiaries.
"""
BLANK = "\n"


def four(entity: str) -> list[str]:
    """Income statement, balance sheet, cash flows and equity headed by `entity`."""
    return [
        statement(title, rows, entity=entity)
        for title, rows in (
            ("CONSOLIDATED STATEMENTS OF INCOME", INCOME_ROWS),
            ("CONSOLIDATED BALANCE SHEETS", BALANCE_ROWS),
            ("CONSOLIDATED STATEMENTS OF CASH FLOWS", CASH_FLOW_ROWS),
            ("CONSOLIDATED STATEMENTS OF EQUITY", EQUITY_ROWS),
        )
    ]
