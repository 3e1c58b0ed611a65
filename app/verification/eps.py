"""EPS plausibility: earnings per share ≈ net income / weighted average shares, within rounding.

Input: an income statement. Output: one `Finding` per (basic or diluted EPS row, column).
Invariants:
- Per-share and share rows are never summed with money; this is the only rule that combines them.
- Net income is the row an EPS figure divides: "attributable to common" first, then "attributable to"
  the parent, then plain net income. Rows for continuing or discontinued operations are not paired.
- The shares unit is the share rows' `unit` when the parser states it; otherwise one scale between the
  money unit and the shares unit is chosen for the whole statement among powers of 1000
  (millions/millions, millions/thousands, ...). A factor of 10 or 100 is never absorbed: `4.59` read
  as `459` always fails.
- Tolerance is what rounding allows: half a unit of the EPS figure's last digit plus the effect of half
  a unit on net income and on the share count.
"""

from __future__ import annotations

from decimal import Decimal

from app.statements.format import Check, Statement
from app.verification.findings import Finding, has_values, value_at
from app.verification.labels import net_income_rank, normalize
from app.verification.misreads import unit_of

_SCALES = {"units": 0, "thousands": 3, "millions": 6, "billions": 9}
_HALF = Decimal("0.5")


def _flavor_rows(statement: Statement, value_kind: str, flavor: str) -> list[int]:
    rows = []
    for i, item in enumerate(statement.items):
        text = normalize(f"{item.section or ''} {item.label}")
        if item.value_kind != value_kind or not has_values(item) or flavor not in text:
            continue
        if value_kind == "per_share" and ("continuing" in text or "discontinued" in text):
            continue
        rows.append(i)
    return rows


def _net_income_row(statement: Statement) -> int | None:
    ranked = [
        (net_income_rank(item.label), i)
        for i, item in enumerate(statement.items)
        if item.value_kind == "monetary" and item.kind != "header" and has_values(item)
    ]
    best = max((rank for rank, _ in ranked), default=0)
    rows = [i for rank, i in ranked if rank == best and best > 0]
    return rows[-1] if rows else None


def _pairs(statement: Statement) -> list[tuple[int, int]]:
    pairs = []
    for flavor in ("basic", "diluted"):
        eps, shares = _flavor_rows(statement, "per_share", flavor), _flavor_rows(statement, "shares", flavor)
        if len(eps) == 1 and len(shares) == 1:
            pairs.append((eps[0], shares[0]))
    return list(dict.fromkeys(pairs))


def _measure(statement: Statement, ni: int, eps: int, shares: int, column: int, ratio: Decimal):
    items = statement.items
    income, printed, count = (value_at(items[r], column) for r in (ni, eps, shares))
    if income is None or printed is None or count is None or count == 0:
        return None
    computed = income * ratio / count
    tolerance = (
        unit_of(printed) * _HALF
        + unit_of(income) * _HALF * ratio / abs(count)
        + abs(computed) * unit_of(count) * _HALF / abs(count)
    )
    return printed, computed, tolerance


def eps_checks(statement: Statement) -> list[Finding]:
    """EPS ≈ net income / weighted shares for each basic and diluted row and column."""
    if statement.type != "income_statement":
        return []
    ni = _net_income_row(statement)
    pairs = _pairs(statement)
    if ni is None or not pairs:
        return []
    cells = [(eps, shares, j) for eps, shares in pairs for j in range(len(statement.columns))]
    money = _SCALES[statement.items[ni].unit or statement.unit]
    stated = {statement.items[s].unit for _, s in pairs}
    declared = next(iter(stated)) if len(stated) == 1 else None
    if declared is not None:
        share_units = [_SCALES[declared]]
    else:
        # shares in the money unit first, then one step smaller (millions of dollars, thousands of shares)
        share_units = sorted(_SCALES.values(), key=lambda s: (s != money, s != money - 3, abs(money - s)))
    best: tuple[int, Decimal] | None = None
    for share_unit in share_units:
        ratio = Decimal(10) ** (money - share_unit)
        measured = [_measure(statement, ni, e, s, j, ratio) for e, s, j in cells]
        misses = sum(1 for m in measured if m is not None and abs(m[0] - m[1]) > m[2])
        if best is None or misses < best[0]:
            best = (misses, ratio)
    assert best is not None
    findings = []
    for eps, shares, j in cells:
        measured = _measure(statement, ni, eps, shares, j, best[1])
        if measured is None:
            continue
        printed, computed, tolerance = measured
        check = Check(
            rule="eps",
            row=statement.items[eps].label,
            row_index=eps,
            column=statement.columns[j].key,
            components=[statement.items[ni].label, statement.items[shares].label],
            printed=printed,
            computed=computed.quantize(Decimal("0.0001")),
            tolerance=tolerance.quantize(Decimal("0.0001")),
            ok=abs(printed - computed) <= tolerance,
        )
        findings.append(Finding(check, ((eps, j), (ni, j), (shares, j))))
    return findings
