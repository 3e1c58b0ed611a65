"""Request and response bodies of the detection and parse endpoints."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.statements.format import StatementSet, StatementType

MAX_PAGES = 200
MAX_PAGE_CHARS = 200_000


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(ge=1, description="1-based physical page number")
    text: str = Field(max_length=MAX_PAGE_CHARS, description="layout-preserving text or a pipe grid")
    mode: Literal["layout", "grid"] | None = Field(None, description="default: grid when the text has pipes")
    engine: Literal["llmwhisperer", "local"] = "local"
    ocr: bool = False


class DetectionIn(BaseModel):
    """Either page text, or a stored document whose pages are read with the local engine."""

    model_config = ConfigDict(extra="forbid")

    pages: list[PageIn] | None = Field(None, max_length=MAX_PAGES)
    document_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DetectionIn:
        if (self.pages is None) == (self.document_id is None):
            raise ValueError("give either pages or document_id")
        if self.pages is not None and not self.pages:
            raise ValueError("pages must not be empty")
        return self


class DetectionOut(BaseModel):
    type: StatementType
    pages: list[int]
    confidence: float
    title: str
    entity: str | None = None
    evidence: dict[str, Any]


class DetectionResult(BaseModel):
    pages_read: list[int]
    detections: list[DetectionOut]


class ParseIn(BaseModel):
    """Page text to parse. With `type`, the pages are taken as that one statement (no detection)."""

    model_config = ConfigDict(extra="forbid")

    pages: list[PageIn] = Field(min_length=1, max_length=MAX_PAGES)
    type: StatementType | None = None
    title: str | None = Field(None, max_length=500)


class ParseResult(BaseModel):
    detections: list[DetectionOut]
    result: StatementSet
