"""Verify statements: run every check, repair a unique misread, tie statements of one set together.

Input: `Statement`s from the parse stage (their `checks`, `verified` and `repairs` are recomputed).
Output: copies with `checks`, `verified`, and accepted repairs. Invariants:
- `verified` is true only when at least one check ran and every check passed.
- Every total is footed or fails. Each item of kind "total" with a printed value, except an opening
  balance (see footing.is_opening), gets one check per column where it prints a value:
  rule "sum" ("rollforward" for an equity balance row) with the components of the first structural
  reading that foots in every column, ok=True; or, when no reading foots (or the one that does is
  refused because an earlier reading is one misread away), the closest reading with ok=False; or,
  when no components can be inferred at all, rule "unfooted" with computed=None and ok=False.
  So a statement is verified only if every one of its totals has been proven.
- Repairs are applied only when exactly one named hypothesis makes every check pass (repair.py).
- A line footing proved to be a subtotal (its own sum check passed in every column) becomes kind
  "total"; no other item changes kind.
- Pure: the inputs are not modified.
"""

from __future__ import annotations

from app.statements.format import Check, Statement
from app.verification.eps import eps_checks
from app.verification.findings import Finding
from app.verification.footing import foot
from app.verification.repair import repair
from app.verification.rules import run_rules
from app.verification.ties import cross_ties


def run_checks(statement: Statement) -> list[Finding]:
    """Footing, the statement type's rules and EPS plausibility, without repair."""
    footing, spans = foot(statement)
    footed = {
        f.check.row_index for f in footing if f.check.rule != "unfooted" and f.check.row_index is not None
    }
    return footing + run_rules(statement, footed, spans) + eps_checks(statement)


def _settle(statement: Statement, checks: list[Check]) -> Statement:
    verified = bool(checks) and all(c.ok for c in checks)
    return statement.model_copy(update={"checks": checks, "verified": verified})


def _proven_subtotals(statement: Statement, checks: list[Check]) -> None:
    """A subtotal printed as a line that footing proved (its own sum check passed in every column)
    is a total: its kind says so, as the check does."""
    rows = {c.row_index for c in checks if c.rule == "sum" and c.row_index is not None}
    for row in rows:
        item = statement.items[row]
        mine = [c for c in checks if c.row_index == row]
        if item.kind == "line" and all(c.ok and c.rule == "sum" for c in mine):
            item.kind = "total"


def verify_statement(statement: Statement) -> Statement:
    """A copy of the statement with its checks run, a unique repair applied if one exists, and `verified`."""
    base = statement.model_copy(deep=True, update={"checks": [], "verified": False})
    findings = run_checks(base)
    if findings and not all(f.check.ok for f in findings):
        repaired = repair(base, findings, run_checks)
        if repaired is not None:
            base, findings = repaired
    _proven_subtotals(base, [f.check for f in findings])
    return _settle(base, [f.check for f in findings])


def verify_all(statements: list[Statement]) -> list[Statement]:
    """Verify each statement, then add the cross-statement ties within each set of statements."""
    verified = [verify_statement(s) for s in statements]
    ties = cross_ties(verified)
    return [_settle(s, [*s.checks, *ties.get(i, [])]) for i, s in enumerate(verified)]
