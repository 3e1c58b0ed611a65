"""HTTP shapes of the documents API: upload options, document reads, pages of documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.statements.format import StatementType

JobStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]
EngineChoice = Literal["auto", "llmwhisperer", "local"]


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    sha256: str
    size_bytes: int
    page_count: int
    engine: str | None = None
    pages: list[int] | None = None
    job_id: int | None = None
    status: JobStatus | None = Field(None, description="Status of the document's latest extraction job.")
    progress: int | None = None
    stage: str | None = None
    created_at: datetime


class UploadAccepted(BaseModel):
    document: DocumentRead
    job_id: int


class DocumentPage(BaseModel):
    items: list[DocumentRead]
    next_cursor: str | None = None


class DocumentFilters(BaseModel):
    status: JobStatus | None = None
    company: str | None = Field(None, max_length=200, description="Case-insensitive part of a company name.")
    type: StatementType | None = Field(None, description="Has a statement of this type.")
    uploaded_from: date | None = Field(None, description="Uploaded on or after this day (UTC).")
    uploaded_to: date | None = Field(None, description="Uploaded on or before this day (UTC).")

    @model_validator(mode="after")
    def _ordered_dates(self) -> DocumentFilters:
        if self.uploaded_from and self.uploaded_to and self.uploaded_from > self.uploaded_to:
            raise ValueError("uploaded_from is after uploaded_to")
        return self


class UploadOptions(BaseModel):
    """The optional form fields of an upload, validated once."""

    model_config = ConfigDict(extra="forbid")

    engine: EngineChoice | None = None
    pages: list[int] | None = None
