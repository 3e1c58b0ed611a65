"""Retry policy as pure functions: which errors are worth another attempt, and when.

Input: the attempt number that just failed (1-based, counted at claim) and the exception.
Output: a `RetryDecision` — `run_after` None means fail now. Backoff is
`min(cap, base * factor**(attempt-1))` with ±jitter, or the error's own `retry_after` when it
gives one (e.g. an HTTP 429 `Retry-After`). No clock is read here: callers pass `now`.
"""

from __future__ import annotations

import random
import re
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


_TRACEBACK_HEADER = "Traceback (most recent call last)"
_CHAIN_LINES = frozenset(
    {
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    }
)
_FRAME = re.compile(r'^\s*File "[^"]*", line \d+')


def error_text(error: BaseException) -> str:
    """The error's full message, as raised (for the log)."""
    return str(getattr(error, "message", None) or error)


def error_summary(text: str) -> str:
    """`text` without the Python tracebacks some libraries put in their messages (rapidocr's is a
    whole `traceback.format_exc()`): "Traceback (most recent call last):" blocks, their file/line
    frames and source lines, and the lines that chain one to the next are dropped; the exception
    lines and any other text are kept."""
    kept: list[str] = []
    in_traceback = False
    for line in text.splitlines():
        stripped = line.strip()
        if _TRACEBACK_HEADER in line:
            before = line[: line.index(_TRACEBACK_HEADER)].rstrip()
            if before:
                kept.append(before)
            in_traceback = True
        elif in_traceback and (not stripped or line[0].isspace()):
            continue  # a frame, its source line or a caret line
        elif _FRAME.match(line):
            in_traceback = True  # a frame without its header: skip its source line too
        elif stripped in _CHAIN_LINES:
            in_traceback = False
        else:
            in_traceback = False
            if stripped:
                kept.append(line.rstrip())
    return "\n".join(kept)


def describe_error(error: BaseException) -> dict[str, str]:
    """The JSON stored in `jobs.error`: a stable code, the class and a message (never a traceback:
    the full text goes to the log)."""
    code = getattr(error, "code", None)
    message = error_summary(error_text(error)) or type(error).__name__
    return {
        "code": code if isinstance(code, str) else "task_error",
        "type": type(error).__name__,
        "message": message[:2000],
    }
