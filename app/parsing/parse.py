"""The parse stage: page text of one detected statement → a `Statement` with every value as printed.

Input: all `PageText`s of the document (or just the statement's) and the statement's `Detection`.
Output: `Statement` (columns, items with provenance, unit, currency, company, title, text source),
unverified and without checks: verification adds those. Pure: no I/O.
Invariants: one statement per detection, however many pages it spans; later pages reuse the first
page's columns; a page that holds a pipe grid is read as a grid whatever its declared mode.
"""

from __future__ import annotations

import re

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.grid import is_grid, read_grid
from app.parsing.header import build_columns, read_heading
from app.parsing.layout import read_layout
from app.parsing.rows import build_items
from app.parsing.stacked import join_tables, split_stacked
from app.parsing.table import RawRow, Table, is_furniture
from app.statements.format import Statement, TextSourceInfo

_TITLE_LINE_RE = re.compile(
    r"^[^0-9|]{0,40}\b(?:statements? of|income statements?|balance sheets?)\b[^|]{0,100}$", re.IGNORECASE
)
_TYPE_WORDS = {
    "comprehensive_income": r"comprehensive",
    "cash_flow": r"cash flows?",
    "shareholders_equity": r"equity|shareholders|stockholders",
    "balance_sheet": r"balance sheets?|financial position|financial condition",
    "income_statement": r"income|operations|earnings|profit or loss",
}


def statement_region(text: str, statement_type: str, title: str = "") -> str:
    """The part of a page that holds this statement when several are printed on one page.

    Other statements' lines are blanked, so line numbers stay those of the page."""
    lines = text.split("\n")
    titles = [
        k
        for k, line in enumerate(lines)
        if _TITLE_LINE_RE.match(line.strip())
        and line.strip()[:1].isupper()
        and len(line.split()) <= 14
        and not is_furniture(line)
    ]
    if len(titles) < 2:
        return text
    spans = list(zip(titles, [*titles[1:], len(lines)], strict=True))
    wanted = title.strip().lower()

    def fits(span: tuple[int, int]) -> int:
        line = lines[span[0]].strip().lower()
        if wanted and line == wanted:
            return 3
        order = list(_TYPE_WORDS)
        for rank, kind in enumerate(order):
            if re.search(_TYPE_WORDS[kind], line):
                return 2 if kind == statement_type else (1 if order.index(statement_type) > rank else 0)
        return 0

    start, end = max(spans, key=fits)
    return "\n".join(line if k < titles[0] or start <= k < end else "" for k, line in enumerate(lines))


def read_table(page: PageText, zones_from: Table | None = None, text: str | None = None) -> Table | None:
    """Read one page as a grid or as aligned columns."""
    text = page.text if text is None else text
    if page.mode == "grid" or is_grid(text):
        return read_grid(text, page.page)
    return read_layout(text, page.page, zones_from.zones if zones_from else None)


def _read_stacked(page: PageText, text: str) -> Table | None:
    """A page holding tables stacked under their own column headers, read as one table."""
    if page.mode == "grid" or is_grid(text):
        return None
    parts = split_stacked(text)
    if len(parts) < 2:
        return None
    tables = [read_layout(part, page.page) for part in parts]
    if any(t is None for t in tables):
        return None
    base = tables[0]
    return base if all(join_tables(base, t) for t in tables[1:]) else None


def _engine(name: str) -> str:
    lowered = name.lower()
    if "whisper" in lowered or lowered.startswith("llm"):
        return "llmwhisperer"
    return "cache" if lowered == "cache" else "local"


def parse_statement(pages: list[PageText], detection: Detection) -> Statement:
    """Parse the pages of one detected statement into the statement format."""
    by_number = {p.page: p for p in pages}
    wanted = [by_number[n] for n in detection.pages if n in by_number]
    tables: list[Table] = []
    for page in wanted:
        text = statement_region(page.text, detection.type, detection.title)
        table = _read_stacked(page, text) or read_table(page, text=text)
        if table is not None and tables and table.width != tables[0].width and table.mode == "layout":
            table = read_table(page, tables[0], text) or table
        if table is not None:
            tables.append(table)
    first = tables[0] if tables else None
    heading = [line for t in tables[:1] for line in t.heading]
    stacks = first.headers if first else []
    rows: list[RawRow] = []
    for table in tables:
        if table.width == len(stacks):
            rows.extend(table.rows)
    cell_text = " ".join(c for r in rows for c in r.cells if c)
    head = read_heading(heading, detection.title, cell_text)
    columns = build_columns(stacks, detection.type, heading)
    matrix = detection.type == "shareholders_equity" and not any(c.period_end for c in columns)
    mode = "grid" if any(t.mode == "grid" for t in tables) else (wanted[0].mode if wanted else "layout")
    return Statement(
        type=detection.type,
        title=head.title or detection.title,
        company=head.company,
        entity=detection.entity,
        pages=list(detection.pages),
        currency=head.currency,
        unit=head.unit,
        columns=columns,
        items=build_items(
            rows,
            columns,
            by_number,
            matrix,
            equity=detection.type == "shareholders_equity",
            balance_sheet=detection.type == "balance_sheet",
        ),
        verified=False,
        text_source=TextSourceInfo(
            engine=_engine(wanted[0].engine if wanted else "local"),
            mode=mode,
            ocr=any(p.ocr for p in wanted),
        ),
    )
