"""Choose and open the page-text engine: LLMWhisperer when a key is set (or asked for), else local.

Input: an engine name (`auto`, `local`, `llmwhisperer`, or None for the TEXT_ENGINE setting) and the
settings. Output: an open `TextSource`, closed when the context ends. The local engine needs no
network; the LLMWhisperer engine uses the database cache when a sessionmaker is given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from app.extraction.source import TextSource

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from app.core.config import Settings


class EngineConfigError(Exception):
    """The engine asked for cannot run with these settings."""

    code = "engine_unavailable"


def resolve_engine(engine: str | None, settings: Settings) -> str:
    """auto → llmwhisperer when LLMWHISPERER_API_KEY is set, else local."""
    chosen = engine or settings.text_engine
    if chosen == "auto":
        return "llmwhisperer" if settings.llmwhisperer_api_key else "local"
    if chosen == "llmwhisperer" and not settings.llmwhisperer_api_key:
        raise EngineConfigError("the llmwhisperer engine needs LLMWHISPERER_API_KEY")
    if chosen not in ("local", "llmwhisperer"):
        raise EngineConfigError(f"unknown engine {chosen!r}: use auto, local or llmwhisperer")
    return chosen


@asynccontextmanager
async def open_source(
    engine: str | None,
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    http: httpx.AsyncClient | None = None,
) -> AsyncIterator[TextSource]:
    """The chosen `TextSource`, with its resources released on exit."""
    from app.core.config import get_settings
    from app.extraction.local_source import LocalTextSource

    settings = settings or get_settings()
    local = LocalTextSource(max_pages=settings.max_pdf_pages)
    try:
        if resolve_engine(engine, settings) == "local":
            yield local
            return
        from app.extraction.whisper.client import WhisperClient
        from app.extraction.whisper_source import WhisperTextSource

        key = settings.llmwhisperer_api_key.get_secret_value()  # type: ignore[union-attr]
        async with WhisperClient(base_url=settings.llmwhisperer_base_url, api_key=key, http=http) as client:
            yield WhisperTextSource(
                client,
                sessionmaker=sessionmaker,
                cheap=local,
                lease_seconds=settings.llmwhisperer_step_lease_seconds,
            )
    finally:
        local.close()
