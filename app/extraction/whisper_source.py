"""`TextSource` backed by LLMWhisperer v2, with the shared cache and durable run state.

Input: PDF bytes and the 1-based pages wanted. Output: one `PageText` per page, engine
"llmwhisperer", mode "layout" (or "grid" in table mode).
Invariants:
- The cheap pass (the local extractor's plain text) picks the candidate pages; only pages missing
  from the cache go to the service, as `pages_to_extract`.
- A request (sha256, options, pages) is submitted at most `max_submits` times across every attempt;
  a stored whisper_hash is polled again instead of paying twice.
- The raw retrieve body is committed before it is parsed; pages are cached only once parsed.
Without a sessionmaker nothing is cached or persisted (one-shot CLI use).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.extraction.cache import TextCache
from app.extraction.source import PageText, TextSource
from app.extraction.whisper.client import Deadline, WhisperClient
from app.extraction.whisper.errors import (
    WhisperAlreadyRetrievedError,
    WhisperAmbiguousSubmitError,
    WhisperDeadlineError,
    WhisperError,
    WhisperJobFailedError,
    WhisperJobNotFoundError,
    WhisperMalformedResponseError,
    WhisperSubmitLimitError,
)
from app.extraction.whisper.params import WhisperParams
from app.extraction.whisper.result import ENGINE, pages_from_result
from app.extraction.whisper.runs import RunView, WhisperRunStore

if TYPE_CHECKING:
    from app.core.config import Settings

log = structlog.get_logger(__name__)
_LOST = (WhisperAlreadyRetrievedError, WhisperJobNotFoundError)


class WhisperTextSource:
    name = ENGINE

    def __init__(
        self,
        client: WhisperClient,
        *,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        params: WhisperParams | None = None,
        cheap: TextSource | None = None,
        max_submits: int = 3,
        lease_seconds: float | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        if lease_seconds is None:
            from app.core.config import get_settings

            lease_seconds = get_settings().llmwhisperer_step_lease_seconds
        self.client = client
        self.params = params or WhisperParams()
        self.cache = TextCache(sessionmaker) if sessionmaker is not None else None
        self.runs = (
            WhisperRunStore(sessionmaker, lease_seconds=lease_seconds, max_submits=max_submits)
            if sessionmaker is not None
            else None
        )
        self.max_submits = max_submits
        self.deadline_seconds = deadline_seconds
        self._cheap = cheap
        self._owns_cheap = False

    async def candidate_pages(self, pdf: bytes) -> list[int]:
        """The cheap pass of the local extractor; every page until that extractor exists."""
        cheap = self._cheap_source()
        if cheap is not None:
            return await cheap.candidate_pages(pdf)
        from app.extraction.pdf import page_count

        return list(range(1, await asyncio.to_thread(page_count, pdf) + 1))

    def _cheap_source(self) -> TextSource | None:
        if self._cheap is None:
            try:
                from app.extraction.local_source import LocalTextSource
            except ImportError:
                return None
            self._cheap = LocalTextSource()
            self._owns_cheap = True
        return self._cheap

    def close(self) -> None:
        """Release the local extractor this source made for its cheap pass (not the client)."""
        if self._owns_cheap and hasattr(self._cheap, "close"):
            self._cheap.close()

    async def pages(self, pdf: bytes, page_numbers: list[int]) -> list[PageText]:
        wanted = sorted(set(page_numbers))
        if not wanted:
            return []
        sha256 = hashlib.sha256(pdf).hexdigest()
        options_key = self.params.options_key()
        found: dict[int, PageText] = {}
        if self.cache is not None:
            found = await self.cache.get_pages(sha256, ENGINE, options_key, wanted)
        missing = [page for page in wanted if page not in found]
        if missing:
            params = self.params.with_pages(missing).with_labels(file_name=f"{sha256[:16]}-{options_key[:8]}")
            found |= {page.page: page for page in await self._fetch(pdf, sha256, params, missing)}
        return [found[page] for page in wanted]

    async def _fetch(
        self, pdf: bytes, sha256: str, params: WhisperParams, pages: list[int]
    ) -> list[PageText]:
        deadline = self.client.deadline(self.deadline_seconds)
        if self.runs is None:
            whisper_hash = await self.client.submit(pdf, params, deadline)
            await self.client.wait_until_ready(whisper_hash, deadline)
            return pages_from_result(await self.client.retrieve(whisper_hash, deadline), params, pages)
        run = await self.runs.open(
            sha256, params.options_key(), params.pages_to_extract, dict(params.query())
        )
        # Each pass submits, retrieves, or finds the job lost (already delivered, unknown hash); the
        # submit cap in the store bounds how often the last can happen.
        for _ in range(3 * self.max_submits + 3):
            if run.raw_result is not None:
                return await self._parse(run, sha256, params, pages)
            if run.whisper_hash is None:
                run = await self._submit(run, pdf, sha256, params, deadline)
                continue
            try:
                run = await self._retrieve(run, deadline)
            except _LOST as exc:
                run = await self.runs.load(run.id)
                if run.raw_result is None and run.leased:
                    run = await self._wait_for_other(run, deadline, "retrieve")
                elif run.raw_result is None:
                    log.warning("whisper.lost", run_id=run.id, whisper_hash=run.whisper_hash, error=str(exc))
                    await self.runs.release(run.id, "lost", str(exc), forget_hash=True)
                    run = await self.runs.load(run.id)
        raise WhisperSubmitLimitError(f"no text after {self.max_submits} submits", details={"run_id": run.id})

    async def _submit(
        self, run: RunView, pdf: bytes, sha256: str, params: WhisperParams, deadline: Deadline
    ) -> RunView:
        assert self.runs is not None
        if not await self.runs.claim(run.id, "submit"):
            return await self._wait_for_other(run, deadline, "submit")
        try:
            whisper_hash = await self.client.submit(pdf, params, deadline)
        except WhisperAmbiguousSubmitError as exc:
            await self.runs.release(run.id, "ambiguous", str(exc))
            raise
        except WhisperError as exc:
            # A refusal: the service took no job and billed nothing, so the submit is not counted
            # (unless it answered 2xx without a readable hash: that job may exist).
            state = "new" if exc.retryable else "failed"
            refused = not isinstance(exc, WhisperMalformedResponseError)
            await self.runs.release(run.id, state, str(exc), uncount=refused)
            raise
        except BaseException:
            await self.runs.release(run.id, "ambiguous", "submit interrupted")
            raise
        pages_billed = len(params.page_list())
        await self.runs.save_hash(
            run.id, whisper_hash, mode=params.mode, sha256=sha256, pages_billed=pages_billed
        )
        return await self.runs.load(run.id)

    async def _retrieve(self, run: RunView, deadline: Deadline) -> RunView:
        assert self.runs is not None and run.whisper_hash is not None
        try:
            status = await self.client.wait_until_ready(run.whisper_hash, deadline)
        except WhisperJobFailedError as exc:
            await self.runs.release(run.id, "failed", str(exc), forget_hash=True)
            raise
        await self.runs.set_status(run.id, status.status)
        if not await self.runs.claim(run.id, "retrieve"):
            return await self._wait_for_other(run, deadline, "retrieve")
        try:
            raw = await self.client.retrieve(run.whisper_hash, deadline)
        except BaseException as exc:
            await self.runs.release(run.id, "submitted", str(exc) or type(exc).__name__)
            raise
        await self.runs.save_raw(run.id, raw)
        return await self.runs.load(run.id)

    async def _parse(
        self, run: RunView, sha256: str, params: WhisperParams, pages: list[int]
    ) -> list[PageText]:
        assert self.runs is not None and run.raw_result is not None
        try:
            parsed = pages_from_result(run.raw_result, params, pages)
        except WhisperMalformedResponseError as exc:
            await self.runs.release(run.id, "failed", str(exc))
            raise
        if self.cache is not None:
            options = self.params.output_options()
            await self.cache.put_pages(sha256, ENGINE, params.options_key(), options, parsed, run.id)
        await self.runs.release(run.id, "completed")
        return parsed

    async def _wait_for_other(self, run: RunView, deadline: Deadline, step: str) -> RunView:
        """Another worker holds the lease for this step: wait for its result or for the lease to lapse."""
        assert self.runs is not None
        interval = self.client.poll.initial
        while True:
            current = await self.runs.load(run.id)
            if current.raw_result is not None or current.whisper_hash != run.whisper_hash:
                return current
            if not current.leased:
                if step == "submit" and current.submit_count >= self.max_submits:
                    raise WhisperSubmitLimitError(
                        f"{current.submit_count} submits already made for this request; none gave the text",
                        details={"run_id": run.id, "last_error": current.state},
                    )
                return current
            if deadline.remaining() <= interval:
                raise WhisperDeadlineError(f"another worker still holds the {step} of run {run.id}")
            await self.client.sleep(interval)
            interval = min(interval * self.client.poll.factor, self.client.poll.max_interval)


@asynccontextmanager
async def open_whisper_source(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    http: httpx.AsyncClient | None = None,
    params: WhisperParams | None = None,
    cheap: TextSource | None = None,
) -> AsyncIterator[WhisperTextSource]:
    """A source configured from LLMWHISPERER_BASE_URL / LLMWHISPERER_API_KEY; closes what it opened."""
    if settings.llmwhisperer_api_key is None:
        raise ValueError("LLMWHISPERER_API_KEY is not set")
    client = WhisperClient(
        base_url=settings.llmwhisperer_base_url,
        api_key=settings.llmwhisperer_api_key.get_secret_value(),
        http=http,
        timeout=httpx.Timeout(settings.http_timeout_seconds, connect=10.0),
    )
    source = WhisperTextSource(
        client,
        sessionmaker=sessionmaker,
        params=params,
        cheap=cheap,
        lease_seconds=settings.llmwhisperer_step_lease_seconds,
    )
    try:
        yield source
    finally:
        source.close()
        await client.aclose()
