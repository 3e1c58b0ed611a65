"""Footing-driven repair: small named hypotheses about misread cells, accepted only when unique.

Input: a statement whose checks failed, its findings, and the function that runs every check. Output:
the repaired statement and its findings, or None. Invariants:
- Hypotheses touch only rows a failed check could depend on (every reading footing considered), a
  single cell only in a column where one change could mend it: lost parenthesis sign
  (`lost_sign`), `3.892` for `3,892` in an integer column (`ocr_separator`), one digit confused
  1/7, 0/8, 5/6, 3/8 (`digit_confusion`), a per-share figure that lost its decimal point
  (`dropped_decimal_point`, one cell or every per-share cell at once), a row whose values sit in the
  wrong columns (`column_shift`), two cells read as one number (`merged_cells`).
- One is accepted only if afterwards every check passes, no check that ran before is lost, and no
  other hypothesis (giving different values) also passes. A number off by one unit is never applied
  but competes as an explanation, so a compensating misread elsewhere is not taken for the error;
  so does a change after which a total foots but is refused as ambiguous (footing.py).
  Ambiguity leaves the statement as it was.
- A repaired item keeps `reading` (its values as first read) and `repair` (the hypothesis); the
  statement lists each changed cell in `repairs`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from app.statements.format import Repair, Statement
from app.verification.findings import Finding, integer_column, value_at
from app.verification.misreads import alternatives, decimals_of, unit_of

MAX_CELLS = 160
ONE_UNIT = "one_unit"
Change = tuple[int, int, Decimal | None]


@dataclass(frozen=True)
class Hypothesis:
    name: str
    changes: tuple[Change, ...]


def _per_share_decimals(statement: Statement) -> int:
    counts = Counter(
        decimals_of(v)
        for it in statement.items
        if it.value_kind == "per_share"
        for v in it.values
        if v is not None and decimals_of(v) > 0
    )
    return counts.most_common(1)[0][0] if counts else 2


def _cell_hypotheses(statement: Statement, cells: set[tuple[int, int]]) -> list[Hypothesis]:
    decimals = _per_share_decimals(statement)
    found = []
    for row, column in sorted(cells):
        item = statement.items[row]
        value = value_at(item, column)
        if value is None:
            continue
        whole = integer_column(statement, column, item.value_kind)
        share_decimals = decimals if item.value_kind == "per_share" else 0
        for name, alt in alternatives(value, integer_column=whole, per_share_decimals=share_decimals):
            found.append(Hypothesis(name, ((row, column, alt),)))
    return found


def _all_per_share(statement: Statement) -> list[Hypothesis]:
    changes = tuple(
        (r, j, v.scaleb(-2))
        for r, it in enumerate(statement.items)
        if it.value_kind == "per_share"
        for j, v in enumerate(it.values)
        if v is not None and v != 0 and decimals_of(v) == 0
    )
    return [Hypothesis("dropped_decimal_point", changes)] if len(changes) > 1 else []


def _shifts(statement: Statement, row: int) -> list[Hypothesis]:
    values = statement.items[row].values
    present = [v for v in values if v is not None]
    if not present or len(present) == len(values) or len(values) > 8:
        return []
    found = []
    for slots in combinations(range(len(values)), len(present)):
        moved: list[Decimal | None] = [None] * len(values)
        for slot, value in zip(slots, present, strict=True):
            moved[slot] = value
        if moved != values:
            changes = tuple((row, j, moved[j]) for j in range(len(values)) if moved[j] != values[j])
            found.append(Hypothesis("column_shift", changes))
    return found


def _merges(statement: Statement, row: int) -> list[Hypothesis]:
    values = statement.items[row].values
    found = []
    for j in range(len(values) - 1):
        for cell, blank in ((j, j + 1), (j + 1, j)):
            value = values[cell]
            if value is None or values[blank] is not None or decimals_of(value) != 0:
                continue
            digits = str(abs(value))
            for cut in range(1, len(digits)):
                head, tail = digits[:cut], digits[cut:]
                if len(tail) > 1 and tail.startswith("0"):
                    continue
                left, right = (
                    (Decimal(head), Decimal(tail)) if cell < blank else (Decimal(tail), Decimal(head))
                )
                sign = -1 if value < 0 else 1
                first, second = (cell, blank) if cell < blank else (blank, cell)
                changes = ((row, first, sign * left), (row, second, sign * right))
                found.append(Hypothesis("merged_cells", changes))
    return found


def _one_unit(statement: Statement, cells: set[tuple[int, int]]) -> list[Hypothesis]:
    """Explanations never applied: a number off by one unit competes with every hypothesis."""
    found = []
    for row, column in sorted(cells):
        value = value_at(statement.items[row], column)
        if value is not None:
            unit = unit_of(value)
            found += [
                Hypothesis(ONE_UNIT, ((row, column, value + unit),)),
                Hypothesis(ONE_UNIT, ((row, column, value - unit),)),
            ]
    return found


def hypotheses(statement: Statement, findings: list[Finding]) -> list[Hypothesis]:
    """Every named hypothesis that could explain the failed checks, without duplicates.

    Cells are taken from every row a failed check could depend on, in every column: a misread in one
    column can change which reading of a total foots, and so which column's check fails.
    """
    failing = [(f.rows, f.columns) for f in findings if not f.check.ok]
    rows = sorted(set().union(*(scope for scope, _ in failing))) if failing else []
    reach = set().union(*(columns for _, columns in failing)) if failing else set()
    cells = {(r, j) for r in rows for j in reach if value_at(statement.items[r], j) is not None}
    if not rows or len(cells) > MAX_CELLS:
        return []
    found = _cell_hypotheses(statement, cells) + _all_per_share(statement)
    for row in rows:
        found += _shifts(statement, row) + _merges(statement, row)
    return [h for h in dict.fromkeys(found + _one_unit(statement, cells)) if _reaches(h, failing)]


def _reaches(hypothesis: Hypothesis, failing: list[tuple[frozenset[int], frozenset[int]]]) -> bool:
    """A change can only mend a check it can reach; one changed cell, only in a column it can reach."""
    single = len(hypothesis.changes) == 1
    return all(
        any(r in scope and (j in columns or not single) for r, j, _ in hypothesis.changes)
        for scope, columns in failing
    )


def apply(statement: Statement, hypothesis: Hypothesis) -> Statement:
    """The statement with the hypothesis's cells changed, each remembering what was read."""
    items = list(statement.items)
    repairs = list(statement.repairs or [])
    for row, column, value in hypothesis.changes:
        item = items[row]
        values = list(item.values)
        old = values[column]
        values[column] = value
        reading = item.reading or [None if v is None else str(v) for v in item.values]
        items[row] = item.model_copy(update={"values": values, "reading": reading, "repair": hypothesis.name})
        repairs.append(
            Repair(
                row=item.label,
                row_index=row,
                column=statement.columns[column].key,
                hypothesis=hypothesis.name,
                reading=None if old is None else str(old),
                value=value,
            )
        )
    return statement.model_copy(update={"items": items, "repairs": repairs})


