"""Tables stacked on one page, each under its own column headers, read as one statement.

Input: one page's layout text (the statement's region) and the tables read from its parts.
Output: the parts of the page (other lines blanked, so line numbers stay those of the page) and the
later tables' rows laid out in the first table's columns. Invariants: a page is split only where a
new block of column headers (two or more header lines right of the labels) sits between value
lines; a later table's column joins the first table's column with the same header (same words in
any order); a column the first table lacks is added after the column to its left; if any column is
claimed twice, nothing is remapped and the caller keeps the page whole.
"""

from __future__ import annotations

import re
from itertools import pairwise

from app.parsing.columns import split_chunks
from app.parsing.header import is_period_header, period_months
from app.parsing.table import RawRow, Table, is_furniture, page_lines
from app.parsing.tokens import split_line

_WORDS_RE = re.compile(r"[a-z0-9]+")


def _header_line(raw: str, margin: int) -> bool:
    chunks = split_chunks(raw)
    return len(chunks) >= 2 and all(start > margin for start, _, _ in chunks)


def split_stacked(text: str) -> list[str]:
    """The page's stacked tables, each as the page text with the other tables' lines blanked."""
    raw = page_lines(text)
    lines = [split_line(n, r)[0] for n, r in enumerate(raw, 1)]
    data = [k for k, ln in enumerate(lines) if ln.values and not ln.years_only and not is_furniture(ln.raw)]
    labels = [lines[k].label[0].start for k in data if lines[k].label]
    if len(data) < 3 or not labels:
        return [text]
    margin = max(labels) + 2
    cuts = []
    for prev, nxt in pairwise(data):
        between = [k for k in range(prev + 1, nxt) if not lines[k].blank]
        heads = [k for k in between if _header_line(lines[k].raw, margin)]
        if len(heads) >= 2 and not any(lines[k].label and lines[k].label[0].start <= margin for k in heads):
            cuts.append(between[0])
    if not cuts:
        return [text]
    bounds = list(zip([0, *cuts], [*cuts, len(raw)], strict=True))
    return ["\n".join(r if lo <= k < hi else "" for k, r in enumerate(raw)) for lo, hi in bounds]


def _key(stack: list[str]) -> frozenset[str]:
    """A column's header words, without the period line printed over the whole table."""
    kept = [text for text in stack if not (is_period_header(text) or period_months(text))]
    return frozenset(_WORDS_RE.findall(" ".join(kept).lower().replace("’", "'")))


def merge_columns(
    first: list[list[str]], later: list[list[str]]
) -> tuple[list[list[str]], list[int], list[int]] | None:
    """Both tables' header stacks joined by header text; where each first and later column goes."""
    keys = [_key(stack) for stack in first]
    merged = [list(stack) for stack in first]
    olds = list(range(len(first)))
    placed: list[int] = []
    for stack in later:
        key = _key(stack)
        hits = [k for k, other in enumerate(keys) if other == key and k not in placed]
        if hits:
            placed.append(hits[0])
            continue
        at = (placed[-1] + 1) if placed else 0
        keys.insert(at, key)
        merged.insert(at, list(stack))
        olds = [p + (p >= at) for p in olds]
        placed = [p + (p >= at) for p in placed] + [at]
    matched = len(later) - (len(merged) - len(first))
    if placed != sorted(set(placed)) or not all(keys) or matched * 2 < len(later):
        return None
    return merged, olds, placed


def widen(rows: list[RawRow], where: list[int], width: int) -> list[RawRow]:
    """Rows moved into a wider set of columns: cell j goes to column where[j]."""
    out = []
    for row in rows:
        cells: list[str | None] = [None] * width
        for j, cell in enumerate(row.cells):
            cells[where[j]] = cell
        out.append(
            RawRow(row.page, row.line, row.label, cells, row.indent, row.notes, row.rule_above, row.dollar)
        )
    return out


def join_tables(first: Table, later: Table) -> bool:
    """Append `later`'s rows to `first`, columns matched by header; False when they do not match."""
    merged = merge_columns(first.headers, later.headers)
    if merged is None or not any(any(stack) for stack in later.headers):
        return False
    headers, olds, where = merged
    first.rows = widen(first.rows, olds, len(headers))
    first.rows += widen(later.rows, where, len(headers))
    first.headers = headers
    return True
