"""The shape of a statement: which rows a total's walk collects, group spans, opening balances.

Input: a statement's items (and the spans of totals already footed). Output: walks, spans, the
header a row sits under, "Total A and B" pairs, opening balances and equity roll-forward blocks.
Invariants: pure; reads captions, levels and kinds, and values only to skip rows without any.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from app.statements.format import Item, Statement
from app.verification.findings import has_values
from app.verification.labels import caption_date, header_matches, normalize, words


@dataclass(frozen=True)
class Span:
    start: int
    opener: int | None


@dataclass(frozen=True)
class Walk:
    elements: list[int]
    breaks: dict[int, int]
    opener: int | None


def group_level(items: Sequence[Item], t: int) -> int:
    """Totals are often indented deeper than their lines: a group sits at the shallower of the two."""
    for i in range(t - 1, -1, -1):
        item = items[i]
        if item.kind != "header" and item.value_kind == items[t].value_kind and has_values(item):
            return min(items[t].level, item.level)
    return items[t].level


def _walk(items: Sequence[Item], t: int, spans: dict[int, Span], level: int | None) -> Walk:
    """Collect components upwards; with `level` None, indentation is ignored (only captions stop it)."""
    total = items[t]
    elements: list[int] = []
    breaks: dict[int, int] = {}
    i = t - 1
    while i >= 0:
        item = items[i]
        shallower = level is not None and item.level < level
        if item.kind == "header":
            if shallower or header_matches(item.label, total.label):
                return Walk(elements, breaks, i)
            breaks.setdefault(len(elements), i)
            i -= 1
        elif item.value_kind != total.value_kind or not has_values(item):
            i -= 1
        elif shallower:
            break
        elif item.kind == "total" and i in spans:
            elements.append(i)
            span = spans[i]
            if span.opener is not None and header_matches(items[span.opener].label, total.label):
                return Walk(elements, breaks, span.opener)
            i = span.start - 1
        else:
            elements.append(i)
            i -= 1
    return Walk(elements, breaks, None)


def walks(items: Sequence[Item], t: int, spans: dict[int, Span]) -> list[Walk]:
    """The walk that trusts indentation, then the one that does not (parsers misjudge levels)."""
    return [_walk(items, t, spans, group_level(items, t)), _walk(items, t, spans, None)]


def context_header(items: Sequence[Item], row: int) -> int | None:
    """The header a row sits under ("OPERATING EXPENSES" over "Selling, general and administrative")."""
    for i in range(row - 1, -1, -1):
        if items[i].kind == "total":
            return None  # a total closed the group above: this row is not under that header
        if items[i].kind == "header" and items[i].level <= items[row].level:
            return i
    return None


def effective_label(items: Sequence[Item], row: int) -> str:
    """A caption-less total speaks for the header above its group."""
    if items[row].label.strip():
        return items[row].label
    for i in range(row - 1, -1, -1):
        if items[i].kind == "header" and items[i].level <= items[row].level:
            return items[i].label
    return ""


def pair_rows(items: Sequence[Item], t: int) -> tuple[int, ...] | None:
    text = normalize(items[t].label)
    if not text.startswith("total ") or " and " not in text:
        return None
    parts = [p.strip() for p in re.split(r",| and ", text[len("total ") :]) if p.strip()]
    rows: list[int] = []
    for part in parts:
        wanted = words("total " + part)
        match = next(
            (
                i
                for i in range(t - 1, -1, -1)
                if items[i].kind != "header"
                and items[i].value_kind == items[t].value_kind
                and has_values(items[i])
                and words(items[i].label) == wanted
            ),
            None,
        )
        if match is None or match in rows:
            return None
        rows.append(match)
    return tuple(sorted(rows)) if len(rows) >= 2 else None


def is_opening(statement: Statement, row: int) -> bool:
    """An opening balance carries a figure from before the statement: nothing on the page sums to it.

    Captions saying so ("beginning of", "opening", "brought forward"; not "..., as restated", which
    sums the opening and its adjustments), and in an equity statement the
    first balance row, a balance row right after another (a new block), or one dated before the last.
    """
    text = normalize(statement.items[row].label)
    if any(w in text for w in ("beginning", "opening", "brought forward", "start of")):
        return not any(w in text for w in ("restated", "adjusted"))
    if statement.type != "shareholders_equity" or not text.startswith("balance"):
        return False
    above = [i for i in range(row) if statement.items[i].kind != "header" and has_values(statement.items[i])]
    balances = [i for i in above if normalize(statement.items[i].label).startswith("balance")]
    if not balances or balances[-1] == above[-1]:
        return True
    previous, current = caption_date(statement.items[balances[-1]].label), caption_date(text)
    return previous is not None and current is not None and current < previous


def equity_blocks(statement: Statement) -> list[tuple[int, date]]:
    """Closing balance rows of an equity statement with the date their caption names."""
    blocks = []
    for i, item in enumerate(statement.items):
        when = caption_date(item.label)
        if normalize(item.label).startswith("balance") and when and not is_opening(statement, i):
            blocks.append((i, when))
    return blocks


def block_date(blocks: list[tuple[int, date]], row: int) -> date | None:
    """The closing date of the roll-forward block holding `row`."""
    return next((when for end, when in blocks if row < end), None)


def block_months(statement: Statement, row: int, when: date) -> int | None:
    """Length of the roll-forward block holding `row`, from its opening balance's date."""
    for i in range(row - 1, -1, -1):
        label = statement.items[i].label
        if normalize(label).startswith("balance"):
            start = caption_date(label)
            return round((when - start).days / 30.44) if start else None
    return None


def block_rows(
    statement: Statement, blocks: list[tuple[int, date]], predicate: Callable[[str], bool]
) -> list[int]:
    """Value rows inside some roll-forward block whose caption satisfies `predicate`."""
    return [
        i
        for i, it in enumerate(statement.items)
        if it.kind != "header"
        and has_values(it)
        and predicate(it.label)
        and any(i < end for end, _ in blocks)
    ]
