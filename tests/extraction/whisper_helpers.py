"""Shared pieces of the LLMWhisperer tests: a fake clock, client factory and canned pages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from app.extraction.whisper.client import WhisperClient
from app.extraction.whisper.retry import PollPolicy, RetryPolicy
from tests.fakes.whisper_server import FakeWhisperServer

PDF = b"%PDF-1.7\n% three canned pages\n%%EOF\n"
PAGES = [
    "\n\nTable of Contents \n\n   NVIDIA CORPORATION \n",
    "\n\n   CONSOLIDATED STATEMENTS OF INCOME \nRevenue    $   10,918  $   11,716 \n",
    "\n\n   CONSOLIDATED BALANCE SHEETS \nTotal assets   $  17,315 \n",
]
# Page 2, line 3 ("Revenue …") holds a low-confidence figure.
LOW_CONFIDENCE = {2: [{"line": 3, "text": "10,918", "confidence": "0.62"}]}


class FakeTime:
    """Monotonic clock that only moves when the code under test sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make_client(
    server: FakeWhisperServer,
    fake_time: FakeTime,
    *,
    api_key: str = "test-key",
    read_timeout: float = 2.0,
    **overrides: Any,
) -> WhisperClient:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": api_key,
        "timeout": httpx.Timeout(read_timeout, connect=2.0),
        "retry": RetryPolicy(max_attempts=4, initial_wait=0.5, max_wait=4.0, max_retry_after=60.0),
        "poll": PollPolicy(initial=1.0, factor=2.0, max_interval=8.0),
        "total_timeout": 120.0,
        "sleep": fake_time.sleep,
        "clock": fake_time.clock,
    }
    return WhisperClient(**(options | overrides))


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `predicate` until it holds, failing after `timeout` seconds (no fixed sleeps)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
