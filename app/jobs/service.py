"""Reading and steering jobs for the API: list, get, cancel, retry, and the event stream.

Every query is scoped to the caller's `owner_id` (NULL is the shared no-auth scope), so a job of
someone else answers exactly like a job that does not exist. State changes go through `queue.py`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import ConflictError, NotFoundError, TieoutError, is_database_unavailable
from app.jobs import queue
from app.jobs.models import FINAL_STATUSES, Job
from app.jobs.schemas import JobEvent, JobFilters, JobPage, JobRead

KEEPALIVE_SECONDS = 15.0
MAX_JOB_ID = 2**63 - 1


def encode_cursor(job_id: int) -> str:
    return base64.urlsafe_b64encode(str(job_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The job id a cursor continues after; 422 (like every list) for anything this API never made."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:
        text = ""
    # Only what encode_cursor writes: a positive bigint, so the query can never overflow the column.
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= MAX_JOB_ID):
        raise TieoutError("invalid_cursor", "The cursor is not one this API returned.", 422)
    return int(text)


class JobService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, poll_seconds: float = 0.5) -> None:
        self.sessionmaker = sessionmaker
        self.poll_seconds = poll_seconds

    @staticmethod
    def _owned(owner_id: uuid.UUID | None) -> Select[tuple[Job]]:
        return select(Job).where(Job.owner_id.is_not_distinct_from(owner_id))

    async def _get(self, session: AsyncSession, job_id: int, owner_id: uuid.UUID | None) -> Job:
        job = (await session.execute(self._owned(owner_id).where(Job.id == job_id))).scalar_one_or_none()
        if job is None:
            raise NotFoundError("job_not_found", "No job with this id.")
        return job

    async def get_job(self, session: AsyncSession, job_id: int, *, owner_id: uuid.UUID | None) -> JobRead:
        """The job, or 404 whether it does not exist or belongs to someone else."""
        return JobRead.model_validate(await self._get(session, job_id, owner_id))

    async def list_jobs(
        self,
        session: AsyncSession,
        filters: JobFilters,
        *,
        owner_id: uuid.UUID | None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        """Newest first, `limit` at a time; `next_cursor` continues after the last item."""
        query = self._owned(owner_id).order_by(Job.id.desc()).limit(limit + 1)
        if filters.status is not None:
            query = query.where(Job.status == filters.status)
        if filters.type is not None:
            query = query.where(Job.type == filters.type)
        if cursor:
            query = query.where(Job.id < decode_cursor(cursor))
        jobs = list((await session.execute(query)).scalars())
        items = [JobRead.model_validate(job) for job in jobs[:limit]]
        next_cursor = encode_cursor(items[-1].id) if len(jobs) > limit else None
        return JobPage(items=items, next_cursor=next_cursor)

    async def cancel_job(self, session: AsyncSession, job_id: int, *, owner_id: uuid.UUID | None) -> JobRead:
        """Pending → cancelled now; running → asked to stop (the worker ends it); final → 409."""
        await self._get(session, job_id, owner_id)
        if await queue.request_cancel(session, job_id) is None:
            raise ConflictError("job_finished", "The job has already finished; nothing to cancel.")
        return await self._fresh(session, job_id, owner_id)

    async def retry_job(self, session: AsyncSession, job_id: int, *, owner_id: uuid.UUID | None) -> JobRead:
        """A failed or cancelled job back to pending with fresh attempts; otherwise 409."""
        await self._get(session, job_id, owner_id)
        if not await queue.retry_now(session, job_id):
            raise ConflictError("job_not_retryable", "Only failed or cancelled jobs can be retried.")
        return await self._fresh(session, job_id, owner_id)

    async def _fresh(self, session: AsyncSession, job_id: int, owner_id: uuid.UUID | None) -> JobRead:
        job = await self._get(session, job_id, owner_id)
        await session.refresh(job)
        return JobRead.model_validate(job)

    async def events(self, job_id: int, *, owner_id: uuid.UUID | None) -> AsyncIterator[str]:
        """SSE frames of the job's state each time it changes, until it ends; own short sessions."""
        last: dict[str, Any] | None = None
        quiet = 0.0
        while True:
            try:
                async with self.sessionmaker() as session:
                    job = await self._get(session, job_id, owner_id)
                    event = JobEvent.model_validate(job, from_attributes=True)
            except NotFoundError:  # deleted with its document while we watched
                yield f"event: end\ndata: {json.dumps({'id': job_id, 'status': 'deleted'})}\n\n"
                return
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                yield ": database unavailable, retrying\n\n"
            else:
                data = event.model_dump(mode="json")
                if data != last:
                    last, quiet = data, 0.0
                    yield f"event: {event.status}\ndata: {json.dumps(data)}\n\n"
                if event.status in FINAL_STATUSES:
                    yield f"event: end\ndata: {json.dumps({'id': job_id, 'status': event.status})}\n\n"
                    return
            await asyncio.sleep(self.poll_seconds)
            quiet += self.poll_seconds
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"
