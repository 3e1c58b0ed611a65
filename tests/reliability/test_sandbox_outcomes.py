"""Scenarios 15(b) and 4 at the sandbox boundary: how a child's death is told apart.

A child stopped by its own limits (RLIMIT_DATA as a MemoryError, a C++ `std::bad_alloc` or PDFium's
abort on a failed allocation, RLIMIT_CPU, the wall clock) is a non-retryable "resource limit
exceeded"; a genuine crash below the limits is "worker died during attempt" and is retried like a
dead worker, until the job's attempts run out. The table tests the pure classification; the jobs run
the real sandbox in an in-process worker.
"""

from __future__ import annotations

import pickle
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.documents.sandboxed import local_page_text
from app.jobs import queue
from app.jobs.retry import is_retryable
from app.jobs.sandbox import (
    ChildExit,
    SandboxCrashError,
    SandboxLimitError,
    SandboxLimits,
    outcome,
    run_sandboxed,
)
from app.jobs.tasks import TaskContext, TaskRegistry
from app.jobs.worker import Worker
from tests.jobs import sandbox_targets as targets
from tests.jobs.waiting import wait_until
from tests.reliability.pdf_bombs import flate_bomb

MiB = 1024**2
LIMITS = SandboxLimits(memory_bytes=256 * MiB, cpu_seconds=10, wall_seconds=20)


def died(sig: int | None = None, *, exit_code: int | None = None, peak_mib: int = 40, cpu: float = 0.2):
    return ChildExit(b"", sig, exit_code, peak_mib * MiB, cpu)


@pytest.mark.parametrize(
    ("child", "stderr", "expected", "words"),
    [
        pytest.param(
            died(signal.SIGABRT, peak_mib=243), "", SandboxLimitError, "memory 256 MiB", id="abort-at-AS"
        ),
        pytest.param(died(signal.SIGSEGV, peak_mib=230), "", SandboxLimitError, "memory", id="segv-at-AS"),
        pytest.param(died(signal.SIGKILL, peak_mib=250), "", SandboxLimitError, "memory", id="oom-killer"),
        pytest.param(died(exit_code=1), "MemoryError", SandboxLimitError, "memory", id="memoryerror-text"),
        pytest.param(
            died(signal.SIGABRT),
            "terminate called after throwing an instance of 'std::bad_alloc'",
            SandboxLimitError,
            "memory",
            id="uncaught-bad-alloc",
        ),
        pytest.param(died(signal.SIGABRT, peak_mib=131), "", SandboxLimitError, "memory", id="abort-at-half"),
        pytest.param(died(signal.SIGSEGV, peak_mib=131), "", SandboxCrashError, "SIGSEGV", id="segv-at-half"),
        pytest.param(died(signal.SIGXCPU, cpu=10.0), "", SandboxLimitError, "CPU time 10s", id="sigxcpu"),
        pytest.param(died(signal.SIGKILL, cpu=11.0), "", SandboxLimitError, "CPU time", id="cpu-hard-limit"),
        pytest.param(died(signal.SIGABRT), "", SandboxCrashError, "SIGABRT", id="abort-below-limits"),
        pytest.param(died(signal.SIGSEGV), "", SandboxCrashError, "SIGSEGV", id="segfault"),
        pytest.param(died(signal.SIGKILL), "", SandboxCrashError, "SIGKILL", id="killed-from-outside"),
        pytest.param(died(exit_code=3), "boom", SandboxCrashError, "exit code 3", id="exit-code"),
        pytest.param(None, "", SandboxCrashError, "supervisor lost", id="supervisor-killed"),
    ],
)
def test_how_a_child_ended_decides_the_error(
    child: ChildExit | None, stderr: str, expected: type[Exception], words: str
) -> None:
    with pytest.raises(expected, match=words) as caught:
        outcome(child, stderr, LIMITS)
    if expected is SandboxLimitError:
        assert "resource limit exceeded" in str(caught.value) and not is_retryable(caught.value)
    else:
        assert str(caught.value).startswith("worker died during attempt") and is_retryable(caught.value)


def test_a_clean_answer_is_returned() -> None:
    answer = ChildExit(pickle.dumps(("ok", 42)), None, 0, 300 * MiB, 1.0)
    assert outcome(answer, "", LIMITS) == 42


