"""The process-wide httpx.AsyncClient: built in the lifespan, closed on shutdown."""

from __future__ import annotations

import httpx

from app import __version__
from app.core.config import Settings


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """Shared client with explicit timeouts and connection limits; callers add retries themselves."""
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=10.0)
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": f"tieout/{__version__}"},
        follow_redirects=False,
    )