def _keys(findings: list[Finding]) -> set[tuple[str, int | None, str]]:
    return {(f.check.rule, f.check.row_index, f.check.column) for f in findings if f.check.rule != "unfooted"}


def repair(
    statement: Statement,
    findings: list[Finding],
    run_checks: Callable[[Statement], list[Finding]],
) -> tuple[Statement, list[Finding]] | None:
    """The single hypothesis that makes every check pass, applied; None when none or several do."""
    before = _keys(findings)
    if all(f.refused for f in findings if not f.check.ok):
        return None  # the numbers as read may be right: any repair would compete with them
    accepted: tuple[Statement, list[Finding]] | None = None
    outcome: tuple[Change, ...] | None = None
    for hypothesis in hypotheses(statement, findings):
        candidate = apply(statement, hypothesis)
        results = run_checks(candidate)
        failed = [f for f in results if not f.check.ok]
        # a result refused only as ambiguous is not a repair, but it is a rival explanation
        if not results or not all(f.refused for f in failed) or not before <= _keys(results):
            continue
        values = tuple(sorted(hypothesis.changes, key=lambda c: (c[0], c[1])))
        if outcome is not None and values != outcome:
            return None
        outcome = values
        if hypothesis.name != ONE_UNIT and not failed and accepted is None:
            accepted = (candidate, results)
    return accepted
