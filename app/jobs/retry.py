"""Retry policy as pure functions: which errors are worth another attempt, and when.

Input: the attempt number that just failed (1-based, counted at claim) and the exception.
Output: a `RetryDecision` — `run_after` None means fail now. Backoff is
`min(cap, base * factor**(attempt-1))` with ±jitter, or the error's own `retry_after` when it
gives one (e.g. an HTTP 429 `Retry-After`). No clock is read here: callers pass `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


class JobError(Exception):
    """Base for errors a task raises on purpose; `retryable` decides whether another attempt helps."""

    code = "job_error"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class RetryableError(JobError):
    code = "retryable_error"


class TerminalError(JobError):
    """An error that no retry can fix (bad input, 4xx from a service): the job fails at once."""

    code = "terminal_error"
    retryable = False


class JobTimeoutError(JobError):
    code = "timed_out"


# Exception class names treated as terminal even though they are not JobErrors (kept as names so
# this module imports nothing from the pipeline).
TERMINAL_CLASS_NAMES = frozenset({"PdfError", "ValidationError", "SandboxLimitError"})


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 2.0
    factor: float = 4.0
    cap_seconds: float = 300.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based), jitter included."""
        raw = min(self.cap_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, raw * (1.0 + spread))


@dataclass(frozen=True)
class RetryDecision:
    run_after: datetime | None
    delay_seconds: float | None
    retryable: bool

    @property
    def will_retry(self) -> bool:
        return self.run_after is not None


def is_retryable(error: BaseException) -> bool:
    """Whether the error could go away on another attempt."""
    flag = getattr(error, "retryable", None)
    if isinstance(flag, bool):
        return flag
    return not any(cls.__name__ in TERMINAL_CLASS_NAMES for cls in type(error).__mro__)


def next_run_after(
    attempt: int,
    error: BaseException,
    *,
    max_attempts: int,
    now: datetime,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> RetryDecision:
    """When to run the job again after `error` ended attempt `attempt`, or None to fail it."""
    retryable = is_retryable(error)
    if not retryable or attempt >= max_attempts:
        return RetryDecision(run_after=None, delay_seconds=None, retryable=retryable)
    hinted = getattr(error, "retry_after", None)
    if isinstance(hinted, int | float) and hinted >= 0:
        delay = min(float(hinted), policy.cap_seconds)
    else:
        delay = policy.delay(attempt, rng)
    return RetryDecision(run_after=now + timedelta(seconds=delay), delay_seconds=delay, retryable=True)


def describe_error(error: BaseException) -> dict[str, str]:
    """The JSON stored in `jobs.error`: a stable code, the class and a message."""
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return {
        "code": code if isinstance(code, str) else "task_error",
        "type": type(error).__name__,
        "message": str(message)[:2000],
    }
