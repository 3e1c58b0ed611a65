"""GET /health (liveness, no database) and GET /health/ready (database, migrations, worker heartbeat)."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.core.config import Settings
from app.core.db import current_revisions
from app.core.errors import ServiceUnavailableError
from app.core.openapi import error_responses
from app.jobs.registry import latest_heartbeat_age

log = structlog.get_logger("tieout.health")

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 3.0
READY_RETRY_AFTER_SECONDS = 5


class Liveness(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/health", response_model=Liveness, summary="Liveness: the process answers")
async def get_liveness() -> Liveness:
    """The process is up and serving HTTP; touches nothing else."""
    return Liveness(status="ok", version=__version__)


async def _check_migrations(engine: AsyncEngine, heads: set[str]) -> str:
    current = await current_revisions(engine)
    if current == heads:
        return "ok"
    return f"at {sorted(current) or 'nothing'}, expected {sorted(heads)}"


async def _check_worker(engine: AsyncEngine, settings: Settings) -> str:
    async with engine.connect() as conn:
        age = await latest_heartbeat_age(conn)
    if age is None:
        return "no heartbeat yet"
    if age > settings.worker_stale_seconds:
        return f"last heartbeat {age:.0f}s ago"
    return "ok"


async def _run_check(name: str, check: object) -> str:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except TimeoutError:
        return "timed out"
    except Exception as exc:
        log.warning("health.check_failed", check=name, error=type(exc).__name__, detail=str(exc)[:200])
        return f"unreachable ({type(exc).__name__})"


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: database, migrations and worker",
    responses=error_responses(503),
)
async def get_readiness(request: Request) -> Readiness:
    """Ready to do work: database reachable, schema at head, a worker heartbeat fresh when one is expected."""
    state = request.app.state
    engine: AsyncEngine = state.engine
    checks: dict[str, str] = {}

    async def ping() -> str:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return "ok"

    checks["database"] = await _run_check("database", ping())
    if checks["database"] == "ok":
        checks["migrations"] = await _run_check(
            "migrations", _check_migrations(engine, state.migration_heads)
        )
        if getattr(state, "worker", None) is not None:
            checks["worker"] = await _run_check("worker", _check_worker(engine, state.settings))
        else:
            checks["worker"] = "not expected"
    failing = [name for name, result in checks.items() if result not in {"ok", "not expected"}]
    if failing:
        raise ServiceUnavailableError(
            "not_ready",
            f"Not ready: {', '.join(failing)}",
            details={"checks": checks},
            retry_after=READY_RETRY_AFTER_SECONDS,
        )
    return Readiness(status="ready", checks=checks)
