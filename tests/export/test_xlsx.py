"""The Excel export read back with openpyxl: formats a financial reader expects, not just the numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from app.export.xlsx import number_format, statements_to_xlsx
from app.statements.format import Check, Column, DocumentInfo, Item, Statement, StatementSet, TextSourceInfo

INTEGERS = '#,##0;(#,##0);"—"'
ONE_DECIMAL = '#,##0.0;(#,##0.0);"—"'
TWO_DECIMALS = '#,##0.00;(#,##0.00);"—"'


def column(key: str, header: str, period_end: str, **extra: object) -> Column:
    return Column(key=key, header=header, period_end=period_end, period_months=6, **extra)


def statement(items: list[Item], columns: list[Column] | None = None) -> Statement:
    columns = columns or [column("a", "2025", "2025-06-30"), column("b", "2024", "2024-06-30")]
    return Statement(
        type="income_statement",
        title="Condensed Consolidated Income Statement",
        company="XP Power Limited",
        pages=[14],
        currency="GBP",
        unit="millions",
        columns=columns,
        items=items,
        checks=[
            Check(
                rule="sum", row="Gross profit", column="a", printed=Decimal(46), computed=Decimal(46), ok=True
            )
        ],
        verified=True,
        text_source=TextSourceInfo(engine="local"),
    )


def workbook(*statements: Statement):
    document = StatementSet(document=DocumentInfo(filename="x.pdf"), statements=list(statements))
    return load_workbook(io.BytesIO(statements_to_xlsx(document)))


def d(*values: str) -> list[Decimal | None]:
    return [Decimal(v) for v in values]


class TestNumberFormats:
    def test_whole_numbers_show_no_decimal_point(self) -> None:
        # '#,##0.##' showed 3,895 as "3,895." in Excel and LibreOffice.
        sheet = workbook(statement([Item(label="Revenue", values=d("3895", "-4181"))])).active
        assert sheet["B6"].value == 3895 and sheet["B6"].number_format == INTEGERS
        assert "." not in sheet["C6"].number_format

    def test_decimals_follow_what_the_filing_printed_for_the_whole_statement(self) -> None:
        items = [Item(label="Revenue", values=d("110.9", "127.1")), Item(label="Other", values=d("-65", "0"))]
        sheet = workbook(statement(items)).active
        assert {sheet[ref].number_format for ref in ("B6", "C6", "B7", "C7")} == {ONE_DECIMAL}

    def test_per_share_rows_keep_two_decimals_and_shares_none(self) -> None:
        items = [
            Item(label="Revenue", values=d("10918", "11716")),
            Item(label="Basic", value_kind="per_share", values=d("4.5", "6.81")),
            Item(label="Shares", value_kind="shares", values=d("612", "610")),
        ]
        sheet = workbook(statement(items)).active
        assert [sheet[f"B{r}"].number_format for r in (6, 7, 8)] == [INTEGERS, TWO_DECIMALS, INTEGERS]

    def test_a_columns_own_kind_wins(self) -> None:
        columns = [
            column("s", "Shares", "2025-06-30", value_kind="shares"),
            column("m", "Amount", "2025-06-30"),
        ]
        sheet = workbook(statement([Item(label="Balance", values=d("612", "1.5"))], columns)).active
        assert (sheet["B6"].number_format, sheet["C6"].number_format) == (INTEGERS, ONE_DECIMAL)

    def test_format_shape(self) -> None:
        assert number_format("monetary", 0) == INTEGERS
        assert number_format("per_share", 0) == TWO_DECIMALS
        assert number_format("monetary", 20) == '#,##0.000000;(#,##0.000000);"—"'  # at most 6


class TestLayout:
    def test_scale_heads_the_label_column_in_the_frozen_header(self) -> None:
        sheet = workbook(statement([Item(label="Revenue", values=d("1", "2"))])).active
        assert sheet.freeze_panes == "B6"
        assert sheet["A5"].value == "GBP millions"
        assert sheet["A5"].font.b and sheet["A5"].fill.fgColor.rgb == sheet["B5"].fill.fgColor.rgb

    def test_repeated_headers_get_their_period(self) -> None:
        columns = [column("a", "Adjusted", "2025-06-30"), column("b", "Adjusted", "2024-06-30")]
        sheet = workbook(statement([Item(label="Revenue", values=d("1", "2"))], columns)).active
        assert sheet["B5"].value == "Adjusted\n(6 months to 2025-06-30)"
        assert sheet["C5"].value == "Adjusted\n(6 months to 2024-06-30)"

    def test_distinct_headers_stay_as_printed(self) -> None:
        sheet = workbook(statement([Item(label="Revenue", values=d("1", "2"))])).active
        assert (sheet["B5"].value, sheet["C5"].value) == ("2025", "2024")

    def test_checks_and_sources_are_filterable_tables(self) -> None:
        book = workbook(statement([Item(label="Revenue", values=d("1", "2"))]))
        for name in ("Checks", "Sources"):
            sheet = book[name]
            assert sheet.freeze_panes == "A2", name
            assert sheet.auto_filter.ref == sheet.dimensions, name
            assert sheet.column_dimensions["A"].width > 10, name
        assert book["Checks"]["F2"].value == 46  # printed, as a number
