"""Synthetic pages → detected statements, as tables named after the filing the pattern came from."""

from __future__ import annotations

import pytest

from app.detection.detect import detect_statements
from app.detection.lines import read_page
from app.detection.lookalikes import page_signals
from app.extraction.source import PageText
from tests.detection.pages import dedent, make_pages
from tests.detection.samples import (
    BALANCE,
    BALANCE_ROWS,
    BLANK,
    BS,
    CASH_FLOW,
    CASH_FLOW_ROWS,
    CF,
    CI,
    COMPREHENSIVE,
    EQ,
    EQUITY,
    EQUITY_ROWS,
    FOOTER,
    INCOME,
    INCOME_ROWS,
    IS,
    NOTES,
    OCI_ROWS,
    four,
    statement,
)


def found(pages) -> list[tuple[str, tuple[int, ...]]]:
    return [(d.type, d.pages) for d in detect_statements(pages)]


LOOK_ALIKES = {
    "nvidia-10k p36: exhibit index listing the statements with page numbers": """
        PART IV
        ITEM 15. EXHIBITS, FINANCIAL STATEMENT SCHEDULE
        Page
        (a) 1. Financial Statements
        Report of Independent Registered Public Accounting Firm 37
        Consolidated Statements of Income for the years ended January 26, 2020, January 27, 2019 39
        Consolidated Statements of Comprehensive Income for the years ended January 26, 2020 40
        Consolidated Balance Sheets as of January 26, 2020 and January 27, 2019 41
        Consolidated Statements of Shareholders' Equity for the years ended January 26, 2020 42
        Consolidated Statements of Cash Flows for the years ended January 26, 2020 43
        Notes to the Consolidated Financial Statements 45
    """,
    "amex-10k p95: index to consolidated financial statements": """
        INDEX TO CONSOLIDATED FINANCIAL STATEMENTS
        CONSOLIDATED FINANCIAL STATEMENTS PAGE
        Consolidated Statements of Income - For the Years Ended December 31, 2022, 2021 and 2020 93
        Consolidated Balance Sheets - December 31, 2022 and 2021 95
        NOTES TO CONSOLIDATED FINANCIAL STATEMENTS 98
        Note 1 - Summary of Significant Accounting Policies 98
        Note 2 - Loans and Card Member Receivables 104
    """,
    "salesforce-10q p2: table of contents of a 10-Q": """
        INDEX
        Page No.
        PART I. FINANCIAL INFORMATION
        Item 1. Financial Statements:
        Condensed Consolidated Balance Sheets as of October 31, 2022 and January 31, 2022 3
        Condensed Consolidated Statements of Operations for the three and nine months ended October 31, 2022 4
        Condensed Consolidated Statements of Cash Flows for the nine months ended October 31, 2022 7
        Item 2. Management's Discussion and Analysis of Financial Condition and Results of Operations 29
    """,
    "nvidia-10k p28: MD&A percent-of-revenue table under a statements heading": """
        Results of Operations
        Consolidated Statements of Income (as a percentage of revenue)
        Year Ended January 26, 2020 January 27, 2019
        Revenue 100.0 % 100.0 %
        Cost of revenue 38.0 38.8
        Gross profit 62.0 61.2
        Research and development 25.9 20.3
        Total operating expenses 35.9 28.8
        Income from operations 26.1 32.4
        Income before income tax expense 27.2 33.3
        Net income 25.6 % 35.3 %
    """,
    "nvidia-10k p29: MD&A operating expenses with $ and % change": """
        Operating Expenses
        January 26, 2020 January 27, 2019 $ Change % Change
        Research and development expenses $ 2,829 $ 2,376 $ 453 19%
        % of net revenue 25.9% 20.3%
        Total operating expenses $ 3,922 $ 3,367 $ 555 16%
    """,
    "amex-10k p54: MD&A segment table of selected income statement data": """
        TABLE 9: USCS SELECTED INCOME STATEMENT DATA
        Years Ended December 31 (Millions, except percentages) 2022 2021 Change
        Total non-interest revenues $ 24,190 $ 19,510 $ 4,680 24 %
        Total revenues net of interest expense 30,287 24,479 5,808 24
        Pretax segment income $ 5,606 $ 7,196 $ (1,590) (22)%
    """,
    "fanmilk p51: five-year summary with statement headings": """
        FIVE-YEAR FINANCIAL SUMMARY
        In thousands of Ghana Cedi 2024 2023 2022 2021 2020
        Statement of profit or loss
        Revenue 1,201,442 980,115 701,220 530,118 480,002
        Cost of sales (901,331) (742,009) (540,817) (400,551) (350,117)
        Gross profit 300,111 238,106 160,403 129,567 129,885
        Profit before tax 60,214 41,771 22,109 9,330 8,001
        Statement of financial position
        Total assets 901,223 780,001 690,114 600,224 590,118
        Total liabilities 500,101 430,338 380,002 320,117 310,552
    """,
    "costco-10k p35: auditor's report naming the statements in prose": """
        REPORT OF INDEPENDENT REGISTERED PUBLIC ACCOUNTING FIRM
        To the Stockholders and Board of Directors
        We have audited the accompanying consolidated balance sheets of Costco Wholesale Corporation and
        subsidiaries (the Company) as of August 28, 2022, and August 29, 2021, the related consolidated
        statements of income, comprehensive income, equity, and cash flows for each of the 52-week periods
        ended August 28, 2022, August 29, 2021, and August 30, 2020, and the related notes.
        In our opinion, the consolidated financial statements present fairly, in all material respects,
    """,
    "boeing-10k p112: note table introduced by a statements phrase": """
        Notes to the Consolidated Financial Statements
        Statements of Financial Position at December 31 were as follows:
        2022 2021
        Customer financing $ 1,450 $ 1,629
        Total assets 2,000 2,110
        Total liabilities 1,230 1,301
    """,
    "nvidia-10k p59: notes page with a balance sheet components table": """
        Table of Contents
        NVIDIA Corporation and Subsidiaries
        Notes to the Consolidated Financial Statements
        (Continued)
        Note 12 - Balance Sheet Components
        Certain balance sheet components are as follows:
        January 26, 2020 January 27, 2019
        Inventories:
        Raw materials $ 249 $ 613
        Work in-process 265 238
        Finished goods 465 724
        Total inventories $ 979 $ 1,575
    """,
    "amex-10k p156: parent-company statements printed inside Note 25": """
        NOTE 25
        PARENT COMPANY
        PARENT COMPANY - CONDENSED BALANCE SHEETS
        As of December 31 (Millions) 2022 2021
        Cash and cash equivalents $ 8,188 $ 5,341
        Total assets 57,046 47,177
        Total liabilities 32,335 25,000
        Total shareholders' equity 24,711 22,177
        Total liabilities and shareholders' equity $ 57,046 $ 47,177
    """,
    "fanmilk p2: annual-report contents with dot leaders": """
        Fan Milk PLC
        Annual Report 2024
        Corporate information ........ 3
        Chairman's statement ........ 4
        Report of the directors ........ 6
        Corporate governance report ........ 9
        Independent auditor's report ........ 13
        Statement of profit or loss and other comprehensive income ........ 17
        Statement of financial position ........ 18
        Statement of changes in equity ........ 19
        Statement of cash flows ........ 20
        Notes to the financial statements ........ 21
        Five-year financial summary 2020 - 2024 ........ 51
    """,
    "amex-10k p104: accounting-policy note headed BALANCE SHEET": """
        BALANCE SHEET
        Cash and Cash Equivalents
        Cash and cash equivalents include cash and amounts due from banks, interest-bearing bank balances,
        including securities purchased under resale agreements, restricted cash, and other highly liquid
        investments with original maturities of 90 days or less. Restricted cash primarily represents amounts
    """,
}


