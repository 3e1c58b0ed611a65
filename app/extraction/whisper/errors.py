"""Typed LLMWhisperer errors, built from the service's `{"message": …}` bodies.

Input: an HTTP status and body (or a transport failure). Output: one `WhisperError` subclass with a
stable `code`, the service's message, the HTTP status we answer with, and `retryable`, which tells
the job layer whether a later attempt may succeed (the client has already spent its own retries).
Invariant: nothing here raises while classifying; a garbage body still yields a typed error.
"""

from __future__ import annotations

import json

from app.core.exceptions import TieoutError


class WhisperError(TieoutError):
    code = "whisper_error"
    status_code = 502
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(
            type(self).code, message, type(self).status_code, {"http_status": http_status, **(details or {})}
        )
        self.http_status = http_status
        self.retry_after = retry_after


class WhisperAuthError(WhisperError):
    code = "whisper_auth_failed"


class WhisperQuotaError(WhisperError):
    code = "whisper_quota_exceeded"


class WhisperRequestError(WhisperError):
    """The service refused the request itself (bad parameter, unsupported or broken file)."""

    code = "whisper_request_rejected"
    status_code = 422


class WhisperRateLimitedError(WhisperError):
    code = "whisper_rate_limited"
    status_code = 503
    retryable = True


class WhisperUnavailableError(WhisperError):
    """5xx answers or transport failures outlasted our retries."""

    code = "whisper_unavailable"
    status_code = 503
    retryable = True


class WhisperDeadlineError(WhisperError):
    code = "whisper_deadline_exceeded"
    status_code = 504
    retryable = True


class WhisperAmbiguousSubmitError(WhisperError):
    """`POST /whisper` may have been accepted but we never saw the hash; it is not re-sent here."""

    code = "whisper_submit_ambiguous"
    status_code = 503
    retryable = True


class WhisperSubmitLimitError(WhisperError):
    code = "whisper_submit_limit"


class WhisperJobFailedError(WhisperError):
    """The job reached a failing terminal status (failed, unknown, error*)."""

    code = "whisper_job_failed"


class WhisperJobNotFoundError(WhisperError):
    code = "whisper_job_not_found"
    retryable = True


class WhisperAlreadyRetrievedError(WhisperError):
    """The text was delivered once already; the service keeps no copy."""

    code = "whisper_already_retrieved"
    retryable = True


class WhisperMalformedResponseError(WhisperError):
    code = "whisper_malformed_response"
    prefix = "malformed response from LLMWhisperer: "

    def __init__(self, message: str, **kwargs: object) -> None:
        # Say what kind of failure this is in the message users read (job error, API body).
        if not message.startswith(self.prefix):
            message = self.prefix + message
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


def service_message(body: bytes, limit: int = 500) -> str:
    """The `message` of a JSON error body, else the start of the body as text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str) and parsed["message"]:
        return parsed["message"]
    return text[:limit] if text else "empty response body"


def error_for_status(status: int, body: bytes, *, endpoint: str) -> WhisperError:
    """Map a non-retried (or retries-exhausted) HTTP answer to its typed error."""
    message = service_message(body)
    details = {"endpoint": endpoint}
    lowered = message.lower()
    if status in (401, 403):
        return WhisperAuthError(f"LLMWhisperer refused the API key: {message}", http_status=status)
    if status in (413, 415):
        return WhisperRequestError(f"LLMWhisperer cannot take this file: {message}", http_status=status)
    if status == 402 or "quota" in lowered:
        return WhisperQuotaError(f"LLMWhisperer quota exhausted: {message}", http_status=status)
    if status == 429:
        return WhisperRateLimitedError(f"LLMWhisperer rate limit: {message}", http_status=status)
    if status >= 500:
        return WhisperUnavailableError(f"LLMWhisperer unavailable ({status}): {message}", http_status=status)
    if endpoint != "whisper":
        if "already delivered" in lowered or "already retrieved" in lowered:
            return WhisperAlreadyRetrievedError(message, http_status=status, details=details)
        if "not ready" in lowered:
            return WhisperJobFailedError(message, http_status=status, details=details)
        if status == 404 or "not found" in lowered or "unknown" in lowered:
            return WhisperJobNotFoundError(message, http_status=status, details=details)
    return WhisperRequestError(f"LLMWhisperer rejected the request: {message}", http_status=status)
