"""LLMWhisperer v2 client against the fake server on 127.0.0.1 (time is a fake clock: no waiting)."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.extraction.pages import format_page_spec, parse_page_spec
from app.extraction.whisper.client import WhisperClient
from app.extraction.whisper.errors import (
    WhisperAlreadyRetrievedError,
    WhisperAmbiguousSubmitError,
    WhisperAuthError,
    WhisperDeadlineError,
    WhisperJobFailedError,
    WhisperJobNotFoundError,
    WhisperMalformedResponseError,
    WhisperQuotaError,
    WhisperRateLimitedError,
    WhisperRequestError,
    WhisperUnavailableError,
)
from app.extraction.whisper.params import WhisperParams
from app.extraction.whisper.result import pages_from_result, split_pages
from app.extraction.whisper.retry import RetryPolicy, classify_status, parse_retry_after, retry_delay
from app.extraction.whisper_source import open_whisper_source
from tests.extraction.whisper_helpers import LOW_CONFIDENCE, PAGES, PDF, FakeTime, eventually, make_client
from tests.fakes.whisper_server import FakeWhisperServer, Fault, split_canned

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "whisper"


@pytest.fixture
def server() -> Iterator[FakeWhisperServer]:
    with FakeWhisperServer() as fake:
        fake.register(PDF, PAGES, LOW_CONFIDENCE)
        yield fake


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(server: FakeWhisperServer, fake_time: FakeTime) -> AsyncIterator[WhisperClient]:
    async with make_client(server, fake_time) as whisper:
        yield whisper


async def full_cycle(client: WhisperClient, params: WhisperParams) -> bytes:
    whisper_hash = await client.submit(PDF, params)
    await client.wait_until_ready(whisper_hash)
    return await client.retrieve(whisper_hash)


class TestCycle:
    async def test_submit_poll_retrieve_gives_the_pages(self, client, server, fake_time):
        params = WhisperParams().with_pages([2, 3])
        raw = await full_cycle(client, params)
        pages = pages_from_result(raw, params, [2, 3])
        assert [p.page for p in pages] == [2, 3]
        assert pages[0].text == PAGES[1] and pages[1].text == PAGES[2]
        assert {p.engine for p in pages} == {"llmwhisperer"} and {p.mode for p in pages} == {"layout"}
        assert server.calls == {"whisper": 1, "whisper-status": 2, "whisper-retrieve": 1}
        assert fake_time.sleeps == [1.0]

    async def test_every_parameter_goes_on_the_wire(self, client, server):
        await client.submit(PDF, WhisperParams(mode="table").with_pages([1]))
        call = server.log[0]
        query = dict(call.query)
        assert call.headers["unstract-key"] == "test-key"
        assert query["page_separator"] == query["page_seperator"] == "<<<"
        assert query["mode"] == "table" and query["pages_to_extract"] == "1"
        assert query["mark_vertical_lines"] == "False" and query["add_line_nos"] == "False"
        for name in (
            "output_mode",
            "line_splitter_tolerance",
            "line_splitter_strategy",
            "lang",
            "tag",
            "horizontal_stretch_factor",
            "mark_horizontal_lines",
            "word_confidence_threshold",
        ):
            assert name in query
        assert "file_name=&" in call.raw_query + "&"

    async def test_hash_is_percent_encoded(self, client, server):
        whisper_hash = await client.submit(PDF, WhisperParams())
        await client.status(whisper_hash)
        assert "|" in whisper_hash
        assert "%7C" in server.log[-1].raw_query

    async def test_table_mode_pages_are_grids(self, client):
        params = WhisperParams(mode="table").with_pages([1])
        assert pages_from_result(await full_cycle(client, params), params, [1])[0].mode == "grid"

    async def test_page_separator_template(self, client):
        params = WhisperParams(page_separator="<<< {{page_no}} >>>").with_pages([1, 3])
        raw = await full_cycle(client, params)
        assert b"<<< 3 >>>" in raw
        assert [p.text for p in pages_from_result(raw, params, [1, 3])] == [PAGES[0], PAGES[2]]

    async def test_low_confidence_words_stay_on_their_line(self, client):
        params = WhisperParams().with_pages([1, 2])
        page = pages_from_result(await full_cycle(client, params), params, [1, 2])[1]
        assert page.extra["low_confidence_words"] == [{"line": 3, "text": "10,918", "confidence": 0.62}]
        assert page.line_confidence[3] == 0.62
        assert "10,918" in page.text.split("\n")[3]

    async def test_webhook_retries_exceeded_is_still_retrievable(self, client, server):
        server.state.status_script = ["webhook_retries_exceeded"]
        raw = await full_cycle(client, WhisperParams().with_pages([1]))
        assert b"result_text" in raw


class TestRetried:
    async def test_429_honours_retry_after(self, client, server, fake_time):
        server.fail(
            "whisper-status", Fault(status=429, body=b'{"message":"Too many"}', headers={"Retry-After": "7"})
        )
        await full_cycle(client, WhisperParams())
        assert 7.0 in fake_time.sleeps
        assert server.calls["whisper-status"] == 3

    async def test_429_on_submit_is_resent_once_accepted(self, client, server, fake_time):
        server.fail("whisper", Fault(status=429, headers={"Retry-After": "2"}), times=2)
        await client.submit(PDF, WhisperParams())
        assert fake_time.sleeps == [2.0, 2.0]
        assert server.calls["whisper"] == 3 and len(server.state.jobs) == 1

    async def test_503_on_submit_is_resent(self, client, server):
        server.fail("whisper", Fault(status=503, body=b"Service Unavailable"), times=2)
        await client.submit(PDF, WhisperParams())
        assert len(server.state.jobs) == 1

    async def test_5xx_burst_backs_off_exponentially(self, client, server, fake_time):
        server.fail("whisper-status", Fault(status=500, body=b'{"message":"boom"}'), times=3)
        await full_cycle(client, WhisperParams())
        backoffs = fake_time.sleeps[:3]
        for attempt, wait in enumerate(backoffs, start=1):
            assert 0.5 * 2 ** (attempt - 1) * 0.5 <= wait <= 0.5 * 2 ** (attempt - 1)
        assert server.calls["whisper-status"] == 5

    async def test_connection_reset_is_retried(self, client, server):
        server.fail("whisper-status", Fault(reset=True), times=2)
        server.fail("whisper-retrieve", Fault(reset=True))
        raw = await full_cycle(client, WhisperParams().with_pages([1]))
        assert b"result_text" in raw

    async def test_read_timeout_is_retried(self, server, fake_time):
        server.fail("whisper-status", Fault(delay=1.0))
        async with make_client(server, fake_time, read_timeout=0.2) as client:
            whisper_hash = await client.submit(PDF, WhisperParams())
            assert (await client.status(whisper_hash)).status in ("processing", "processed")
        assert server.calls["whisper-status"] == 2

    async def test_retries_are_bounded(self, client, server):
        server.fail("whisper-status", Fault(status=502, body=b"<html>Bad Gateway</html>"), times=10)
        whisper_hash = await client.submit(PDF, WhisperParams())
        with pytest.raises(WhisperUnavailableError, match="Bad Gateway") as caught:
            await client.status(whisper_hash)
        assert caught.value.retryable and server.calls["whisper-status"] == 4


class TestNotRetried:
    async def test_bad_key(self, server, fake_time):
        async with make_client(server, fake_time, api_key="wrong") as client:
            with pytest.raises(WhisperAuthError, match="Unauthorized") as caught:
                await client.submit(PDF, WhisperParams())
        assert caught.value.http_status == 401 and not caught.value.retryable
        assert server.calls["whisper"] == 1

    async def test_forbidden(self, client, server):
        server.fail("whisper", Fault(status=403, body=b'{"message":"Key disabled"}'))
        with pytest.raises(WhisperAuthError, match="Key disabled"):
            await client.submit(PDF, WhisperParams())
        assert server.calls["whisper"] == 1

    async def test_quota(self, client, server):
        server.state.page_quota = 2
        with pytest.raises(WhisperQuotaError, match="quota") as caught:
            await client.submit(PDF, WhisperParams())
        assert caught.value.http_status == 402 and server.calls["whisper"] == 1

    async def test_unsupported_file(self, client, server):
        with pytest.raises(WhisperRequestError, match="Unsupported file type") as caught:
            await client.submit(b"PK\x03\x04 a zip, not a pdf", WhisperParams())
        assert caught.value.http_status == 415 and server.calls["whisper"] == 1

    async def test_invalid_parameter_message(self, client, server):
        server.fail("whisper", Fault(status=400, body=b'{"message":"Invalid line_splitter_strategy"}'))
        with pytest.raises(WhisperRequestError, match="Invalid line_splitter_strategy"):
            await client.submit(PDF, WhisperParams())

    async def test_empty_400_body(self, client, server):
        server.fail("whisper", Fault(status=400, body=b""))
        with pytest.raises(WhisperRequestError, match="empty response body"):
            await client.submit(PDF, WhisperParams())

    async def test_unknown_hash(self, client):
        with pytest.raises(WhisperJobNotFoundError, match="not found"):
            await client.status("deadbeef|" + "0" * 32)
        with pytest.raises(WhisperJobNotFoundError, match="unknown"):
            await client.retrieve("deadbeef|" + "0" * 32)


class TestAmbiguousSubmit:
    async def test_reset_after_accept_is_not_resent(self, client, server):
        server.fail("whisper", Fault(process=True, reset=True))
        with pytest.raises(WhisperAmbiguousSubmitError) as caught:
            await client.submit(PDF, WhisperParams())
        assert caught.value.retryable
        assert server.calls["whisper"] == 1 and len(server.state.jobs) == 1

    async def test_timeout_after_send_is_not_resent(self, server, fake_time):
        server.fail("whisper", Fault(process=True, delay=1.0))
        async with make_client(server, fake_time, read_timeout=0.2) as client:
            with pytest.raises(WhisperAmbiguousSubmitError, match="ReadTimeout"):
                await client.submit(PDF, WhisperParams())
        assert server.calls["whisper"] == 1

    @pytest.mark.parametrize("status", [500, 502, 504])
    async def test_5xx_that_may_follow_acceptance_is_not_resent(self, client, server, status):
        server.fail("whisper", Fault(status=status, body=b"upstream error", process=True))
        with pytest.raises(WhisperAmbiguousSubmitError, match="upstream error"):
            await client.submit(PDF, WhisperParams())
        assert server.calls["whisper"] == 1


class TestDeadlineAndTerminal:
    async def test_stuck_processing_hits_the_deadline_with_few_polls(self, server, fake_time):
        server.state.status_script = ["processing"]
        async with make_client(server, fake_time, total_timeout=60.0) as client:
            whisper_hash = await client.submit(PDF, WhisperParams())
            with pytest.raises(WhisperDeadlineError, match="still processing"):
                await client.wait_until_ready(whisper_hash)
        # 1 + 2 + 4 + 8 + 8 … s until 60 s: a bounded, growing interval.
        assert fake_time.sleeps[:4] == [1.0, 2.0, 4.0, 8.0]
        assert server.calls["whisper-status"] <= 11

    async def test_retry_after_beyond_the_deadline_fails_at_once(self, server, fake_time):
        server.fail("whisper-status", Fault(status=429, headers={"Retry-After": "3600"}))
        async with make_client(server, fake_time, total_timeout=30.0) as client:
            whisper_hash = await client.submit(PDF, WhisperParams())
            with pytest.raises(WhisperRateLimitedError) as caught:
                await client.status(whisper_hash)
        assert caught.value.retry_after == 3600 and fake_time.sleeps == []

    async def test_exhausted_deadline_before_a_call(self, server, fake_time):
        async with make_client(server, fake_time, total_timeout=0.0) as client:
            with pytest.raises(WhisperDeadlineError):
                await client.submit(PDF, WhisperParams())
        assert server.calls["whisper"] == 0

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            ("failed", WhisperJobFailedError),
            ("unknown", WhisperJobFailedError),
            ("error", WhisperJobFailedError),
            ("error_ocr_timeout", WhisperJobFailedError),
            ("retrieved", WhisperAlreadyRetrievedError),
            ("delivered", WhisperAlreadyRetrievedError),
        ],
    )
    async def test_terminal_status_stops_polling(self, client, server, status, error):
        server.state.status_script = ["accepted", "stage_ocr", status]
        whisper_hash = await client.submit(PDF, WhisperParams())
        with pytest.raises(error):
            await client.wait_until_ready(whisper_hash)
        assert server.calls["whisper-status"] == 3

    async def test_retrieve_works_once(self, client, server):
        whisper_hash = await client.submit(PDF, WhisperParams())
        await client.wait_until_ready(whisper_hash)
        await client.retrieve(whisper_hash)
        with pytest.raises(WhisperAlreadyRetrievedError, match="already delivered"):
            await client.retrieve(whisper_hash)
        assert (await client.status(whisper_hash)).status == "retrieved"

    async def test_retrieve_before_ready(self, client):
        whisper_hash = await client.submit(PDF, WhisperParams())
        with pytest.raises(WhisperJobFailedError, match="not ready : processing"):
            await client.retrieve(whisper_hash)


class TestGarbage:
    @pytest.mark.parametrize(
        "body", [b"<html>oops</html>", b'{"status": "proc', b"[1, 2]", b'{"message": "no status"}', b""]
    )
    async def test_garbage_status_is_typed(self, client, server, body):
        whisper_hash = await client.submit(PDF, WhisperParams())
        server.fail("whisper-status", Fault(status=200, body=body))
        with pytest.raises(WhisperMalformedResponseError):
            await client.status(whisper_hash)

    async def test_submit_without_hash(self, client, server):
        server.fail("whisper", Fault(status=202, body=b'{"status": "processing"}'))
        with pytest.raises(WhisperMalformedResponseError, match="without a whisper_hash"):
            await client.submit(PDF, WhisperParams())

    async def test_oversized_answer_is_cut(self, server, fake_time):
        async with make_client(server, fake_time, max_response_bytes=1024) as client:
            whisper_hash = await client.submit(PDF, WhisperParams())
            server.fail("whisper-status", Fault(status=200, body=b"x" * 1_000_000))
            with pytest.raises(WhisperMalformedResponseError, match="exceeds 1024 bytes"):
                await client.status(whisper_hash)

    @pytest.mark.parametrize(
        "raw",
        [
            b"<html>502</html>",
            b'{"result_text": null}',
            b'{"result_text": ""}',
            b'{"result_text": "page one without any separator and page two"}',
        ],
    )
    def test_unusable_results_are_typed(self, raw):
        with pytest.raises(WhisperMalformedResponseError):
            pages_from_result(raw, WhisperParams(), [1, 2])

    def test_garbage_confidence_metadata_is_skipped(self):
        raw = b'{"result_text": "a\\n<<<\\f", "confidence_metadata": [[{"text": "a", "confidence": "x"}], 5]}'
        assert pages_from_result(raw, WhisperParams(), [1])[0].line_confidence is None


class TestPure:
    @pytest.mark.parametrize(
        ("pages", "spec"), [([1], "1"), ([3, 1, 2, 7], "1-3,7"), ([39, 40, 41, 43], "39-41,43"), ([], "")]
    )
    def test_page_specs_round_trip(self, pages, spec):
        assert format_page_spec(pages) == spec and parse_page_spec(spec) == sorted(pages)

    def test_bad_params_are_refused(self):
        for bad in (
            {"mode": "fast"},
            {"line_splitter_strategy": "not-a-strategy"},
            {"pages_to_extract": "3-1"},
        ):
            with pytest.raises(ValueError):
                WhisperParams(**bad)

    def test_options_key_ignores_labels_and_pages_but_not_output_options(self):
        base = WhisperParams()
        assert base.options_key() == base.with_labels(tag="x", file_name="y").with_pages([4]).options_key()
        assert base.options_key() != WhisperParams(mode="table").options_key()
        assert base.options_key() != WhisperParams(horizontal_stretch_factor=1.1).options_key()

    def test_retry_delay(self):
        policy = RetryPolicy(initial_wait=1.0, max_wait=60.0, max_retry_after=60.0, jitter=0.5)
        rng = random.Random(4)
        assert retry_delay(1, policy, rng, 5.0) == 5.0
        assert retry_delay(1, policy, rng, 999.0) == 60.0
        assert all(16 * 0.5 <= retry_delay(5, policy, rng, None) <= 16 for _ in range(50))
        assert retry_delay(30, policy, rng, None) <= 60.0

    def test_retry_after_header(self):
        assert parse_retry_after("2") == 2.0 and parse_retry_after(None) is None
        assert parse_retry_after("soon") is None
        later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
        assert 25 <= parse_retry_after(later) <= 31

    @pytest.mark.parametrize(
        ("status", "kind"),
        [
            ("processed", "ready"),
            ("webhook_retries_exceeded", "ready"),
            ("accepted", "pending"),
            ("processing", "pending"),
            ("stage_ocr", "pending"),
            ("failed", "failed"),
            ("unknown", "failed"),
            ("error_timeout", "failed"),
            ("retrieved", "gone"),
            ("delivered", "gone"),
        ],
    )
    def test_status_classes(self, status, kind):
        assert classify_status(status) == kind

    @pytest.mark.corpus
    def test_real_output_splits_into_its_pages(self):
        path = CORPUS / "nvidia-10k-fy2020-statements-table.txt"
        if not path.exists():
            pytest.skip("../shared/corpus is absent")
        text = path.read_text(encoding="utf-8").split("=" * 80 + "\n", 1)[1]
        chunks = split_pages(text, "<<<")
        assert len(chunks) == 6
        assert "CONSOLIDATED STATEMENTS OF INCOME" in chunks[0]


async def test_source_from_settings_talks_to_the_configured_url(server):
    server.state.status_script = ["processed"]
    settings = Settings(
        _env_file=None, llmwhisperer_base_url=server.base_url, llmwhisperer_api_key="test-key"
    )
    async with open_whisper_source(settings, params=WhisperParams(mode="table")) as source:
        pages = await source.pages(PDF, [3, 1])
    assert [(p.page, p.mode, p.text) for p in pages] == [(1, "grid", PAGES[0]), (3, "grid", PAGES[2])]
    assert server.queries("whisper")[0]["pages_to_extract"] == "1,3"


class TestFakeServer:
    """The fake follows llmwhisperer-v2.md where the client does not reach (so others can rely on it)."""

    def call(self, server, method, endpoint, **kwargs):
        kwargs.setdefault("headers", {"unstract-key": "test-key"})
        return httpx.request(method, f"{server.base_url}/{endpoint}", timeout=5, **kwargs)

    def accepted(self, server, **params) -> str:
        answer = self.call(server, "POST", "whisper", content=PDF, params=params)
        assert answer.status_code == 202, answer.text
        return answer.json()["whisper_hash"]

    def test_wire_variants_are_accepted_and_bad_values_refused(self, server):
        self.accepted(
            server, add_line_nos="true", mark_vertical_lines="1", file_name="", page_seperator="<<<"
        )
        bad = self.call(server, "POST", "whisper", content=PDF, params={"mode": "turbo"})
        assert (bad.status_code, bad.json()) == (400, {"message": "Invalid mode: turbo"})
        assert self.call(server, "POST", "whisper", content=PDF, headers={}).status_code == 401

    def test_highlights_detail_and_usage(self, server):
        whisper_hash = self.accepted(server, add_line_nos="True", pages_to_extract="2-", mode="table")
        boxes = self.call(
            server, "GET", "highlights", params={"whisper_hash": whisper_hash, "lines": "1-4"}
        ).json()
        assert (
            boxes["1"]["raw"] == [0, 0, 0, 0]
            and boxes["3"]["page"] == 1
            and boxes["3"]["page_height"] == 3168
        )
        detail = self.call(server, "GET", "whisper-detail", params={"whisper_hash": whisper_hash}).json()
        assert (detail["total_pages"], detail["requested_pages"], detail["mode"]) == (3, 2, "table")
        usage = self.call(server, "GET", "get-usage-info").json()
        assert usage["current_page_count_table"] == 2 and usage["current_page_count_form"] == 0
        plain = self.accepted(server)
        missing = self.call(server, "GET", "highlights", params={"whisper_hash": plain, "lines": "1"})
        assert (missing.status_code, missing.json()["message"]) == (400, "Line metadata not found")

    async def test_held_answer_waits_for_release(self, client, server):
        whisper_hash = await client.submit(PDF, WhisperParams())
        gate = server.hold("whisper-status")
        task = asyncio.create_task(client.status(whisper_hash))
        await eventually(lambda: server.calls["whisper-status"] == 1)
        assert not task.done()
        gate.set()
        assert (await asyncio.wait_for(task, 5)).status == "processing"

    def test_webhook_crud(self, server):
        hook = {"url": "http://127.0.0.1:9/hook", "auth_token": "t", "webhook_name": "w"}
        assert self.call(server, "POST", "whisper-manage-callback", json=hook).status_code == 201
        assert (
            self.call(server, "GET", "whisper-manage-callback", params={"webhook_name": "w"}).json() == hook
        )
        assert self.call(server, "PUT", "whisper-manage-callback", json=hook).status_code == 200
        assert (
            self.call(server, "DELETE", "whisper-manage-callback", params={"webhook_name": "w"}).status_code
            == 200
        )
        assert (
            self.call(server, "GET", "whisper-manage-callback", params={"webhook_name": "w"}).status_code
            == 404
        )


@pytest.mark.corpus
async def test_only_candidate_pages_of_a_real_10k_are_sent(server):
    pdf_path = CORPUS.parent / "pdf" / "nvidia-10k-fy2020.pdf"
    text_path = CORPUS / "nvidia-10k-fy2020-statements-table.txt"
    if not (pdf_path.exists() and text_path.exists()):
        pytest.skip("../shared/corpus is absent")
    from app.extraction.local_source import LocalTextSource

    pdf = pdf_path.read_bytes()
    server.register(pdf, split_canned(text_path.read_text(encoding="utf-8")))
    server.state.status_script = ["processed"]
    settings = Settings(
        _env_file=None, llmwhisperer_base_url=server.base_url, llmwhisperer_api_key="test-key"
    )
    cheap = LocalTextSource()
    try:
        async with open_whisper_source(settings, params=WhisperParams(mode="table"), cheap=cheap) as source:
            candidates = await source.candidate_pages(pdf)
            pages = await source.pages(pdf, candidates)
    finally:
        cheap.close()
    assert set(range(39, 45)) <= set(candidates) and len(candidates) < 143 / 2
    assert server.queries("whisper")[0]["pages_to_extract"] == format_page_spec(candidates)
    income = next(p for p in pages if p.page == 39)
    assert income.mode == "grid" and "CONSOLIDATED STATEMENTS OF INCOME" in income.text


def test_standalone_server_serves_canned_dir(tmp_path):
    (tmp_path / "report.pdf").write_bytes(PDF)
    (tmp_path / "report.txt").write_text("".join(page + "<<<\f" for page in PAGES), encoding="utf-8")
    command = [sys.executable, "-m", "tests.fakes.whisper_server", "--port", "0", "--canned", str(tmp_path)]
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root) as process:
        try:
            line = process.stdout.readline()
            assert "1 canned files" in line
            base_url = line.split(" on ", 1)[1].split(" ", 1)[0]
            answer = httpx.post(
                f"{base_url}/whisper",
                content=PDF,
                headers={"unstract-key": "test-key"},
                params={"pages_to_extract": "2"},
                timeout=5,
            )
            assert answer.status_code == 202 and "|" in answer.json()["whisper_hash"]
        finally:
            process.kill()
            process.wait(timeout=10)
