"""HTTP routes of jobs: list, read, cancel, retry, and a Server-Sent Events stream of progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from app.core.db import DbSession
from app.core.openapi import error_responses
from app.core.types import PaginationQuery
from app.documents.dependencies import OwnerId
from app.jobs.schemas import JobFilters, JobPage, JobRead
from app.jobs.service import JobService

router = APIRouter(prefix="/jobs", tags=["jobs"])


async def get_job_service(request: Request) -> JobService:
    """The process's `JobService`: the one the lifespan built, else built once on first use."""
    state = request.app.state
    service = getattr(state, "job_service", None)
    if service is None:
        service = state.job_service = JobService(state.sessionmaker)
    return service


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


NOT_FOUND = error_responses(404)
SSE_RESPONSE = {
    200: {
        "description": "One `event: <status>` frame each time the job changes (`data`: JSON with id, "
        "status, progress, stage, attempts, error, result), `: keep-alive` comments, then `event: end`.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("", response_model=JobPage, summary="List jobs")
async def list_jobs(
    session: DbSession,
    service: JobServiceDep,
    owner_id: OwnerId,
    page: PaginationQuery,
    filters: Annotated[JobFilters, Query()],
) -> JobPage:
    """Newest first, `limit` at a time; pass `next_cursor` back as `cursor` for the next page."""
    return await service.list_jobs(session, filters, owner_id=owner_id, limit=page.limit, cursor=page.cursor)


@router.get("/{job_id}", response_model=JobRead, summary="Get a job", responses=NOT_FOUND)
async def get_job(job_id: JobId, session: DbSession, service: JobServiceDep, owner_id: OwnerId) -> JobRead:
    """Status, stage, progress, attempts, the last error and the result once it succeeded."""
    return await service.get_job(session, job_id, owner_id=owner_id)


@router.post(
    "/{job_id}/cancel", response_model=JobRead, summary="Cancel a job", responses=error_responses(404, 409)
)
async def cancel_job(job_id: JobId, session: DbSession, service: JobServiceDep, owner_id: OwnerId) -> JobRead:
    """Cancel a pending job at once, or ask a running one to stop; 409 if it already finished."""
    return await service.cancel_job(session, job_id, owner_id=owner_id)


@router.post(
    "/{job_id}/retry", response_model=JobRead, summary="Retry a job", responses=error_responses(404, 409)
)
async def retry_job(job_id: JobId, session: DbSession, service: JobServiceDep, owner_id: OwnerId) -> JobRead:
    """Run a failed or cancelled job again with fresh attempts; 409 otherwise."""
    return await service.retry_job(session, job_id, owner_id=owner_id)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    summary="Follow a job (Server-Sent Events)",
    responses={**SSE_RESPONSE, **NOT_FOUND},
)
async def stream_job_events(
    job_id: JobId, session: DbSession, service: JobServiceDep, owner_id: OwnerId
) -> StreamingResponse:
    """Server-Sent Events: the job's status and progress whenever they change, until it ends."""
    await service.get_job(session, job_id, owner_id=owner_id)  # 404 before the stream starts
    return StreamingResponse(
        service.events(job_id, owner_id=owner_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
