"""The jobs API over HTTP (in-process app, fresh database): list, read, cancel, retry, SSE events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.jobs import queue
from app.jobs.service import JobService
from app.main import create_app
from tests.conftest import open_client
from tests.jobs.waiting import wait_until


@pytest.fixture
async def db(app_settings: Settings) -> AsyncIterator[AsyncEngine]:
    assert app_settings.database_url is not None
    engine = create_async_engine(app_settings.database_url)
    yield engine
    await engine.dispose()


async def enqueue(db: AsyncEngine, task: str = "test.noop", **options: Any) -> int:
    async with db.begin() as conn:
        return await queue.enqueue(conn, task, {"n": 1}, **options)


async def claim_one(db: AsyncEngine) -> queue.ClaimedJob:
    async with db.begin() as conn:
        [job] = await queue.claim(conn, "test-worker", limit=1)
    return job


async def test_get_and_list_with_filters_and_cursor(client: httpx.AsyncClient, db: AsyncEngine) -> None:
    ids = [await enqueue(db, "test.noop") for _ in range(5)]
    other = await enqueue(db, "test.other")
    answer = await client.get(f"/api/v1/jobs/{ids[0]}")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["status"], body["progress"], body["args"]) == (ids[0], "pending", 0, {"n": 1})

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"type": "test.noop", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/jobs", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    pending = (await client.get("/api/v1/jobs", params={"status": "running"})).json()
    assert pending["items"] == []
    assert other not in seen


@pytest.mark.parametrize("path", ["/api/v1/jobs/999999", "/api/v1/jobs/999999/events"])
async def test_unknown_job_is_404_with_the_error_body(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "job_not_found"


async def test_bad_ids_and_cursors_are_client_errors(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/api/v1/jobs/{2**70}")).status_code == 422
    assert (await client.get("/api/v1/jobs", params={"status": "bogus"})).status_code == 422
    assert (await client.get("/api/v1/jobs", params={"cursor": "@@@"})).status_code == 422


async def test_cancel_pending_running_and_finished(client: httpx.AsyncClient, db: AsyncEngine) -> None:
    pending = await enqueue(db)
    answer = await client.post(f"/api/v1/jobs/{pending}/cancel")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"

    running = await enqueue(db)
    await claim_one(db)
    answer = await client.post(f"/api/v1/jobs/{running}/cancel")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["cancel_requested"]) == ("running", True)

    again = await client.post(f"/api/v1/jobs/{pending}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    assert (await client.post("/api/v1/jobs/999999/cancel")).status_code == 404


async def test_retry_failed_job_only(client: httpx.AsyncClient, db: AsyncEngine) -> None:
    job_id = await enqueue(db, max_attempts=1)
    assert (await client.post(f"/api/v1/jobs/{job_id}/retry")).status_code == 409
    job = await claim_one(db)
    async with db.begin() as conn:
        await queue.fail(conn, job.lease, {"code": "bad", "message": "boom"})
    answer = await client.post(f"/api/v1/jobs/{job_id}/retry")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["attempts"], answer.json()["error"]) == (
        "pending",
        0,
        None,
    )


async def test_jobs_of_another_owner_look_like_unknown_ids(
    client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    theirs = await enqueue(db, owner_id=uuid.uuid4())
    for method, path in (
        ("GET", "/api/v1/jobs/{}"),
        ("POST", "/api/v1/jobs/{}/cancel"),
        ("POST", "/api/v1/jobs/{}/retry"),
        ("GET", "/api/v1/jobs/{}/events"),
    ):
        answer = await client.request(method, path.format(theirs))
        unknown = await client.request(method, path.format(999999))
        assert answer.status_code == unknown.status_code == 404
        assert answer.json()["error"] == unknown.json()["error"]
    assert (await client.get("/api/v1/jobs")).json()["items"] == []


class ObservedJobService(JobService):
    """Counts the stream's polls, so the test can act right after the stream has seen a state."""

    def __init__(self, sessionmaker: Any) -> None:
        super().__init__(sessionmaker, poll_seconds=0.05)
        self.polls = 0

    async def _get(self, session: Any, job_id: int, owner_id: uuid.UUID | None) -> Any:
        job = await super()._get(session, job_id, owner_id)
        self.polls += 1
        return job

    async def after_polls(self, more: int) -> None:
        target = self.polls + more

        async def reached() -> bool:
            return self.polls >= target

        await wait_until(reached, timeout=10, interval=0.01, what=f"{more} more polls")


async def collect_events(client: httpx.AsyncClient, job_id: int) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    async with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        name = None
        async for line in answer.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name is not None:
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


async def test_events_stream_progress_until_the_job_ends(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    service = app.state.job_service = ObservedJobService(app.state.sessionmaker)
    job_id = await enqueue(db)
    job = await claim_one(db)

    async def play_the_worker() -> None:
        for percent, stage in ((30, "text"), (70, "parse")):
            await service.after_polls(2)
            async with db.begin() as conn:
                await queue.set_progress(conn, job.lease, percent, stage)
        await service.after_polls(2)
        async with db.begin() as conn:
            await queue.complete(conn, job.lease, {"ok": True})

    worker = asyncio.create_task(play_the_worker())
    events = await collect_events(client, job_id)
    await asyncio.wait_for(worker, timeout=10)
    progress = [(data["progress"], data["stage"]) for name, data in events if name != "end"]
    assert progress == [(0, None), (30, "text"), (70, "parse"), (100, "parse")]
    assert events[-1] == ("end", {"id": job_id, "status": "succeeded"})
    assert events[-2][1]["result"] == {"ok": True}


async def test_events_end_when_the_job_is_deleted(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncEngine
) -> None:
    service = app.state.job_service = ObservedJobService(app.state.sessionmaker)
    job_id = await enqueue(db)

    async def delete_it() -> None:
        await service.after_polls(2)  # the route's check and the stream's first poll
        async with db.begin() as conn:
            await conn.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": job_id})

    deleter = asyncio.create_task(delete_it())
    events = await collect_events(client, job_id)
    await asyncio.wait_for(deleter, timeout=10)
    assert events[0][0] == "pending"
    assert events[-1] == ("end", {"id": job_id, "status": "deleted"})


async def test_the_app_runs_an_in_process_worker(
    make_settings: Callable[..., Settings], fresh_database_url: str
) -> None:
    """`serve` builds the worker in its lifespan (RUN_WORKER=true) and stops it on shutdown."""
    settings = make_settings(database_url=fresh_database_url, run_worker=True)
    app = create_app(settings)
    async with open_client(app) as client:
        assert app.state.worker is not None
        engine = create_async_engine(fresh_database_url)
        try:
            job_id = await enqueue(engine, "test.registered_nowhere")

            async def failed() -> bool:
                return (await client.get(f"/api/v1/jobs/{job_id}")).json()["status"] == "failed"

            await wait_until(failed, timeout=15, what="the in-process worker to fail the job")
        finally:
            await engine.dispose()
    assert app.state.worker._stopped.is_set()
