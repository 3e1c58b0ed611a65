"""Long-form CSV export: one row per statement line and column.

Input: a `StatementSet`. Output: UTF-8 CSV bytes with a header row. Invariant: values are written
exactly as the statement format holds them (decimal strings), never through float.
"""

from __future__ import annotations

import csv
import io

from app.statements.format import StatementSet

FIELDS = [
    "statement",
    "type",
    "title",
    "company",
    "currency",
    "unit",
    "verified",
    "row",
    "label",
    "level",
    "kind",
    "value_kind",
    "section",
    "column",
    "header",
    "period_end",
    "period_months",
    "value",
    "page",
    "line",
]


def statements_to_csv(document: StatementSet) -> bytes:
    """Every item × column of every statement as one CSV row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for number, statement in enumerate(document.statements, start=1):
        for row, item in enumerate(statement.items, start=1):
            for column, value in zip(statement.columns, item.values, strict=False):
                writer.writerow(
                    {
                        "statement": statement.id or number,
                        "type": statement.type,
                        "title": statement.title,
                        "company": statement.company or "",
                        "currency": statement.currency or "",
                        "unit": statement.unit,
                        "verified": str(statement.verified).lower(),
                        "row": row,
                        "label": item.label,
                        "level": item.level,
                        "kind": item.kind,
                        "value_kind": item.value_kind,
                        "section": item.section or "",
                        "column": column.key,
                        "header": column.header,
                        "period_end": column.period_end or "",
                        "period_months": column.period_months or "",
                        "value": "" if value is None else str(value),
                        "page": item.source.page if item.source else "",
                        "line": item.source.line if item.source else "",
                    }
                )
    return out.getvalue().encode("utf-8")
