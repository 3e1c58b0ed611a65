"""WhisperTextSource with the Postgres cache, durable runs and usage, against the fake server.

Most tests share one connection whose outer transaction is rolled back (every `sessionmaker.begin()`
is a savepoint); the concurrency test uses a fresh database because it needs real commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from app.core.config import Settings
from app.core.db import create_engine
from app.extraction import whisper_source
from app.extraction.cache import LOOKUPS, clear_cache, usage_attribution, usage_summary
from app.extraction.models import TextCacheEntry, TextUsage, WhisperRun
from app.extraction.whisper.errors import (
    WhisperAmbiguousSubmitError,
    WhisperDeadlineError,
    WhisperJobFailedError,
    WhisperMalformedResponseError,
    WhisperQuotaError,
    WhisperSubmitLimitError,
)
from app.extraction.whisper.params import WhisperParams
from app.extraction.whisper.retry import PollPolicy
from app.extraction.whisper.runs import WhisperRunStore
from app.extraction.whisper_source import WhisperTextSource
from tests.extraction.whisper_helpers import LOW_CONFIDENCE, PAGES, PDF, FakeTime, make_client
from tests.fakes.whisper_server import FakeWhisperServer, Fault


@pytest.fixture
def server() -> Iterator[FakeWhisperServer]:
    with FakeWhisperServer() as fake:
        fake.register(PDF, PAGES, LOW_CONFIDENCE)
        yield fake


@pytest.fixture
async def sessionmaker(db_engine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        yield async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        await transaction.rollback()


@pytest.fixture
async def make_source(server, sessionmaker):
    clients = []

    def make(params: WhisperParams | None = None, **options) -> WhisperTextSource:
        client = make_client(server, FakeTime(), total_timeout=options.pop("total_timeout", 120.0))
        clients.append(client)
        return WhisperTextSource(client, sessionmaker=sessionmaker, params=params, **options)

    yield make
    for client in clients:
        await client.aclose()


async def rows(sessionmaker, model) -> list:
    async with sessionmaker() as session:
        return list((await session.scalars(select(model).options(undefer("*")).order_by(model.id))).all())


async def totals(sessionmaker) -> tuple[int, int]:
    async with sessionmaker() as session:
        summary = await usage_summary(session)
    return summary.pages_billed, summary.pages_saved


class TestCache:
    async def test_second_call_is_served_from_the_cache(self, make_source, server, sessionmaker):
        first = await make_source().pages(PDF, [2, 3])
        calls = server.calls.copy()
        second = await make_source().pages(PDF, [3, 2])
        assert server.calls == calls
        assert [p.text for p in second] == [p.text for p in first] == PAGES[1:]
        assert second[0].extra["cached"] and second[0].line_confidence == first[0].line_confidence
        assert await totals(sessionmaker) == (2, 2)

    async def test_only_missing_pages_are_sent(self, make_source, server):
        await make_source().pages(PDF, [2])
        pages = await make_source().pages(PDF, [1, 2, 3])
        assert [p.page for p in pages] == [1, 2, 3]
        assert [q["pages_to_extract"] for q in server.queries("whisper")] == ["2", "1,3"]

    async def test_options_isolate_entries(self, make_source, server):
        form = await make_source().pages(PDF, [1])
        table = await make_source(WhisperParams(mode="table")).pages(PDF, [1])
        stretched = await make_source(WhisperParams(horizontal_stretch_factor=1.1)).pages(PDF, [1])
        assert server.calls["whisper"] == 3
        assert (form[0].mode, table[0].mode, stretched[0].mode) == ("layout", "grid", "layout")
        await make_source(WhisperParams(tag="other-team")).pages(PDF, [1])
        assert server.calls["whisper"] == 3

    async def test_changed_bytes_never_hit(self, make_source, server):
        other = PDF + b"% edited\n"
        server.register(other, ["\n\nedited page one\n", "x\n", "y\n"])
        await make_source().pages(PDF, [1])
        assert (await make_source().pages(other, [1]))[0].text == "\n\nedited page one\n"
        assert server.calls["whisper"] == 2

    async def test_empty_page_list_costs_nothing(self, make_source, server):
        assert await make_source().pages(PDF, []) == []
        assert server.calls["whisper"] == 0

    async def test_candidate_pages_come_from_the_cheap_pass(self, make_source):
        class Cheap:
            name = "local"

            async def candidate_pages(self, pdf: bytes) -> list[int]:
                return [2]

            async def pages(self, pdf: bytes, page_numbers: list[int]) -> list:
                raise AssertionError("only the cheap pass is used")

        assert await make_source(cheap=Cheap()).candidate_pages(PDF) == [2]


class TestDurableRuns:
    async def test_raw_result_survives_a_crash_after_retrieve(
        self, make_source, server, sessionmaker, monkeypatch
    ):
        def crash(*args, **kwargs):
            raise RuntimeError("worker killed while parsing")

        monkeypatch.setattr(whisper_source, "pages_from_result", crash)
        with pytest.raises(RuntimeError):
            await make_source().pages(PDF, [1, 2])
        [run] = await rows(sessionmaker, WhisperRun)
        assert run.state == "retrieved" and b"result_text" in run.raw_result
        monkeypatch.undo()
        calls = server.calls.copy()
        pages = await make_source().pages(PDF, [1, 2])
        assert server.calls == calls and [p.page for p in pages] == [1, 2]
        with pytest.raises(Exception, match="already delivered"):
            await make_source().client.retrieve(run.whisper_hash)

    async def test_kill_between_retrieve_and_commit_resubmits_once(
        self, make_source, server, sessionmaker, monkeypatch
    ):
        async def killed(*args, **kwargs):
            raise KeyboardInterrupt("kill -9 after the retrieve was served, before its commit")

        monkeypatch.setattr(WhisperRunStore, "save_raw", killed)
        with pytest.raises(KeyboardInterrupt):
            await make_source(lease_seconds=0).pages(PDF, [1])
        monkeypatch.undo()
        [run] = await rows(sessionmaker, WhisperRun)
        assert (run.state, run.raw_result) == ("retrieving", None)
        pages = await make_source(lease_seconds=0).pages(PDF, [1])
        assert pages[0].text == PAGES[0]
        assert server.state.submits_by_sha.total() == 2 and server.calls["whisper-retrieve"] == 2

    async def test_restart_resumes_the_stored_hash(self, make_source, server, sessionmaker):
        server.state.status_script = ["processing"]
        with pytest.raises(WhisperDeadlineError):
            await make_source(total_timeout=10.0).pages(PDF, [1])
        [run] = await rows(sessionmaker, WhisperRun)
        assert run.state == "submitted" and run.whisper_hash in server.state.jobs
        server.state.jobs[run.whisper_hash].script = ["processed"]
        await make_source().pages(PDF, [1])
        assert server.calls["whisper"] == 1 and await totals(sessionmaker) == (1, 0)

    async def test_ambiguous_submits_are_capped(self, make_source, server, sessionmaker):
        server.fail("whisper", Fault(process=True, reset=True), times=2)
        for _ in range(2):
            with pytest.raises(WhisperAmbiguousSubmitError):
                await make_source(max_submits=2).pages(PDF, [1])
        with pytest.raises(WhisperSubmitLimitError):
            await make_source(max_submits=2).pages(PDF, [1])
        assert server.calls["whisper"] == 2
        [run] = await rows(sessionmaker, WhisperRun)
        assert (run.state, run.submit_count) == ("ambiguous", 2)

    async def test_ambiguous_submit_then_success(self, make_source, server, sessionmaker):
        server.fail("whisper", Fault(process=True, reset=True))
        with pytest.raises(WhisperAmbiguousSubmitError):
            await make_source().pages(PDF, [1])
        assert (await make_source().pages(PDF, [1]))[0].text == PAGES[0]
        assert server.state.submits_by_sha.total() == 2

    async def test_lost_retrieve_answer_resubmits_once(self, make_source, server, sessionmaker):
        server.fail("whisper-retrieve", Fault(process=True, reset=True))
        pages = await make_source().pages(PDF, [1, 3])
        assert [p.page for p in pages] == [1, 3]
        assert server.calls["whisper"] == 2 and server.calls["whisper-retrieve"] == 3
        assert await totals(sessionmaker) == (4, 0)

    async def test_refused_submit_is_not_counted_or_billed(self, make_source, server, sessionmaker):
        server.state.page_quota = 1
        with pytest.raises(WhisperQuotaError):
            await make_source().pages(PDF, [1, 2])
        [run] = await rows(sessionmaker, WhisperRun)
        assert (run.state, run.submit_count, run.whisper_hash) == ("failed", 0, None)
        assert await totals(sessionmaker) == (0, 0)

    async def test_failed_job_is_submitted_again_next_time(self, make_source, server):
        server.state.status_script = ["processing", "failed"]
        with pytest.raises(WhisperJobFailedError):
            await make_source().pages(PDF, [1])
        server.state.status_script = ["processed"]
        assert (await make_source().pages(PDF, [1]))[0].page == 1
        assert server.calls["whisper"] == 2

    async def test_malformed_result_is_kept_raw_and_not_cached(self, make_source, server, sessionmaker):
        server.fail("whisper-retrieve", Fault(status=200, body=b"<html>Bad Gateway</html>", process=True))
        with pytest.raises(WhisperMalformedResponseError):
            await make_source().pages(PDF, [1])
        [run] = await rows(sessionmaker, WhisperRun)
        assert (run.state, run.raw_result) == ("failed", b"<html>Bad Gateway</html>")
        assert await rows(sessionmaker, TextCacheEntry) == []


class TestUsageAndClear:
    async def test_usage_is_attributed_per_document(self, make_source, sessionmaker):
        first, second = uuid.uuid4(), uuid.uuid4()
        with usage_attribution(document_id=first):
            await make_source().pages(PDF, [1, 2])
        with usage_attribution(document_id=second):
            await make_source().pages(PDF, [1, 2, 3])
        async with sessionmaker() as session:
            summary = await usage_summary(session)
        by_document = {row.document_id: (row.pages_billed, row.pages_saved) for row in summary.by_document}
        assert by_document == {first: (2, 0), second: (1, 2)}
        assert summary.by_mode == {"form": {"pages_billed": 3, "pages_saved": 2}}

    async def test_clear_cache_forces_a_new_call(self, make_source, server, sessionmaker):
        await make_source().pages(PDF, [1])
        async with sessionmaker() as session:
            cleared = await clear_cache(session, sha256=hashlib.sha256(PDF).hexdigest())
            await session.commit()
        assert (cleared.pages, cleared.runs) == (1, 1)
        await make_source().pages(PDF, [1])
        assert server.calls["whisper"] == 2

    async def test_clear_cache_keeps_runs_in_flight(self, make_source, server, sessionmaker):
        server.state.status_script = ["processing"]
        with pytest.raises(WhisperDeadlineError):
            await make_source(total_timeout=5.0).pages(PDF, [1])
        async with sessionmaker() as session:
            assert (await clear_cache(session)).runs == 0
            await session.commit()
        assert len(await rows(sessionmaker, WhisperRun)) == 1

    async def test_cache_lookup_counts_hits(self, make_source, sessionmaker):
        await make_source().pages(PDF, [1])
        await make_source().pages(PDF, [1])
        [entry] = await rows(sessionmaker, TextCacheEntry)
        assert entry.hit_count == 1 and entry.last_hit_at is not None
        usage = await rows(sessionmaker, TextUsage)
        assert [(u.pages_billed, u.pages_saved) for u in usage] == [(1, 0), (0, 1)]
        assert LOOKUPS["hit"] >= 1 and LOOKUPS["miss"] >= 1


async def test_concurrent_workers_submit_once(server, fresh_database_url):
    """Two workers ask for the same pages at once: one submit, one retrieve, both get the text."""
    engine = create_engine(Settings(_env_file=None), url=fresh_database_url)  # type: ignore[call-arg]
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    server.latency = 0.05
    poll = PollPolicy(initial=0.01, factor=1.5, max_interval=0.05)
    clients = [
        make_client(server, FakeTime(), poll=poll, sleep=asyncio.sleep, clock=time.monotonic)
        for _ in range(2)
    ]
    try:
        sources = [WhisperTextSource(client, sessionmaker=sessionmaker) for client in clients]
        results = await asyncio.wait_for(
            asyncio.gather(*(source.pages(PDF, [1, 2]) for source in sources)), timeout=30
        )
        assert [[p.text for p in pages] for pages in results] == [PAGES[:2], PAGES[:2]]
        assert server.calls["whisper"] == 1 and server.calls["whisper-retrieve"] == 1
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(TextCacheEntry)) == 2
            assert (await usage_summary(session)).pages_billed == 2
    finally:
        for client in clients:
            await client.aclose()
        await engine.dispose()
