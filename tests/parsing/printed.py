"""Income statements that foot, printed the many ways filings print them, as layout page text.

A `Printed` statement is plain data (labels, levels, exact values, how totals are formed); `page_texts`
lays it out as the local extractor does: centred heading, period phrases centred over the columns
they span ("Three Months Ended" over two columns), per-column headers, an optional note-reference
column and percentage columns, negatives in parentheses or with a leading or trailing minus, zeros
as "—", "-" or "nil", and optionally the rows split over two pages, the second titled "(continued)".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Row:
    label: str
    level: int
    kind: str  # "header", "line", "total"
    values: tuple[Decimal, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Style:
    negative: str = "parens"  # "parens", "minus", "trailing"
    zero: str = "—"
    dollar: bool = False
    gap: int = 4
    indent: int = 2
    percent_columns: bool = False  # a percentage column after each amount column
    percent_header: str = "%"  # "%", "% of revenue"; with "%" the cells may print no sign
    percent_sign: bool = True
    notes: bool = False
    unit_in_header: bool = False  # the unit line printed left of the last column-header row


@dataclass
class Printed:
    title: str
    company: str
    unit_line: str | None
    spans: list[tuple[str, int]]  # period phrases, each over this many columns, left to right
    column_headers: list[list[str]]  # per amount column, stacked top to bottom under the spans
    rows: list[Row]
    split_at: int | None = None  # rows from this index on go to a second page
    style: Style = field(default_factory=Style)


def amount(value: Decimal, style: Style, places: int = 0) -> str:
    if value == 0:
        return style.zero
    text = f"{abs(value):,.{places}f}"
    if value < 0:
        text = {"parens": f"({text})", "minus": f"-{text}", "trailing": f"{text}-"}[style.negative]
    return text


def _percent(value: Decimal, base: Decimal, sign: bool) -> str:
    if base == 0:
        return ""
    return f"{(value * 100 / base):.1f}" + ("%" if sign else "")


def _columns(printed: Printed) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """Header stacks of every printed column, and each row's cells, with percentage columns added."""
    style = printed.style
    revenue = next(r.values for r in printed.rows if r.label.lower() in ("total revenue", "revenue"))
    headers: list[list[str]] = []
    for stack in printed.column_headers:
        headers.append(stack)
        if style.percent_columns:
            headers.append([style.percent_header])
    value_rows = [r for r in printed.rows if r.kind != "header"]
    dollar_rows = (value_rows[0], value_rows[-1]) if style.dollar else ()
    cells = []
    for row in printed.rows:
        out: list[str] = []
        for k, value in enumerate(row.values):
            text = amount(value, style)
            out.append(f"$ {text}" if any(row is r for r in dollar_rows) else text)
            if style.percent_columns:
                out.append(_percent(value, revenue[k], style.percent_sign))
        if row.kind == "header":
            out = [""] * len(headers)
        cells.append((row.label, out))
    return headers, cells


def _page(printed: Printed, rows: list[tuple[Row, tuple[str, list[str]]]], continued: bool) -> str:
    style = printed.style
    headers, _ = _columns(printed)
    per = 2 if style.percent_columns else 1
    widest = [c for _, (_, cells) in rows for c in cells] + [h for stack in headers for h in stack]
    width = max(len(c) for c in widest) + style.gap
    for text, count in printed.spans:
        width = max(width, (len(text) + 2) // (count * per) + 1)
    unit = len(printed.unit_line or "") if style.unit_in_header else 0
    label_width = max([len(r.label) + style.indent * r.level for r, _ in rows] + [unit]) + style.gap
    note_width = 8 if style.notes else 0
    left = label_width + note_width
    page_width = left + width * len(headers)
    title = printed.title + (" (continued)" if continued else "")
    unit_line = printed.unit_line if printed.unit_line and not style.unit_in_header else None
    heading = [printed.company, title] + ([unit_line] if unit_line else [])
    out = [line.center(page_width).rstrip() for line in heading] + [""]
    if printed.spans:
        line, at = " " * left, 0
        for text, count in printed.spans:
            line += text.center(width * count * per)
            at += count
        out.append(line.rstrip())
    depth = max(len(stack) for stack in headers)
    for level in range(depth):
        line = " " * label_width + (
            "Note".rjust(note_width - 2) + "  " if style.notes and level == depth - 1 else ""
        )
        if style.unit_in_header and printed.unit_line and level == depth - 1:
            line = printed.unit_line + line[len(printed.unit_line) :]
        line = line.ljust(left)
        for stack in headers:
            text = stack[level - depth + len(stack)] if level >= depth - len(stack) else ""
            line += text.rjust(width)
        out.append(line.rstrip())
    for row, (label, cells) in rows:
        line = (" " * (style.indent * row.level) + label).ljust(label_width)
        if style.notes:
            line += (row.note or "").rjust(note_width - 2) + "  "
        line += "".join(cell.rjust(width) for cell in cells)
        out.append(line.rstrip())
    out += ["", "See accompanying notes.".center(page_width), "", "12"]
    return "\n".join(out) + "\n"


def page_texts(printed: Printed) -> list[str]:
    """One page of text, or two when the statement is split."""
    _, cells = _columns(printed)
    pairs = list(zip(printed.rows, cells, strict=True))
    if printed.split_at is None:
        return [_page(printed, pairs, False)]
    return [_page(printed, pairs[: printed.split_at], False), _page(printed, pairs[printed.split_at :], True)]
