"""Excel export: one formatted sheet per statement, plus Checks and Sources sheets.

Input: a `StatementSet`. Output: .xlsx bytes. Invariants: numbers are written as numbers (from the
exact decimal strings), shown with as many decimals as the filing printed for that kind of value
(never a bare trailing point), per-share and share rows keep their own number formats, totals are
bold over a rule, and unverified statements say so in their heading.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from app.statements.format import Column, Item, Statement, StatementSet

# Fewest decimals shown per kind of value; more when the filing printed more (e.g. 110.9).
MIN_DECIMALS = {"monetary": 0, "shares": 0, "per_share": 2, "percent": 1}
MAX_DECIMALS = 6
TITLE_FONT = Font(bold=True, size=13)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
RULE = Border(top=Side(style="thin"))
WARN_FONT = Font(bold=True, color="B00020")


def statements_to_xlsx(document: StatementSet) -> bytes:
    """A workbook with a sheet per statement, then Checks and Sources."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for statement in document.statements:
        _statement_sheet(book.create_sheet(_sheet_name(statement, used)), statement)
    _checks_sheet(book.create_sheet("Checks"), document)
    _sources_sheet(book.create_sheet("Sources"), document)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(statement: Statement, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", statement.type.replace("_", " ").title())[:28]
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]} {n}", n + 1
    used.add(name)
    return name


def number_format(kind: str, decimals: int) -> str:
    """Excel format for a kind of value: thousands separators, negatives in parentheses, zero as a dash."""
    places = min(MAX_DECIMALS, max(decimals, MIN_DECIMALS.get(kind, 0)))
    shown = "#,##0" + ("." + "0" * places if places else "")
    return f'{shown};({shown});"—"'


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _header(column: Column, *, repeated: bool) -> str:
    """The printed header; with its period added when another column prints the same words
    ("Adjusted" under two different half-years)."""
    if not repeated or not column.period_end:
        return column.header
    span = f"{column.period_months} months to " if column.period_months else ""
    return f"{column.header}\n({span}{column.period_end})"


def _kind(statement: Statement, item: Item, index: int) -> str:
    """A column's own kind (the shares column of an equity matrix) wins over the row's."""
    column = statement.columns[index] if index < len(statement.columns) else None
    return (column.value_kind if column else None) or item.value_kind


def _formats(statement: Statement) -> dict[str, str]:
    """One format per kind of value in the statement, so a column's figures line up."""
    places: dict[str, int] = defaultdict(int)
    for item in statement.items:
        for index, value in enumerate(item.values):
            if value is not None:
                kind = _kind(statement, item, index)
                places[kind] = max(places[kind], _decimals(value))
    kinds = set(MIN_DECIMALS) | set(places)
    return {kind: number_format(kind, places[kind]) for kind in kinds}


def _statement_sheet(sheet, statement: Statement) -> None:
    sheet["A1"] = statement.company or ""
    sheet["A2"] = statement.title
    sheet["A2"].font = TITLE_FONT
    scale = f"{statement.currency or ''} {statement.unit}".strip()
    status = "verified" if statement.verified else "NOT VERIFIED: see the Checks sheet"
    sheet["A3"] = f"({scale}; pages {', '.join(map(str, statement.pages))}; {status})"
    if not statement.verified:
        sheet["A3"].font = WARN_FONT
    # The scale heads the label column, so it stays in view under the frozen header row.
    corner = sheet.cell(row=5, column=1, value=scale)
    corner.font, corner.fill = Font(bold=True), HEADER_FILL
    formats = _formats(statement)
    headers = [column.header for column in statement.columns]
    for j, column in enumerate(statement.columns, start=2):
        cell = sheet.cell(row=5, column=j, value=_header(column, repeated=headers.count(column.header) > 1))
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(j)].width = 16
    sheet.column_dimensions["A"].width = 60
    for i, item in enumerate(statement.items, start=6):
        label = sheet.cell(row=i, column=1, value=item.label)
        label.alignment = Alignment(indent=item.level)
        bold = item.kind in ("header", "total")
        label.font = Font(bold=bold)
        for j, value in enumerate(item.values, start=2):
            cell = sheet.cell(row=i, column=j, value=value)
            cell.number_format = formats[_kind(statement, item, j - 2)]
            if item.kind == "total":
                cell.font, cell.border = Font(bold=True), RULE
    sheet.freeze_panes = "B6"


def _checks_sheet(sheet, document: StatementSet) -> None:
    sheet.append(["statement", "rule", "row", "column", "components", "printed", "computed", "ok"])
    for statement in document.statements:
        for check in statement.checks:
            sheet.append(
                [
                    statement.type,
                    check.rule,
                    check.row,
                    check.column,
                    "; ".join(check.components),
                    check.printed,
                    check.computed,
                    "ok" if check.ok else "FAIL",
                ]
            )
    _table_header(sheet, widths=[22, 14, 40, 16, 60, 14, 14, 6])


def _sources_sheet(sheet, document: StatementSet) -> None:
    sheet.append(["statement", "label", "page", "line", "bbox", "reading", "repair"])
    for statement in document.statements:
        for item in statement.items:
            source = item.source
            sheet.append(
                [
                    statement.type,
                    item.label,
                    source.page if source else None,
                    source.line if source else None,
                    ", ".join(f"{v:.1f}" for v in source.bbox) if source and source.bbox else None,
                    " | ".join(v or "" for v in item.reading) if item.reading else None,
                    item.repair,
                ]
            )
    _table_header(sheet, widths=[22, 60, 6, 6, 28, 20, 30])


def _table_header(sheet, *, widths: list[int]) -> None:
    """Bold shaded header row that stays in view, a filter on every column, readable widths."""
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
