"""Route assembly: the one place routers are included. Domain routers go under /api/v1, one line each."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    """Everything under /api/v1: a public part and a part that will require authentication."""
    public = APIRouter()
    protected = APIRouter()
    # Domain routers: sign-in and sign-up go on `public`, everything else on `protected`.
    from app.analysis.router import router as analysis_router
    from app.documents.router import router as documents_router
    from app.extraction.router import router as extraction_router
    from app.jobs.router import router as jobs_router
    from app.statements.router import router as statements_router

    protected.include_router(documents_router)
    protected.include_router(jobs_router)
    protected.include_router(statements_router)
    protected.include_router(analysis_router)
    protected.include_router(extraction_router)

    from app.core.openapi import error_responses

    # Any route may answer 422 (a bad parameter), 500 or 503 (database down), always in the error body.
    api = APIRouter(prefix=API_PREFIX, responses=error_responses(422, 500, 503))
    api.include_router(public)
    api.include_router(protected)
    return api


def include_routers(app: FastAPI) -> None:
    from app.health.router import router as health_router

    app.include_router(health_router)
    app.include_router(build_api_router())
