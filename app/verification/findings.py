"""What a verification rule returns: a recorded `Check` plus the cells it read.

Input: rule outputs. Output: `Finding`s; `verify.py` keeps the checks, `repair.py` uses the cells to
know which numbers could explain a failure. Invariants: every check carries printed and computed values
(computed is None only for an "unfooted" total); cells are (row index, column index) pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.statements.format import Check, Item, Statement

Cell = tuple[int, int]


@dataclass(frozen=True)
class Finding:
    check: Check
    cells: tuple[Cell, ...]
    # rows whose values could change this check's outcome (every reading footing considered)
    scope: frozenset[int] = frozenset()
    # columns where changing one cell could mend it (a reading that misses only there)
    reach: frozenset[int] | None = None
    # a reading foots but was refused as ambiguous: the numbers may be right, the proof is not
    refused: bool = False

    @property
    def rows(self) -> frozenset[int]:
        return self.scope or frozenset(row for row, _ in self.cells)

    @property
    def columns(self) -> frozenset[int]:
        return self.reach if self.reach is not None else frozenset(column for _, column in self.cells)


def value_at(item: Item, column: int) -> Decimal | None:
    return item.values[column] if column < len(item.values) else None


def has_values(item: Item) -> bool:
    return any(v is not None for v in item.values)


def weighted_sum(items: Sequence[Item], rows: Sequence[int], signs: Sequence[int], column: int) -> Decimal:
    """Sum of the components in one column; a blank component cell counts as zero."""
    total = Decimal(0)
    for row, sign in zip(rows, signs, strict=True):
        value = value_at(items[row], column)
        if value is not None:
            total += sign * value
    return total


def sum_finding(
    statement: Statement,
    rule: str,
    row: int,
    column: int,
    components: Sequence[int],
    signs: Sequence[int],
) -> Finding:
    """A check that a total row equals the signed sum of component rows in one column."""
    items = statement.items
    printed = value_at(items[row], column)
    computed = weighted_sum(items, components, signs, column)
    check = Check(
        rule=rule,
        row=items[row].label,
        row_index=row,
        column=statement.columns[column].key,
        components=[items[r].label for r in components],
        signs=list(signs),
        printed=printed,
        computed=computed,
        ok=printed is not None and printed == computed,
        note=rounding_note(printed, computed),
    )
    cells = ((row, column), *((r, column) for r in components))
    return Finding(check, cells)


ROUNDING = "differs by 1 in the last printed unit: likely rounding in the filing (or a one-digit misread)"


def rounding_note(printed: Decimal | None, computed: Decimal | None) -> str | None:
    """Why a sum missing by exactly one unit of its last printed digit stays failed but may be right.

    Filings round each line on its own, so a printed total can differ from its rounded components by
    one unit; a misread digit (5 for 6) differs the same way, so the check still fails: never a tolerance.
    """
    if printed is None or computed is None or printed == computed:
        return None
    unit = Decimal(1).scaleb(min(int(printed.as_tuple().exponent), 0))
    return ROUNDING if abs(printed - computed) == unit else None


def integer_column(statement: Statement, column: int, value_kind: str) -> bool:
    """True when the numbers of this kind in the column are integers, bar a stray "3.892" misread."""
    numbers = [
        v
        for item in statement.items
        if item.value_kind == value_kind
        for v in [value_at(item, column)]
        if v is not None
    ]
    with_decimals = sum(1 for v in numbers if int(v.as_tuple().exponent) < 0)
    return bool(numbers) and with_decimals * 2 < len(numbers)
