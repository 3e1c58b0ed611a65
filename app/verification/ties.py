"""Cross-statement ties: the same figure printed in two statements of one set must agree.

Input: statements of one document, in document order. Output: for each statement index, the tie
checks to add to it (each tie is recorded on both statements it reads).
Invariants:
- Sets: a statement type seen again, or another `entity`, starts a new set; only statements of one
  set are tied, and only columns with the same period_end (and period_months when both give it).
- A tie is made only when captions say clearly that the rows are the same figure; otherwise nothing is
  recorded. Ties: net income (income statement vs comprehensive income vs cash flow, and vs each
  roll-forward block of an equity matrix in its retained-earnings and total columns); ending cash (cash
  flow vs balance sheet, only when the captions match once "at end of period" is dropped, so restricted
  cash variants are not tied); other comprehensive income; dividends paid and tax withheld on
  restricted stock (equity vs cash flow); closing equity balances vs balance sheet rows; shares
  outstanding named in the common-stock caption vs the equity statement's share column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from app.statements.format import Check, Statement
from app.verification.findings import has_values, value_at
from app.verification.labels import (
    is_net_income,
    net_income_rank,
    normalize,
    outstanding_shares,
    words,
)
from app.verification.rules import equity_matrix_columns, share_columns
from app.verification.structure import block_date, block_months, block_rows, equity_blocks

Ref = tuple[int, int, int]  # statement index, row, column
_OCI = re.compile(r"^other comprehensive (income|loss|income \(loss\)|\(loss\) income)(,? net of tax(es)?)?$")
_END = re.compile(r",?\s*(at\s+)?(the\s+)?end\s+of\s+(the\s+)?(period|year|quarter|fiscal year)\b")


def statement_sets(statements: list[Statement]) -> list[int]:
    """Set number of each statement: a repeated type or another entity starts a new set."""
    sets, seen, current, entity = [], set(), 0, None
    for index, statement in enumerate(statements):
        if index and (statement.type in seen or statement.entity != entity):
            current, seen = current + 1, set()
        seen.add(statement.type)
        entity = statement.entity
        sets.append(current)
    return sets


def _same_period(a: Statement, i: int, b: Statement, j: int) -> bool:
    ca, cb = a.columns[i], b.columns[j]
    if not ca.period_end or ca.period_end != cb.period_end:
        return False
    return ca.period_months is None or cb.period_months is None or ca.period_months == cb.period_months


def _rows(statement: Statement, predicate: Callable[[str], bool]) -> list[int]:
    return [
        i
        for i, it in enumerate(statement.items)
        if it.kind != "header" and it.value_kind == "monetary" and has_values(it) and predicate(it.label)
    ]


class _Recorder:
    def __init__(self, statements: list[Statement]) -> None:
        self.statements = statements
        self.found: dict[int, list[Check]] = {i: [] for i in range(len(statements))}

    def tie(self, rule: str, a: Ref, b: Ref) -> None:
        left = value_at(self.statements[a[0]].items[a[1]], a[2])
        right = value_at(self.statements[b[0]].items[b[1]], b[2])
        if left is not None and right is not None:
            self.record(rule, a, b, left, right, left == right)
            self.record(rule, b, a, right, left, left == right)

    def record(self, rule: str, here: Ref, there: Ref, printed: Decimal, computed: Decimal, ok: bool) -> None:
        statement, source = self.statements[here[0]], self.statements[there[0]]
        self.found[here[0]].append(
            Check(
                rule=rule,
                row=statement.items[here[1]].label,
                row_index=here[1],
                column=statement.columns[here[2]].key,
                components=[
                    f"{source.type}: {source.items[there[1]].label} ({source.columns[there[2]].key})"
                ],
                printed=printed,
                computed=computed,
                ok=ok,
            )
        )

    def periods(self, rule: str, a: tuple[int, int], b: tuple[int, int]) -> None:
        left, right = self.statements[a[0]], self.statements[b[0]]
        for i in range(len(left.columns)):
            for j in range(len(right.columns)):
                if _same_period(left, i, right, j):
                    self.tie(rule, (a[0], a[1], i), (b[0], b[1], j))


def _net_income(statement: Statement) -> list[int]:
    return _rows(statement, is_net_income)


def _tie_net_income(rec: _Recorder, first: dict[str, int]) -> None:
    if "income_statement" not in first:
        return
    income = first["income_statement"]
    for other in ("comprehensive_income", "cash_flow"):
        if other not in first:
            continue
        for row in _net_income(rec.statements[first[other]])[:1]:
            match = _matching_net_income(
                rec.statements[income], rec.statements[first[other]].items[row].label
            )
            if match is not None:
                rec.periods("tie_net_income", (income, match), (first[other], row))


def _matching_net_income(statement: Statement, label: str) -> int | None:
    rows = _net_income(statement)
    same = [r for r in rows if words(statement.items[r].label) == words(label)]
    if same:
        return same[0]
    plain = [r for r in rows if net_income_rank(statement.items[r].label) == 2]
    return plain[0] if len(plain) == 1 and net_income_rank(label) == 2 else None


def _tie_cash(rec: _Recorder, first: dict[str, int]) -> None:
    if "cash_flow" not in first or "balance_sheet" not in first:
        return
    flow, sheet = rec.statements[first["cash_flow"]], rec.statements[first["balance_sheet"]]
    ending = _rows(flow, lambda label: "cash" in normalize(label) and bool(_END.search(normalize(label))))
    if not ending:
        return
    wanted = words(_END.sub("", normalize(flow.items[ending[-1]].label)))
    rows = _rows(sheet, lambda label: words(label) == wanted)
    if len(rows) == 1:
        rec.periods("tie_ending_cash", (first["cash_flow"], ending[-1]), (first["balance_sheet"], rows[0]))


def _tie_oci(rec: _Recorder, first: dict[str, int], blocks: list[tuple[int, date]]) -> None:
    if "comprehensive_income" not in first or "shareholders_equity" not in first:
        return
    ci, eq = first["comprehensive_income"], first["shareholders_equity"]
    totals = [r for r in _rows(rec.statements[ci], lambda label: bool(_OCI.match(normalize(label))))]
    aoci = _column(rec.statements[eq], lambda h: "accumulated other comprehensive" in normalize(h))
    if not totals or aoci is None:
        return
    for row in block_rows(rec.statements[eq], blocks, lambda label: bool(_OCI.match(normalize(label)))):
        _tie_dated(rec, "tie_oci", (eq, row, aoci), ci, totals[-1], blocks)


def _column(statement: Statement, predicate: Callable[[str], bool]) -> int | None:
    found = [j for j, c in enumerate(statement.columns) if predicate(c.header)]
    return found[0] if len(found) == 1 else None


def _tie_dated(
    rec: _Recorder, rule: str, ref: Ref, other: int, row: int, blocks: list[tuple[int, date]]
) -> None:
    """Tie an equity block's row to the column of `other` covering the same period (3 vs 9 months too)."""
    when = block_date(blocks, ref[1])
    if when is None:
        return
    statement = rec.statements[other]
    matches = [j for j, c in enumerate(statement.columns) if c.period_end == when.isoformat()]
    months = block_months(rec.statements[ref[0]], ref[1], when)
    if months is not None:
        matches = [j for j in matches if statement.columns[j].period_months in (None, months)]
    if len(matches) == 1:
        rec.tie(rule, ref, (other, row, matches[0]))