class TestRealChildren:
    async def test_pdfium_abort_on_a_flate_bomb_is_a_resource_limit(self) -> None:
        with pytest.raises(SandboxLimitError, match="resource limit exceeded: memory 256 MiB"):
            await run_sandboxed(local_page_text, flate_bomb(), None, 50, limits=LIMITS)

    @pytest.mark.slow
    async def test_the_same_bomb_under_the_default_limit_too(self) -> None:
        """Under 2 GiB PDFium aborts at about half the limit, failing to copy the 1 GiB it inflated."""
        limits = SandboxLimits(memory_bytes=2048 * MiB, cpu_seconds=60, wall_seconds=120)
        with pytest.raises(SandboxLimitError, match="resource limit exceeded: memory 2048 MiB"):
            await run_sandboxed(local_page_text, flate_bomb(), None, 50, limits=limits)

    async def test_an_abort_below_the_limits_is_a_retryable_crash(self) -> None:
        with pytest.raises(SandboxCrashError, match="SIGABRT") as caught:
            await run_sandboxed(targets.abort, limits=LIMITS)
        assert is_retryable(caught.value)


JOBS = text("SELECT id, status, attempts, error FROM jobs WHERE id = ANY(:ids)")
registry = TaskRegistry()


@registry.task("test.sandbox_abort")
async def sandbox_abort(ctx: TaskContext) -> Any:
    return await run_sandboxed(targets.abort, limits=LIMITS)


@registry.task("test.sandbox_memory")
async def sandbox_memory(ctx: TaskContext) -> Any:
    return await run_sandboxed(targets.allocate, 1024**3, limits=LIMITS)


@registry.task("test.sandbox_bad_alloc")
async def sandbox_bad_alloc(ctx: TaskContext) -> Any:
    return await run_sandboxed(targets.raise_bad_alloc, limits=LIMITS)


@registry.task("test.sandbox_traceback")
async def sandbox_traceback(ctx: TaskContext) -> Any:
    return await run_sandboxed(targets.raise_with_traceback_message, limits=LIMITS)


async def test_through_the_queue_crashes_are_retried_and_limits_are_not(
    create_database: Callable[[], Awaitable[str]], make_settings: Callable[..., Settings]
) -> None:
    """Scenario 4 with an extractor child that aborts on every attempt (max_attempts 3), next to jobs
    over their memory limit (an allocation, onnxruntime's `std::bad_alloc` as rapidocr wraps it):
    `failed` after 3 attempts vs `failed` after 1, nothing `running`. A job whose error text is a
    traceback stores only the exception's line."""
    settings = make_settings(database_url=await create_database(), retry_base_seconds=0.05)
    engine = create_engine(settings, application_name="tieout-test")
    try:
        async with engine.begin() as conn:
            crash = await queue.enqueue(conn, "test.sandbox_abort", {}, max_attempts=3)
            limit = await queue.enqueue(conn, "test.sandbox_memory", {}, max_attempts=3)
            bad_alloc = await queue.enqueue(conn, "test.sandbox_bad_alloc", {}, max_attempts=3)
            wrapped = await queue.enqueue(conn, "test.sandbox_traceback", {}, max_attempts=1)
        ids = [crash, limit, bad_alloc, wrapped]
        worker = Worker(
            sessionmaker=create_sessionmaker(engine), engine=engine, settings=settings, tasks=registry
        )

        async def settled() -> dict[int, Any] | None:
            await worker.run_until_empty()  # a retry waits out its backoff in run_after
            async with engine.connect() as conn:
                rows = {r.id: r for r in await conn.execute(JOBS, {"ids": ids})}
            return rows if all(r.status in ("failed", "succeeded") for r in rows.values()) else None

        rows = await wait_until(settled, timeout=60, interval=0.1, what="all jobs final")
    finally:
        await engine.dispose()
    assert (rows[crash].status, rows[crash].attempts) == ("failed", 3)
    assert rows[crash].error["message"].startswith("worker died during attempt"), rows[crash].error
    for job in (limit, bad_alloc):
        assert (rows[job].status, rows[job].attempts) == ("failed", 1), rows[job].error
        assert rows[job].error["code"] == "resource_limit_exceeded"
        assert rows[job].error["message"].startswith("resource limit exceeded: memory 256 MiB")
    assert rows[wrapped].error == {
        "code": "task_error",
        "type": "WrappedError",
        "message": "ValueError: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input",
    }
