"""Excel export: one formatted sheet per statement, plus Checks and Sources sheets.

Input: a `StatementSet`. Output: .xlsx bytes. Invariants: numbers are written as numbers (from the
exact decimal strings), per-share and share rows keep their own number formats, totals are bold over
a rule, and unverified statements say so in their heading.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from app.statements.format import Statement, StatementSet

NUMBER_FORMATS = {
    "monetary": '#,##0.##;(#,##0.##);"—"',
    "shares": '#,##0;(#,##0);"—"',
    "per_share": '0.00;(0.00);"—"',
    "percent": "0.0#",
}
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


def _statement_sheet(sheet, statement: Statement) -> None:
    sheet["A1"] = statement.company or ""
    sheet["A2"] = statement.title
    sheet["A2"].font = TITLE_FONT
    scale = f"{statement.currency or ''} {statement.unit}".strip()
    status = "verified" if statement.verified else "NOT VERIFIED: see the Checks sheet"
    sheet["A3"] = f"({scale}; pages {', '.join(map(str, statement.pages))}; {status})"
    if not statement.verified:
        sheet["A3"].font = WARN_FONT
    for j, column in enumerate(statement.columns, start=2):
        cell = sheet.cell(row=5, column=j, value=column.header)
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
            cell.number_format = NUMBER_FORMATS.get(item.value_kind, NUMBER_FORMATS["monetary"])
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
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL


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
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