def _tie_equity(rec: _Recorder, first: dict[str, int]) -> None:
    if "shareholders_equity" not in first:
        return
    eq = first["shareholders_equity"]
    equity = rec.statements[eq]
    totals = equity_matrix_columns(equity)
    blocks = equity_blocks(equity)
    if not totals or not blocks:
        return
    total = max(totals)
    retained = _column(equity, lambda h: "retained" in normalize(h) or "accumulated deficit" in normalize(h))
    # with noncontrolling interests the retained-earnings column holds the parent's share only
    if "income_statement" in first and len(_net_income(rec.statements[first["income_statement"]])) == 1:
        income = first["income_statement"]
        for row in block_rows(equity, blocks, is_net_income):
            match = _matching_net_income(rec.statements[income], equity.items[row].label)
            for column in (c for c in (retained, total) if c is not None and match is not None):
                _tie_dated(rec, "tie_net_income", (eq, row, column), income, match, blocks)
    _tie_oci(rec, first, blocks)
    if "cash_flow" in first:
        _tie_activity(rec, eq, first["cash_flow"], total, blocks)
    if "balance_sheet" in first:
        _tie_balances(rec, eq, first["balance_sheet"], blocks)


def _is_dividends_paid(label: str) -> bool:
    return "dividend" in normalize(label) and "paid" in normalize(label)


