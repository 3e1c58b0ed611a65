"""Helpers for extraction tests: the figures of a truth file, found in layout text.

`number_hits` counts the truth values that appear anywhere in a text (as a multiset, so a value printed
twice must be found twice). `row_problems` is stricter: each truth row's values must sit on the line
that carries its label, in order, and each column's figures must end at the same character column.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

_CELL_SPLIT = re.compile(r"\s{2,}")
_NUMBER = re.compile(r"\(?\$?\s?-?\d[\d,]*(?:\.\d+)?\)?%?|(?<!\S)[-—–](?!\S)")


def parse_figure(cell: str) -> Decimal | None:
    """A printed figure as a decimal: `(1,234)` → -1234, a dash → 0; None when not a figure."""
    text = cell.strip().replace("$", "").replace(",", "").replace(" ", "").rstrip("%")
    if text in {"-", "—", "–"}:
        return Decimal(0)
    negative = text.startswith("(") and text.endswith(")")
    try:
        value = Decimal(text.strip("()"))
    except InvalidOperation:
        return None
    return -value if negative else value


def text_figures(text: str) -> Counter:
    found = Counter()
    for match in _NUMBER.finditer(text):
        value = parse_figure(match.group())
        if value is not None:
            found[value] += 1
    return found


def truth_values(truth: dict) -> list[Decimal]:
    return [
        Decimal(value)
        for statement in truth["statements"]
        for item in statement["items"]
        for value in item["values"]
        if value is not None
    ]


def number_hits(truth: dict, text: str) -> tuple[int, int, list[Decimal]]:
    """(hits, total, missing) for the truth values found in `text`, counted as a multiset."""
    wanted = Counter(truth_values(truth))
    found = text_figures(text)
    missing = [value for value, count in wanted.items() for _ in range(count - min(count, found[value]))]
    return sum(wanted.values()) - len(missing), sum(wanted.values()), missing


def norm_label(label: str) -> str:
    text = label.lower().replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _cells(line: str) -> list[tuple[str, int, int]]:
    cells, position = [], 0
    for part in _CELL_SPLIT.split(line):
        start = line.index(part, position) if part else position
        position = start + len(part)
        if part.strip():
            cells.append((part.strip(), start, position))
    return cells


def row_problems(statement: dict, texts: str | list[str]) -> list[str]:
    """Problems with the truth rows of one statement in layout text (empty when all is well).

    `texts` is one text per page: rows are looked for in order across the pages, and each column's
    figures must end at the same character column within a page.
    """
    pages = [texts] if isinstance(texts, str) else texts
    lines = [(page, line) for page, text in enumerate(pages) for line in text.splitlines()]
    problems: list[str] = []
    ends: dict[tuple[int, int], list[int]] = {}
    cursor = 0
    for item in statement["items"]:
        values = [Decimal(v) for v in item["values"] if v is not None]
        if not values:
            continue
        # Spaces are ignored in labels: OCR glues words ("Researchanddevelopment"); figures are the point.
        label = norm_label(item["label"]).replace(" ", "")[:30]
        for number in range(cursor, len(lines)):
            if norm_label(lines[number][1]).replace(" ", "").startswith(label):
                break
        else:
            problems.append(f"no line for {item['label']!r}")
            continue
        # A wrapped label carries its figures on its last line.
        for row in range(number, min(number + 3, len(lines))):
            cells = [(parse_figure(c), end) for c, _, end in _cells(lines[row][1])[1:] if c != "$"]
            if any(value is not None for value, _ in cells):
                break
        number = row
        cursor = number + 1
        got = [v for v, _ in cells if v is not None]
        if got != values:
            problems.append(f"{item['label']!r}: {got} != {values}")
            continue
        for column, (_, end) in enumerate(c for c in cells if c[0] is not None):
            ends.setdefault((lines[number][0], column), []).append(end)
    for (page, column), positions in ends.items():
        if max(positions) - min(positions) > 2:
            problems.append(
                f"page {page} column {column}: ends spread over {min(positions)}..{max(positions)}"
            )
    return problems
