"""Statement-type rules beyond footing: balance sheet equation, cash roll-forward, equity matrix.

Input: a `Statement`, the row indexes footing already proved, and footing's spans. Output: `Finding`s.
Invariants:
- Balance sheet: total assets = total liabilities and equity (any caption naming liabilities and
  equity, deficit or capital), per column.
- Cash flow: net change = operating + investing + financing (+ exchange-rate effect) and ending =
  beginning + net change, each only where footing has not already proved that row; beginning cash of a
  period = ending cash of the column whose period ends when it starts (within a week: 52/53-week years).
  Beginning and ending rows are paired only when their captions match once "at beginning/end of
  year" is dropped, so "including restricted cash" is never tied to plain cash.
- Equity matrix (component columns, a Total column first or last): Total = sum of the component
  columns for every row, share-count columns excluded; a chain of Total columns (parent total, then
  noncontrolling interests, then total equity) takes the nearer total as a component.
- Equity roll-forward for balance rows printed as lines: balance = previous balance + rows between.
- Rows are matched by caption only when the caption says what they are; otherwise nothing is recorded.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from app.statements.format import Check, Statement
from app.verification.findings import Finding, has_values, sum_finding, value_at
from app.verification.labels import normalize, words
from app.verification.structure import Span, is_opening

_SECTIONS = ("operating", "investing", "financing")
_WEEK = timedelta(days=7)


def _rows(statement: Statement, predicate) -> list[int]:
    return [
        i
        for i, item in enumerate(statement.items)
        if item.kind != "header"
        and item.value_kind == "monetary"
        and has_values(item)
        and predicate(item.label)
    ]


def _last(found: list[int]) -> int | None:
    return found[-1] if found else None


def balance_sheet(statement: Statement) -> list[Finding]:
    """Total assets = total liabilities and equity, in every column printing both."""
    assets = _last(_rows(statement, lambda label: words(label) == words("Total assets")))
    both = _last(
        _rows(
            statement,
            lambda label: (
                normalize(label).startswith("total")
                and "liabilitie" in words(label)
                and bool(words(label) & {"equity", "deficit", "capital", "deficiency"})
            ),
        )
    )
    if assets is None or both is None or assets == both:
        return []
    return [
        sum_finding(statement, "balance_sheet", both, j, [assets], [1])
        for j in range(len(statement.columns))
        if value_at(statement.items[both], j) is not None
    ]


def _section_total(label: str, section: str) -> bool:
    text = normalize(label)
    return f"{section} activities" in text and text.startswith(("net cash", "cash"))


def cash_flow(statement: Statement, footed: set[int]) -> list[Finding]:
    """Net change = sum of sections (+ FX); ending = beginning + net change; continuity across columns."""
    sections = [_last(_rows(statement, lambda label, s=s: _section_total(label, s))) for s in _SECTIONS]
    fx = _last(_rows(statement, lambda label: "exchange rate" in normalize(label)))
    change = _last(
        _rows(
            statement,
            lambda label: (
                "cash" in normalize(label)
                and bool(re.search(r"\b(increase|decrease|change)\b", normalize(label)))
            ),
        )
    )
    beginning = _last(
        _rows(statement, lambda label: "cash" in normalize(label) and "beginning" in normalize(label))
    )
    # the ending balance of the same caption: "including restricted cash" is not "cash and equivalents"
    ending = _last(
        _rows(
            statement,
            lambda label: (
                "cash" in normalize(label)
                and "end of" in normalize(label)
                and beginning is not None
                and _balance_words(label) == _balance_words(statement.items[beginning].label)
            ),
        )
    )
    findings: list[Finding] = []
    columns = range(len(statement.columns))
    if change is not None and change not in footed and all(s is not None for s in sections):
        parts = [s for s in sections if s is not None] + ([fx] if fx is not None else [])
        findings += [
            sum_finding(statement, "cash_net_change", change, j, sorted(parts), [1] * len(parts))
            for j in columns
            if value_at(statement.items[change], j) is not None
        ]
    if ending is not None and ending not in footed and beginning is not None and change is not None:
        findings += [
            sum_finding(statement, "cash_rollforward", ending, j, [change, beginning], [1, 1])
            for j in columns
            if value_at(statement.items[ending], j) is not None
        ]
    if beginning is not None and ending is not None:
        findings += _continuity(statement, beginning, ending)
    return findings


def _balance_words(label: str) -> frozenset[str]:
    return words(label) - {"at", "beginning", "end", "period", "year", "quarter", "fiscal"}


def _start(end: date, months: int) -> date:
    month = end.month - months
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(end.day, 28))


def _continuity(statement: Statement, beginning: int, ending: int) -> list[Finding]:
    findings = []
    columns = statement.columns
    for j, column in enumerate(columns):
        if not column.period_end or not column.period_months:
            continue
        start = _start(date.fromisoformat(column.period_end), column.period_months)
        for k, other in enumerate(columns):
            if k != j and other.period_end and abs(date.fromisoformat(other.period_end) - start) <= _WEEK:
                begin_value = value_at(statement.items[beginning], j)
                end_value = value_at(statement.items[ending], k)
                if begin_value is None or end_value is None:
                    continue
                check = Check(
                    rule="cash_continuity",
                    row=statement.items[beginning].label,
                    row_index=beginning,
                    column=column.key,
                    components=[f"{statement.items[ending].label} ({other.key})"],
                    signs=[1],
                    printed=begin_value,
                    computed=end_value,
                    ok=begin_value == end_value,
                )
                findings.append(Finding(check, ((beginning, j), (ending, k))))
                break
    return findings


def is_shares_column(header: str, value_kind: str | None) -> bool:
    return value_kind == "shares" or bool(re.search(r"\bshares\b", header.lower()))


def _walk_columns(statement: Statement, totals: list[int], skip: set[int], t: int) -> list[int]:
    money = [j for j in range(len(statement.columns)) if j not in skip]
    step = 1 if t == money[0] else -1
    parts: list[int] = []
    j = t + step
    while 0 <= j < len(statement.columns):
        if j in money:
            parts.append(j)
            if j in totals:
                break
        j += step
    return sorted(parts)


def _row_totals_foot(statement: Statement, total: int, parts: list[int]) -> bool:
    return all(
        printed == sum((value_at(item, p) or Decimal(0) for p in parts), Decimal(0))
        for item in statement.items
        for printed in [value_at(item, total)]
        if item.kind != "header" and printed is not None
    )


def equity_matrix_columns(statement: Statement) -> dict[int, list[int]]:
    """For each Total column of an equity matrix, the columns it sums.

    A column headed "Shares" may hold share counts (left out) or a dollar amount ("Common Shares" at
    par): it is left out only when it is declared `shares` or when leaving it out is what foots.
    """
    columns = statement.columns
    if statement.type != "shareholders_equity" or any(c.period_end for c in columns):
        return {}
    totals = [j for j, c in enumerate(columns) if normalize(c.header).startswith("total")]
    declared = {j for j, c in enumerate(columns) if c.value_kind == "shares"}
    named = declared | {j for j, c in enumerate(columns) if is_shares_column(c.header, None)} - set(totals)
    found: dict[int, list[int]] = {}
    for t in totals:
        options = [_walk_columns(statement, totals, declared, t)]
        if named != declared:
            options.append(_walk_columns(statement, totals, named, t))
        options = [o for o in options if o]
        if options:
            found[t] = next((o for o in options if _row_totals_foot(statement, t, o)), options[-1])
    return found


def share_columns(statement: Statement) -> set[int]:
    """Columns of an equity statement holding share counts: declared, or named and summed by no total."""
    summed = {j for parts in equity_matrix_columns(statement).values() for j in parts}
    return {
        j
        for j, c in enumerate(statement.columns)
        if c.value_kind == "shares" or (is_shares_column(c.header, None) and j not in summed)
    }


def equity_matrix(statement: Statement) -> list[Finding]:
    """Every row's Total column = the sum of its component columns (share counts excluded)."""
    findings = []
    for total, parts in equity_matrix_columns(statement).items():
        for i, item in enumerate(statement.items):
            printed = value_at(item, total)
            if item.kind == "header" or printed is None:
                continue
            computed = sum((value_at(item, p) or Decimal(0) for p in parts), Decimal(0))
            check = Check(
                rule="equity_row_total",
                row=item.label,
                row_index=i,
                column=statement.columns[total].key,
                components=[statement.columns[p].header for p in parts],
                signs=[1] * len(parts),
                printed=printed,
                computed=computed,
                ok=printed == computed,
            )
            findings.append(Finding(check, ((i, total), *((i, p) for p in parts))))
    return findings


