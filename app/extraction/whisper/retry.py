"""Pure timing rules of the LLMWhisperer client: backoff with jitter, Retry-After, status classes.

Input: attempt numbers, `Retry-After` headers, `/whisper-status` values, a clock. Output: seconds to
wait, and what a status means for the poller. Invariants: every wait is capped (`max_wait`,
`max_retry_after`); no I/O here, so the rules are tested without a server.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

READY_STATUSES = frozenset({"processed", "webhook_retries_exceeded"})
GONE_STATUSES = frozenset({"retrieved", "delivered"})
FAILED_STATUSES = frozenset({"failed", "unknown", "error"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_wait: float = 1.0
    max_wait: float = 60.0
    max_retry_after: float = 60.0
    jitter: float = 0.5


@dataclass(frozen=True)
class PollPolicy:
    initial: float = 2.0
    factor: float = 1.5
    max_interval: float = 30.0


def retry_delay(attempt: int, policy: RetryPolicy, rng: random.Random, retry_after: float | None) -> float:
    """Seconds to wait before attempt `attempt + 1`: Retry-After if given (capped), else backoff."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.max_retry_after)
    ceiling = min(policy.max_wait, policy.initial_wait * 2 ** (attempt - 1))
    return ceiling * (1 - policy.jitter * rng.random())


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def classify_status(status: str) -> str:
    """ready | gone | failed | pending for one `/whisper-status` value."""
    if status in READY_STATUSES:
        return "ready"
    if status in GONE_STATUSES:
        return "gone"
    if status in FAILED_STATUSES or status.startswith("error"):
        return "failed"
    return "pending"


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds = seconds
        self.at = clock() + seconds

    def remaining(self) -> float:
        return self.at - self._clock()