@pytest.mark.parametrize("text", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alike_pages_yield_no_statement(text: str) -> None:
    assert found(make_pages(text)) == []


# The signal each look-alike raises; None where the title grammar alone refuses the page.
SIGNALS = {
    "nvidia-10k p36: exhibit index listing the statements with page numbers": "index_page",
    "amex-10k p95: index to consolidated financial statements": "index_page",
    "salesforce-10q p2: table of contents of a 10-Q": "index_page",
    "nvidia-10k p28: MD&A percent-of-revenue table under a statements heading": "percent_table",
    "nvidia-10k p29: MD&A operating expenses with $ and % change": "mdna_table",
    "amex-10k p54: MD&A segment table of selected income statement data": "selected_data",
    "fanmilk p51: five-year summary with statement headings": "selected_data",
    "costco-10k p35: auditor's report naming the statements in prose": "auditor_report",
    "boeing-10k p112: note table introduced by a statements phrase": "notes_heading",
    "nvidia-10k p59: notes page with a balance sheet components table": "notes_heading",
    "amex-10k p156: parent-company statements printed inside Note 25": "notes_heading",
    "fanmilk p2: annual-report contents with dot leaders": "index_page",
    "amex-10k p104: accounting-policy note headed BALANCE SHEET": None,
}


@pytest.mark.parametrize(("name", "signal"), SIGNALS.items(), ids=SIGNALS.keys())
def test_look_alike_pages_raise_their_signal(name: str, signal: str | None) -> None:
    signals = page_signals(read_page(1, dedent(LOOK_ALIKES[name])))
    assert signal in signals if signal else signals == {}


TITLES = {
    "nvidia-10k p39: statements of income": ("CONSOLIDATED STATEMENTS OF INCOME", INCOME_ROWS, IS),
    "boeing-10k p55: statements of operations": ("Consolidated Statements of Operations", INCOME_ROWS, IS),
    "amex-10k p96: statements of income for a bank": (
        "CONSOLIDATED STATEMENTS OF INCOME",
        "Year Ended December 31 (Millions, except per share amounts) 2022 2021 2020\n"
        "Total non-interest revenues 42,967 34,630 28,102\nInterest expense 3,101 1,283 2,088\n"
        "Pretax income 9,585 10,689 4,296\nIncome tax provision 2,071 2,629 1,161",
        IS,
    ),
    "xppower p14: UK income statement": ("Condensed Consolidated Income Statement", INCOME_ROWS, IS),
    "startup 10-K: operations and comprehensive loss in one statement": (
        "Consolidated Statements of Operations and Comprehensive Loss",
        INCOME_ROWS + OCI_ROWS,
        IS,
    ),
    "fanmilk p17: IFRS profit or loss and OCI in one statement": (
        "Statement of Profit or Loss and Other Comprehensive Income",
        INCOME_ROWS + OCI_ROWS,
        IS,
    ),
    "UK Companies Act: profit and loss account": ("Group Profit and Loss Account", INCOME_ROWS, IS),
    "sevenad p32: comprehensive income title over profit or loss rows": (
        "STATEMENTS OF COMPREHENSIVE INCOME",
        INCOME_ROWS + OCI_ROWS,
        IS,
    ),
    "nvidia-10k p40: separate statement of comprehensive income": (
        "CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME",
        "(In millions)\nNet income $ 2,796 $ 4,141\n" + OCI_ROWS,
        CI,
    ),
    "salesforce-10q p5: comprehensive income (loss)": (
        "Condensed Consolidated Statements of Comprehensive Income (Loss)",
        "Net income $ 210 $ 468\n" + OCI_ROWS,
        CI,
    ),
    "nvidia-10k p41: balance sheets": ("CONSOLIDATED BALANCE SHEETS", BALANCE_ROWS, BS),
    "boeing-10k p57: US GAAP statements of financial position": (
        "Consolidated Statements of Financial Position",
        BALANCE_ROWS,
        BS,
    ),
    "sevenad p5: IFRS-style statements of financial position": (
        "STATEMENTS OF FINANCIAL POSITION",
        BALANCE_ROWS,
        BS,
    ),
    "bank 10-K: statements of financial condition": (
        "Consolidated Statements of Financial Condition",
        BALANCE_ROWS,
        BS,
    ),
    "patriot-10k p25: title with its date on the same line": (
        "CONSOLIDATED BALANCE SHEETS - As of September 30",
        BALANCE_ROWS,
        BS,
    ),
    "xppower p17: IFRS statement of cash flows": (
        "Condensed Consolidated Statement of Cash Flows",
        CASH_FLOW_ROWS,
        CF,
    ),
    "xppower p16: IFRS statement of changes in equity": ("Statement of Changes in Equity", EQUITY_ROWS, EQ),
    "costco-10k p39: statements of equity": ("CONSOLIDATED STATEMENTS OF EQUITY", EQUITY_ROWS, EQ),
    "distressed 10-K: stockholders' deficit": (
        "Consolidated Statements of Stockholders' Deficit",
        EQUITY_ROWS,
        EQ,
    ),
    "small-company 10-K: entity and title on one line": (
        "NVIDIA Corporation and Subsidiaries Consolidated Statements of Income",
        INCOME_ROWS,
        IS,
    ),
    "private company: income and retained earnings": (
        "Statements of Income and Retained Earnings",
        INCOME_ROWS,
        IS,
    ),
    "older 10-K: changes in stockholders' equity and comprehensive income": (
        "Consolidated Statements of Changes in Stockholders' Equity and Comprehensive Income",
        EQUITY_ROWS,
        EQ,
    ),
    "salesforce-10q p6: curly apostrophe": (
        "Condensed Consolidated Statements of Stockholders’ Equity",
        EQUITY_ROWS,
        EQ,
    ),
}


@pytest.mark.parametrize(("title", "rows", "kind"), TITLES.values(), ids=TITLES.keys())
def test_title_gives_the_type(title: str, rows: str, kind: str) -> None:
    assert found(make_pages(statement(title, rows))) == [(kind, (1,))]


PAGE_RUNS = {
    "nvidia-10k p43-44: cash flow rows continue on an untitled page": (
        [
            CASH_FLOW,
            """Year Ended
            January 26, 2020 January 27, 2019
            Supplemental disclosures of cash flow information:
            Cash paid for income taxes, net $ 176 $ 61
            Cash paid for interest $ 54 $ 55
            See accompanying notes to the consolidated financial statements.""",
            NOTES,
        ],
        [(CF, (1, 2))],
    ),
    "pge-10q p44-45: balance sheet title repeated without (continued)": (
        [
            statement("CONSOLIDATED BALANCE SHEETS", BALANCE_ROWS, entity="PG&E CORPORATION"),
            """PG&E CORPORATION
            CONSOLIDATED BALANCE SHEETS
            LIABILITIES AND EQUITY
            Short-term borrowings $ 1,795 $ 2,184
            Total current liabilities 15,013 15,101
            Total equity 22,486 21,223
            TOTAL LIABILITIES AND EQUITY $ 117,012 $ 103,327""",
        ],
        [(BS, (1, 2))],
    ),
    "small AFS: balance sheet title repeated with (continued)": (
        [BALANCE, BALANCE.replace("SHEETS", "SHEETS (Continued)")],
        [(BS, (1, 2))],
    ),
    "salesforce-10q p7-8: supplemental disclosure under the repeated cash flow title": (
        [
            CASH_FLOW,
            statement(
                "CONSOLIDATED STATEMENTS OF CASH FLOWS",
                """Supplemental Cash Flow Disclosure
                (in millions)
                Three Months Ended October 31, Nine Months Ended October 31,
                Cash paid during the period for:
                Interest $ 22 $ 20 $ 162 $ 139
                Income taxes, net of tax refunds $ 166 $ 87 $ 484 $ 253""",
            ),
        ],
        [(CF, (1,))],
    ),
    "SEC-rendered 10-K: the balance sheet (Parenthetical) page is not a continuation": (
        [
            BALANCE,
            statement(
                "CONSOLIDATED BALANCE SHEETS (Parenthetical)",
                """(In millions, except par value)
                Preferred stock, par value $ 0.001 $ 0.001
                Common stock, shares authorized 2,000 2,000
                Common stock, shares issued 955 945""",
            ),
        ],
        [(BS, (1,))],
    ),
    "boeing-10k p57-59: blank page between balance sheet and cash flows": (
        [BALANCE, BLANK, CASH_FLOW, NOTES],
        [(BS, (1,)), (CF, (3,))],
    ),
    "10-K schedule II after the equity statement is not its continuation": (
        [
            EQUITY + "See accompanying notes to the consolidated financial statements.",
            """SCHEDULE II - VALUATION AND QUALIFYING ACCOUNTS
            Balance at Beginning of Period Additions Deductions Balance at End of Period
            Allowance for doubtful accounts $ 4 $ 2 $ (1) $ 5
            Sales return allowance 53 1,189 (1,138) 104""",
        ],
        [(EQ, (1,))],
    ),
    "boeing-10k p61-62: an untitled table after the statement's closing note is not its rows": (
        [
            BALANCE,
            """Years ended December 31, 2022 2021
            Commercial Airplanes $ 25,867 $ 19,493
            Defense, Space & Security 23,162 26,540
            Global Services 17,611 16,328""",
        ],
        [(BS, (1,))],
    ),
    "patriot-10k p26: income statement and comprehensive income on one page": (
        [
            statement("CONSOLIDATED STATEMENTS OF INCOME - Years ended September 30", INCOME_ROWS)
            + "CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME - Years ended September 30 (In\nthousands)\n"
            + "Net income $ 2,673 7,190\n"
            + dedent(OCI_ROWS),
            EQUITY,
        ],
        [(IS, (1,)), (CI, (1,)), (EQ, (2,))],
    ),
    "annual report: income statement runs onto the page where comprehensive income starts": (
        [
            INCOME.removesuffix(FOOTER),
            "Net income attributable to owners 2,796 4,141\nBasic $ 4.59 $ 6.81\n"
            "CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME\n(In millions)\nNet income $ 2,796 $ 4,141\n"
            + dedent(OCI_ROWS),
        ],
        [(IS, (1, 2)), (CI, (2,))],
    ),
    "costco-10k p36-41: five statements in order, then notes": (
        [INCOME, COMPREHENSIVE, BALANCE, EQUITY, CASH_FLOW, NOTES],
        [(IS, (1,)), (CI, (2,)), (BS, (3,)), (EQ, (4,)), (CF, (5,))],
    ),
}


@pytest.mark.parametrize(("texts", "expected"), PAGE_RUNS.values(), ids=PAGE_RUNS.keys())
def test_pages_of_each_statement(texts: list[str], expected: list) -> None:
    assert found(make_pages(*texts)) == expected


class TestSetsOfStatements:
    def test_pge_two_registrants_give_two_sets_named_by_their_headings(self) -> None:
        corp, utility = four("PG&E CORPORATION"), four("PACIFIC GAS AND ELECTRIC COMPANY")
        detections = detect_statements(make_pages(*corp, *utility))
        assert [(d.type, d.pages, d.set_index) for d in detections] == [
            (IS, (1,), 1),
            (BS, (2,), 1),
            (CF, (3,), 1),
            (EQ, (4,), 1),
            (IS, (5,), 2),
            (BS, (6,), 2),
            (CF, (7,), 2),
            (EQ, (8,), 2),
        ]
        assert {d.entity for d in detections} == {"PG&E CORPORATION", "PACIFIC GAS AND ELECTRIC COMPANY"}

    def test_sevenad_two_fiscal_years_bound_together(self) -> None:
        year = four("SEVEN A.D. INC.")
        detections = detect_statements(make_pages(*year, NOTES, NOTES, *year, NOTES))
        assert [(d.pages, d.set_index) for d in detections if d.type == BS] == [((2,), 1), ((8,), 2)]
        assert {d.entity for d in detections} == {"SEVEN A.D. INC."}

    def test_a_surer_stray_statement_still_loses_to_the_set(self) -> None:
        """amex-10k p157: the run holding all five statements wins a near tie."""
        thin = """(In millions)
            Net income $ 2,796 $ 4,141
            Depreciation and amortization 381 262
            Stock-based compensation expense 844 557
            Inventories 597 (776)
            Accounts payable 194 (135)
            Net cash provided by operating activities 4,761 3,743
            Proceeds from maturities of marketable securities 4,744 7,232
            Proceeds related to employee stock plans 149 137
            Change in cash and cash equivalents 10,114 (3,220)
            Cash at the close of the period $ 10,896 $ 782"""
        pages = make_pages(
            INCOME,
            COMPREHENSIVE,
            BALANCE,
            statement("CONSOLIDATED STATEMENTS OF CASH FLOWS", thin),
            EQUITY,
            *[NOTES] * 5,
            statement("PARENT COMPANY - CONDENSED STATEMENTS OF CASH FLOWS", CASH_FLOW_ROWS),
        )
        (cash_flow,) = [d for d in detect_statements(pages) if d.type == CF]
        assert cash_flow.pages == (4,)
        assert cash_flow.evidence["rejected"][0]["score"] > cash_flow.evidence["score"]

    def test_amex_stray_statement_away_from_the_set_is_a_rejected_alternative(self) -> None:
        parent = CASH_FLOW.replace("CONSOLIDATED STATEMENTS", "PARENT COMPANY - CONDENSED STATEMENTS")
        pages = make_pages(INCOME, COMPREHENSIVE, BALANCE, CASH_FLOW, EQUITY, *[NOTES] * 5, parent)
        detections = detect_statements(pages)
        assert [(d.type, d.pages) for d in detections] == [
            (IS, (1,)),
            (CI, (2,)),
            (BS, (3,)),
            (CF, (4,)),
            (EQ, (5,)),
        ]
        cash_flow = detections[3]
        assert [(r["page"], r["title"]) for r in cash_flow.evidence["rejected"]] == [
            (11, "PARENT COMPANY - CONDENSED STATEMENTS OF CASH FLOWS")
        ]
        assert cash_flow.entity is None and cash_flow.set_index is None


class TestEvidence:
    def test_evidence_names_title_anchors_and_unit(self) -> None:
        (detection,) = detect_statements(make_pages(BALANCE))
        assert detection.title == "CONSOLIDATED BALANCE SHEETS"
        assert 0.9 <= detection.confidence <= 1.0
        assert "Total assets $ 17,315 $ 13,292" in detection.evidence["anchors"]
        assert detection.evidence["unit"] == "(In millions, except par value)"
        assert detection.evidence["lowered_by"] == {}

    def test_signals_that_lowered_the_score_are_listed(self) -> None:
        prose = "The Company prepares this statement under the historical cost convention as stated here.\n"
        (detection,) = detect_statements(make_pages(statement("BALANCE SHEETS", BALANCE_ROWS + prose * 20)))
        assert detection.evidence["lowered_by"] == {"prose": 0.2}
        assert detection.confidence < 1.0

    def test_spans_split_two_statements_printed_on_one_page(self) -> None:
        """patriot-10k p26: the parser needs to know where the income statement stops."""
        page = (
            INCOME
            + "CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME\nNet income $ 2,673 7,190\n"
            + dedent(OCI_ROWS)
        )
        title_line = len(INCOME.splitlines()) + 1
        income, comprehensive = detect_statements(make_pages(page))
        assert income.evidence["spans"] == [{"page": 1, "first_line": 1, "last_line": title_line - 1}]
        assert comprehensive.evidence["spans"] == [
            {"page": 1, "first_line": title_line, "last_line": len(page.splitlines())}
        ]

    def test_continuation_is_explained(self) -> None:
        pages = make_pages(BALANCE, BALANCE.replace("SHEETS", "SHEETS (continued)"))
        (detection,) = detect_statements(pages)
        assert detection.evidence["continuation"] == [{"page": 2, "how": "title continued"}]


class TestInput:
    def test_no_pages(self) -> None:
        assert detect_statements([]) == []

    def test_one_page_pdf_holding_one_statement(self) -> None:
        """nvidia-fy2020-balance-sheet-scanned.pdf: a single page, nothing else."""
        assert found(make_pages(BALANCE)) == [(BS, (1,))]

    def test_pages_in_any_order_and_only_candidate_pages(self) -> None:
        pages = make_pages(INCOME, NOTES, BALANCE)
        assert found([pages[2], pages[0]]) == [(IS, (1,)), (BS, (3,))]

    def test_ocr_text_that_lost_the_spaces_between_words(self) -> None:
        """fanmilk p17 through rapidocr: the title and some labels run together."""
        text = """STATEMENTOFPROFITORLOSSANDOTHERCOMPREHENSIVEINCOME
        FORTHEYEARENDED31DECEMBER2024
        (All amounts are expressed in thousands of Ghana Cedi unless otherwise stated)
        Revenue 683,822 549,416
        Cost of sales (435,537) (378,144)
        Gross Profit 248,285 171,272
        Profitbeforeincometax 72,921 37,055
        Incometaxexpense (21,643) (12,426)
        Profit for the year 49,455 24,012"""
        (detection,) = detect_statements([PageText(page=17, text=dedent(text), ocr=True)])
        assert (detection.type, detection.pages) == (IS, (17,))
        assert "Profitbeforeincometax 72,921 37,055" in detection.evidence["anchors"]

    def test_text_layer_title_without_spaces(self) -> None:
        assert found(make_pages(statement("STATEMENTOFCASHFLOWS", CASH_FLOW_ROWS))) == [(CF, (1,))]

    def test_pipe_grid_text(self) -> None:
        grid = "\n".join(
            f"| {line} |" if any(ch.isdigit() for ch in line) else line for line in BALANCE.splitlines()
        )
        assert found(make_pages("+-----+-----+\n" + grid)) == [(BS, (1,))]