def _is_rsu_tax(label: str) -> bool:
    text = normalize(label)
    return "tax" in text and ("restricted stock" in text or "rsu" in words(label))


def _tie_activity(rec: _Recorder, eq: int, cf: int, total: int, blocks: list[tuple[int, date]]) -> None:
    flow = rec.statements[cf]
    for rule, predicate in (("tie_dividends", _is_dividends_paid), ("tie_rsu_tax", _is_rsu_tax)):
        targets = _rows(flow, predicate)
        if len(targets) != 1:
            continue
        for row in block_rows(rec.statements[eq], blocks, predicate):
            _tie_dated(rec, rule, (eq, row, total), cf, targets[0], blocks)


def _lead_words(label: str) -> frozenset[str]:
    return words(re.split(r"[,(;]", label, maxsplit=1)[0])


def _tie_balances(rec: _Recorder, eq: int, bs: int, blocks: list[tuple[int, date]]) -> None:
    equity, sheet = rec.statements[eq], rec.statements[bs]
    shares = share_columns(equity)
    for j, column in enumerate(equity.columns):
        if j in shares:
            _tie_shares(rec, eq, j, bs, blocks)
            continue
        wanted = words(column.header) - {"outstanding", "amount"}
        rows = _rows(sheet, lambda label, w=wanted: _lead_words(label) == w)
        if len(rows) != 1 or not wanted:
            continue
        for end, when in blocks:
            for k, target in enumerate(sheet.columns):
                if target.period_end == when.isoformat():
                    rec.tie("tie_equity_balance", (eq, end, j), (bs, rows[0], k))


def _tie_shares(rec: _Recorder, eq: int, column: int, bs: int, blocks: list[tuple[int, date]]) -> None:
    equity, sheet = rec.statements[eq], rec.statements[bs]
    captions = [(i, outstanding_shares(it.label)) for i, it in enumerate(sheet.items)]
    captions = [(i, found) for i, found in captions if found]
    if len(captions) != 1:
        return
    row, found = captions[0]
    for end, when in blocks:
        printed = value_at(equity.items[end], column)
        if when not in found or printed is None:
            continue
        stated = Decimal(found[when])
        ok = any(stated == printed * Decimal(10) ** k for k in (0, 3, 6, -3, -6))
        for k, target in enumerate(sheet.columns):
            if target.period_end == when.isoformat():
                rec.record("tie_shares_outstanding", (eq, end, column), (bs, row, k), printed, stated, ok)
                rec.record("tie_shares_outstanding", (bs, row, k), (eq, end, column), stated, printed, ok)


def cross_ties(statements: list[Statement]) -> dict[int, list[Check]]:
    """Tie checks to add to each statement (by index), within each set of statements."""
    rec = _Recorder(statements)
    sets = statement_sets(statements)
    for number in sorted(set(sets)):
        first: dict[str, int] = {}
        for index, statement in enumerate(statements):
            if sets[index] == number:
                first.setdefault(statement.type, index)
        _tie_net_income(rec, first)
        _tie_cash(rec, first)
        _tie_equity(rec, first)
    return rec.found
