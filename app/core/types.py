"""Shared Annotated types for request and response models."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, PlainSerializer, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
PageNumber = Annotated[int, Field(ge=1, description="1-based page number")]
# Money travels as an exact decimal string, never as a float.
DecimalStr = Annotated[Decimal, PlainSerializer(lambda value: format(value, "f"), return_type=str)]


class Pagination(BaseModel):
    """Cursor pagination parameters shared by list endpoints."""

    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=512)


PaginationQuery = Annotated[Pagination, Query()]