def equity_rollforward(statement: Statement, footed: set[int], spans: dict[int, Span]) -> list[Finding]:
    """Balance rows printed as lines: balance = previous balance + the rows between (inner totals once)."""
    if statement.type != "shareholders_equity":
        return []
    items = statement.items
    balances = [
        i for i, it in enumerate(items) if normalize(it.label).startswith("balance") and has_values(it)
    ]
    findings: list[Finding] = []
    for previous, row in pairwise(balances):
        if row in footed or is_opening(statement, row):
            continue
        parts = _between(statement, previous, row, spans)
        findings += [
            sum_finding(statement, "rollforward", row, j, parts, [1] * len(parts))
            for j in range(len(statement.columns))
            if value_at(items[row], j) is not None
        ]
    return findings


def _between(statement: Statement, previous: int, row: int, spans: dict[int, Span]) -> list[int]:
    items = statement.items
    parts = [previous]
    i = row - 1
    while i > previous:
        item = items[i]
        if item.kind != "header" and has_values(item) and item.value_kind == items[row].value_kind:
            parts.append(i)
            if i in spans and spans[i].start > previous:
                i = spans[i].start
        i -= 1
    return sorted(parts)


def run_rules(statement: Statement, footed: set[int], spans: dict[int, Span]) -> list[Finding]:
    """The rules that apply to this statement's type."""
    if statement.type == "balance_sheet":
        return balance_sheet(statement)
    if statement.type == "cash_flow":
        return cash_flow(statement, footed)
    if statement.type == "shareholders_equity":
        return equity_matrix(statement) + equity_rollforward(statement, footed, spans)
    return []
