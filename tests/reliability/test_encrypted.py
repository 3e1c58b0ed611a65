"""Scenario 14 through upload and worker: a user-password PDF and an unknown security handler are a
422 with no rows; an owner-password-only PDF (empty user password) is processed normally by the real
worker, whose sandboxed extraction children leave nothing `running`."""

from __future__ import annotations

import io

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from tests.documents.conftest import make_encrypted_pdf, raw_pdf
from tests.jobs.waiting import drain_queue


def unknown_security_handler() -> bytes:
    """A readable one-page PDF whose trailer names a security handler no reader implements."""
    return raw_pdf().replace(
        b"/Root 1 0 R",
        b"/Root 1 0 R /Encrypt << /Filter /FooBarSecurity /V 1 /R 2 /O (x) /U (y) /P -4 >> /ID [<00> <00>]",
    )


async def post(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await client.post(
        "/api/v1/documents", files={"file": ("e.pdf", io.BytesIO(data), "application/pdf")}
    )


async def rows(app: FastAPI) -> tuple[int, int]:
    async with app.state.engine.connect() as conn:
        documents = await conn.scalar(text("SELECT count(*) FROM documents"))
        jobs = await conn.scalar(text("SELECT count(*) FROM jobs"))
    return documents, jobs


async def test_password_and_unknown_handler_are_422_owner_only_is_processed(
    app: FastAPI, client: httpx.AsyncClient, app_settings: Settings
) -> None:
    locked = await post(client, make_encrypted_pdf(user_password="user-secret"))
    assert locked.status_code == 422, locked.text
    assert locked.json()["error"]["code"] == "pdf_encrypted"
    assert "password" in locked.json()["error"]["message"]

    unknown = await post(client, unknown_security_handler())
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["code"] == "pdf_encrypted"
    assert "security handler" in unknown.json()["error"]["message"]
    assert await rows(app) == (0, 0)

    owner_only = await post(client, make_encrypted_pdf(user_password=None))
    assert owner_only.status_code == 202, owner_only.text
    settings = app_settings.model_copy(update={"job_timeout_seconds": 60.0})
    await drain_queue(app, settings, timeout=90, what="the owner-only job to finish")
    job = (await client.get(f"/api/v1/jobs/{owner_only.json()['job_id']}")).json()
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1
