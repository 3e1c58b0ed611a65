"""Durable LLMWhisperer run state: one short committed transaction per step, never across a call.

Input: a sessionmaker and the steps of one request (sha256, options, pages). Output: `RunView`
snapshots of the `whisper_runs` row. Invariants:
- at most one process submits or retrieves a run at a time (a lease on the row, taken by a
  conditional UPDATE), and submits per run are capped by `max_submits` across every job attempt;
- the whisper_hash and the pages billed are committed together, as soon as the service answers 202;
- the raw retrieve body is committed before anyone parses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.extraction.cache import current_attribution
from app.extraction.models import TextUsage, WhisperRun

ENGINE = "llmwhisperer"


@dataclass(frozen=True)
class RunView:
    id: int
    state: str
    whisper_hash: str | None
    submit_count: int
    raw_result: bytes | None
    leased: bool


class WhisperRunStore:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float = 120.0,
        max_submits: int = 3,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.lease = timedelta(seconds=lease_seconds)
        self.max_submits = max_submits

    async def open(self, sha256: str, options_key: str, pages: str, params: dict[str, Any]) -> RunView:
        """The run for this request, created if new; a failed run starts over (a completed one keeps
        its raw result, so a crash between parsing and caching never pays twice)."""
        async with self._sessionmaker.begin() as session:
            await session.execute(
                pg_insert(WhisperRun)
                .values(sha256=sha256, options_key=options_key, pages=pages, params=params)
                .on_conflict_do_nothing(constraint="uq_whisper_runs_request")
            )
            await session.execute(
                update(WhisperRun)
                .where(
                    WhisperRun.sha256 == sha256,
                    WhisperRun.options_key == options_key,
                    WhisperRun.pages == pages,
                    WhisperRun.state == "failed",
                )
                .values(state="new", whisper_hash=None, raw_result=None, submit_count=0, lease_until=None)
            )
            run_id = await session.scalar(
                select(WhisperRun.id).where(
                    WhisperRun.sha256 == sha256,
                    WhisperRun.options_key == options_key,
                    WhisperRun.pages == pages,
                )
            )
        return await self.load(run_id)

    async def load(self, run_id: int) -> RunView:
        async with self._sessionmaker() as session:
            row = (
                await session.execute(
                    select(
                        WhisperRun.id,
                        WhisperRun.state,
                        WhisperRun.whisper_hash,
                        WhisperRun.submit_count,
                        WhisperRun.raw_result,
                        (WhisperRun.lease_until > func.now()).label("leased"),
                    ).where(WhisperRun.id == run_id)
                )
            ).one()
        return RunView(
            row.id, row.state, row.whisper_hash, row.submit_count, row.raw_result, bool(row.leased)
        )

    async def claim(self, run_id: int, action: str) -> bool:
        """Take the lease to `submit` (no hash yet, under the submit cap) or `retrieve` (hash, no raw)."""
        free = or_(WhisperRun.lease_until.is_(None), WhisperRun.lease_until < func.now())
        where = [WhisperRun.id == run_id, WhisperRun.raw_result.is_(None), free]
        values: dict[str, Any] = {"lease_until": func.now() + self.lease}
        if action == "submit":
            where += [WhisperRun.whisper_hash.is_(None), WhisperRun.submit_count < self.max_submits]
            values |= {"state": "submitting", "submit_count": WhisperRun.submit_count + 1}
        else:
            where.append(WhisperRun.whisper_hash.is_not(None))
            values["state"] = "retrieving"
        async with self._sessionmaker.begin() as session:
            claimed = await session.scalar(
                update(WhisperRun).where(*where).values(**values).returning(WhisperRun.id)
            )
        return claimed is not None

    async def save_hash(
        self, run_id: int, whisper_hash: str, *, mode: str, sha256: str, pages_billed: int
    ) -> None:
        """Record the accepted job and the pages it bills, in one transaction."""
        attribution = current_attribution()
        async with self._sessionmaker.begin() as session:
            await session.execute(
                update(WhisperRun)
                .where(WhisperRun.id == run_id)
                .values(
                    whisper_hash=whisper_hash,
                    state="submitted",
                    lease_until=None,
                    submitted_at=func.now(),
                    pages_billed=pages_billed,
                    error=None,
                )
            )
            await session.execute(
                insert(TextUsage).values(
                    sha256=sha256,
                    engine=ENGINE,
                    mode=mode,
                    pages_billed=pages_billed,
                    whisper_hash=whisper_hash,
                    document_id=attribution.document_id,
                    user_id=attribution.user_id,
                )
            )

    async def save_raw(self, run_id: int, raw: bytes) -> None:
        await self._set(run_id, raw_result=raw, state="retrieved", lease_until=None, retrieved_at=func.now())

    async def release(
        self,
        run_id: int,
        state: str,
        error: str | None = None,
        *,
        forget_hash: bool = False,
        uncount: bool = False,
    ) -> None:
        """Drop the lease after a step. `forget_hash`: the service no longer has the text, so the next
        step submits again (within the cap). `uncount`: the service refused the submit, nothing billed."""
        values: dict[str, Any] = {"state": state, "lease_until": None, "error": error}
        if forget_hash:
            values["whisper_hash"] = None
        if uncount:
            values["submit_count"] = func.greatest(WhisperRun.submit_count - 1, 0)
        await self._set(run_id, **values)

    async def set_status(self, run_id: int, status: str) -> None:
        await self._set(run_id, last_status=status)

    async def _set(self, run_id: int, **values: Any) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(update(WhisperRun).where(WhisperRun.id == run_id).values(**values))
