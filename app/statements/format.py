"""The statement format: the public output contract (see docs/statement-format.md).

Input: what the parse and verify stages build. Output: JSON other tools read, so fields may be
added but never renamed. Invariants: every value is a `Decimal` kept exactly as printed and
serialized as a string; `verified` is true only when at least one check ran and every check passed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

DecimalStr = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")]

StatementType = Literal[
    "income_statement", "comprehensive_income", "balance_sheet", "cash_flow", "shareholders_equity"
]
STATEMENT_TYPES: tuple[str, ...] = StatementType.__args__  # type: ignore[attr-defined]
ItemKind = Literal["header", "line", "total"]
ValueKind = Literal["monetary", "per_share", "shares", "percent"]
Engine = Literal["llmwhisperer", "local", "cache"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    """Where a row was read: 1-based page, 1-based line of that page's text, box in PDF points."""

    page: int
    line: int
    bbox: tuple[float, float, float, float] | None = None


class Column(_Model):
    key: str
    header: str
    period_end: str | None = None
    period_months: int | None = None
    value_kind: ValueKind | None = None
    unit: Literal["units", "thousands", "millions", "billions"] | None = None


class Item(_Model):
    label: str
    level: int = 0
    kind: ItemKind = "line"
    value_kind: ValueKind = "monetary"
    section: str | None = None
    values: list[DecimalStr | None]
    source: Source | None = None
    notes: list[str] | None = None
    footnotes: list[str] | None = None
    reading: list[str | None] | None = None
    repair: str | None = None
    confidence: float | None = None
    unit: Literal["units", "thousands", "millions", "billions"] | None = None


class Check(_Model):
    rule: str
    row: str
    column: str
    components: list[str] = Field(default_factory=list)
    printed: DecimalStr | None = None
    computed: DecimalStr | None = None
    ok: bool
    tolerance: DecimalStr | None = None
    row_index: int | None = None
    signs: list[int] | None = None
    # why a failed check may still hold right numbers, e.g. a total off by one in its last printed unit
    note: str | None = None


class Repair(_Model):
    row: str
    column: str
    hypothesis: str
    reading: str | None
    value: DecimalStr | None
    row_index: int | None = None


class TextSourceInfo(_Model):
    engine: Engine
    mode: str = "layout"
    ocr: bool = False


class Statement(_Model):
    id: str | None = None
    type: StatementType
    title: str
    company: str | None = None
    entity: str | None = None
    pages: list[int]
    currency: str | None = None
    unit: Literal["units", "thousands", "millions", "billions"] = "units"
    columns: list[Column]
    items: list[Item]
    checks: list[Check] = Field(default_factory=list)
    verified: bool = False
    repairs: list[Repair] | None = None
    reviewed: bool | None = None
    text_source: TextSourceInfo


class DocumentInfo(_Model):
    id: str | None = None
    filename: str | None = None
    sha256: str | None = None
    page_count: int | None = None


class StatementSet(_Model):
    """The top-level document: what `tieout extract` prints and the statements endpoints return."""

    document: DocumentInfo
    statements: list[Statement]
