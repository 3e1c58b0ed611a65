"""HTTP shapes of the statements API: the statement format plus where each statement came from."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.statements.format import Statement, StatementType


class StatementRead(Statement):
    """A stored statement in the public format, plus the document it was read from (an addition)."""

    document_id: uuid.UUID


class StatementPage(BaseModel):
    items: list[StatementRead]
    next_cursor: str | None = None


class StatementFilters(BaseModel):
    company: str | None = Field(
        None, max_length=200, description="Case-insensitive part of the company name."
    )
    type: StatementType | None = None
    period_end: date | None = Field(None, description="Has a column ending on this date.")
    verified: bool | None = None
    document_id: uuid.UUID | None = None
