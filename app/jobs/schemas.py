"""Job shapes at the HTTP boundary: a job as read, a page of jobs, list filters, a stream event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    status: JobStatus
    priority: int
    attempts: int
    max_attempts: int
    progress: int = Field(ge=0, le=100)
    stage: str | None
    args: dict[str, Any]
    result: Any | None
    error: dict[str, Any] | None
    history: list[dict[str, Any]]
    cancel_requested: bool
    run_after: datetime
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    items: list[JobRead]
    next_cursor: str | None = None


class JobFilters(BaseModel):
    status: JobStatus | None = None
    type: str | None = Field(None, max_length=200)


class JobEvent(BaseModel):
    """One Server-Sent Event of `GET /jobs/{id}/events`: the job's state when it changed."""

    id: int
    status: JobStatus
    progress: int
    stage: str | None
    attempts: int
    error: dict[str, Any] | None
    result: Any | None
