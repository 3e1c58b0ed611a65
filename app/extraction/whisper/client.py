"""Async LLMWhisperer v2 client: submit, poll with a growing interval, retrieve once.

Input: PDF bytes and `WhisperParams`. Output: the whisper_hash, status answers, and the RAW bytes of
the one `/whisper-retrieve` answer (callers persist them before parsing: the service keeps no copy).
Invariants:
- 429, 5xx, connection failures and timeouts are retried with capped exponential backoff + jitter,
  honouring `Retry-After`, within `max_attempts` and the caller's total deadline.
- `POST /whisper` is re-sent only when the service provably did not take it (connect failure, 408,
  429, 503). A submit that may have landed raises `WhisperAmbiguousSubmitError` instead.
- Any other 4xx raises a typed `WhisperError` carrying the service's message; garbage bodies raise
  `WhisperMalformedResponseError`; bodies over the size cap are not read past the cap.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from app.extraction.whisper.errors import (
    WhisperAlreadyRetrievedError,
    WhisperAmbiguousSubmitError,
    WhisperDeadlineError,
    WhisperError,
    WhisperJobFailedError,
    WhisperMalformedResponseError,
    WhisperUnavailableError,
    error_for_status,
    service_message,
)
from app.extraction.whisper.params import WhisperParams
from app.extraction.whisper.retry import (
    Deadline,
    PollPolicy,
    RetryPolicy,
    classify_status,
    parse_retry_after,
    retry_delay,
)

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://llmwhisperer-api.us-central.unstract.com/api/v2"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers that prove the submit was not taken; a 500/502/504 may come after the job was created.
SUBMIT_RETRY_STATUSES = frozenset({408, 429, 503})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class WhisperStatus:
    status: str
    message: str = ""
    detail: list[Any] = field(default_factory=list)


class _TooLargeError(Exception):
    pass


class WhisperClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        total_timeout: float = 600.0,
        max_response_bytes: int = 64 * 1024 * 1024,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self.timeout = timeout or httpx.Timeout(120.0, connect=10.0, pool=10.0)
        self.retry = retry or RetryPolicy()
        self.poll = poll or PollPolicy()
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self.sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> WhisperClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def deadline(self, seconds: float | None = None) -> Deadline:
        return Deadline(self.total_timeout if seconds is None else seconds, self._clock)

    async def submit(self, pdf: bytes, params: WhisperParams, deadline: Deadline | None = None) -> str:
        """`POST /whisper` → whisper_hash of the accepted (202) job."""
        deadline = deadline or self.deadline()
        status, body, _ = await self._send("POST", "whisper", deadline, params=params.query(), content=pdf)
        payload = _json_object(body, "whisper")
        whisper_hash = payload.get("whisper_hash")
        if status not in (200, 202) or not isinstance(whisper_hash, str) or not whisper_hash:
            raise WhisperMalformedResponseError(
                f"submit answered {status} without a whisper_hash: {service_message(body, 200)}",
                http_status=status,
            )
        log.info("whisper.submitted", whisper_hash=whisper_hash, pages=params.pages_to_extract or "all")
        return whisper_hash

    async def status(self, whisper_hash: str, deadline: Deadline | None = None) -> WhisperStatus:
        deadline = deadline or self.deadline()
        _, body, _ = await self._send(
            "GET", "whisper-status", deadline, params={"whisper_hash": whisper_hash}
        )
        payload = _json_object(body, "whisper-status")
        status = payload.get("status")
        if not isinstance(status, str) or not status:
            raise WhisperMalformedResponseError(
                f"status answer without a status: {service_message(body, 200)}"
            )
        detail = payload.get("detail")
        message = payload.get("message")
        return WhisperStatus(
            status=status,
            message=message if isinstance(message, str) else "",
            detail=detail if isinstance(detail, list) else [],
        )

    async def wait_until_ready(self, whisper_hash: str, deadline: Deadline | None = None) -> WhisperStatus:
        """Poll `/whisper-status` with a growing interval until the job can be retrieved."""
        deadline = deadline or self.deadline()
        interval = self.poll.initial
        polls = 0
        while True:
            answer = await self.status(whisper_hash, deadline)
            polls += 1
            kind = classify_status(answer.status)
            if kind == "ready":
                return answer
            details = {"whisper_hash": whisper_hash, "status": answer.status}
            if kind == "gone":
                raise WhisperAlreadyRetrievedError(
                    f"job already {answer.status}: the text was delivered before", details=details
                )
            if kind == "failed":
                reason = answer.message or answer.status
                raise WhisperJobFailedError(f"LLMWhisperer job {answer.status}: {reason}", details=details)
            if deadline.remaining() <= interval:
                raise WhisperDeadlineError(
                    f"job still {answer.status} after {polls} status calls "
                    f"({deadline.seconds:.0f} s deadline)",
                    details={**details, "polls": polls},
                )
            await self.sleep(interval)
            interval = min(interval * self.poll.factor, self.poll.max_interval)

    async def retrieve(self, whisper_hash: str, deadline: Deadline | None = None) -> bytes:
        """`GET /whisper-retrieve` → the raw body. The service answers this only once per job."""
        deadline = deadline or self.deadline()
        _, body, _ = await self._send(
            "GET", "whisper-retrieve", deadline, params={"whisper_hash": whisper_hash, "text_only": "False"}
        )
        log.info("whisper.retrieved", whisper_hash=whisper_hash, size=len(body))
        return body

    async def _send(
        self,
        method: str,
        endpoint: str,
        deadline: Deadline,
        *,
        params: Any,
        content: bytes | None = None,
    ) -> tuple[int, bytes, httpx.Headers]:
        is_submit = endpoint == "whisper"
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline.remaining()
            if remaining <= 0:
                raise WhisperDeadlineError(f"deadline of {deadline.seconds:.0f} s reached before {endpoint}")
            retry_after = None
            try:
                status, body, headers = await self._once(method, endpoint, params, content, remaining)
            except _TooLargeError as exc:
                raise WhisperMalformedResponseError(
                    f"{endpoint} answer exceeds {self.max_response_bytes} bytes"
                ) from exc
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                if is_submit and not isinstance(exc, _NOT_SENT):
                    raise WhisperAmbiguousSubmitError(
                        f"submit may have been accepted, not re-sent ({reason})"
                    ) from exc
                failure: WhisperError = WhisperUnavailableError(f"LLMWhisperer {endpoint} failed: {reason}")
            else:
                if status < 400:
                    return status, body, headers
                if status not in RETRY_STATUSES:
                    raise error_for_status(status, body, endpoint=endpoint)
                if is_submit and status not in SUBMIT_RETRY_STATUSES:
                    raise WhisperAmbiguousSubmitError(
                        f"submit answered {status}, it may have been accepted: {service_message(body, 200)}",
                        http_status=status,
                    )
                retry_after = parse_retry_after(headers.get("retry-after"))
                failure = error_for_status(status, body, endpoint=endpoint)
                failure.retry_after = retry_after
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                # Longer than one attempt may sleep in a worker slot: the job layer reschedules the
                # job with `run_after` from `failure.retry_after` and the slot is freed.
                raise failure
            wait = retry_delay(attempt, self.retry, self._rng, retry_after)
            if attempt >= self.retry.max_attempts or wait >= deadline.remaining():
                raise failure
            log.warning(
                "whisper.retry", endpoint=endpoint, attempt=attempt, wait=round(wait, 3), error=str(failure)
            )
            await self.sleep(wait)

    async def _once(
        self, method: str, endpoint: str, params: Any, content: bytes | None, remaining: float
    ) -> tuple[int, bytes, httpx.Headers]:
        timeout = httpx.Timeout(
            connect=min(self.timeout.connect or remaining, remaining),
            read=min(self.timeout.read or remaining, remaining),
            write=min(self.timeout.write or remaining, remaining),
            pool=min(self.timeout.pool or remaining, remaining),
        )
        request = self._http.build_request(
            method,
            f"{self.base_url}/{endpoint}",
            params=params,
            content=content,
            headers={"unstract-key": self._api_key},
            timeout=timeout,
        )
        response = await self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise _TooLargeError
                chunks.append(chunk)
        finally:
            await response.aclose()
        return response.status_code, b"".join(chunks), response.headers


def _json_object(body: bytes, endpoint: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise WhisperMalformedResponseError(
            f"{endpoint} answered non-JSON: {service_message(body, 200)!r}"
        ) from exc
    if not isinstance(payload, dict):
        raise WhisperMalformedResponseError(f"{endpoint} answered JSON that is not an object")
    return payload
