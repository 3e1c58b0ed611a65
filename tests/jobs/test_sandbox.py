"""The sandbox turns every way a child can go wrong into a typed error: a limit is final, a crash
below the limits is retried like a dead worker."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import psutil
import pytest

from app.extraction.errors import PdfError
from app.jobs.retry import is_retryable
from app.jobs.sandbox import (
    SandboxCrashError,
    SandboxLimitError,
    SandboxLimits,
    SandboxTaskError,
    mentions_memory,
    out_of_memory,
    run_sandboxed,
)
from tests.jobs import sandbox_targets as targets
from tests.jobs.waiting import wait_until


async def test_returns_the_value() -> None:
    assert await run_sandboxed(targets.double, 21) == 42


async def test_memory_limit() -> None:
    limits = SandboxLimits(memory_bytes=256 * 1024**2)
    with pytest.raises(SandboxLimitError, match="memory") as caught:
        await run_sandboxed(targets.allocate, 1024**3, limits=limits)
    assert not is_retryable(caught.value)


class TestAllocationFailuresAreTheMemoryLimit:
    """onnxruntime's `std::bad_alloc` (wrapped by rapidocr in an exception whose text is a whole
    traceback), a MemoryError under another error, OpenCV's "Insufficient memory": all the limit,
    final after one attempt, never a task error retried five times."""

    async def test_bad_alloc_wrapped_in_a_traceback(self) -> None:
        with pytest.raises(SandboxLimitError, match="resource limit exceeded: memory 2048 MiB") as caught:
            await run_sandboxed(targets.raise_bad_alloc)
        assert not is_retryable(caught.value) and caught.value.code == "resource_limit_exceeded"
        assert "Traceback" not in str(caught.value)

    async def test_an_error_raised_from_a_memory_error(self) -> None:
        with pytest.raises(SandboxLimitError, match="memory"):
            await run_sandboxed(targets.raise_from_memory_error)

    @pytest.mark.parametrize(
        "error",
        [
            pytest.param(MemoryError(), id="MemoryError"),
            pytest.param(OSError(errno.ENOMEM, "Cannot allocate memory"), id="ENOMEM"),
            pytest.param(RuntimeError("... Status Message: std::bad_alloc"), id="onnxruntime"),
            pytest.param(RuntimeError("(-4:Insufficient memory) Failed to allocate 9 bytes"), id="opencv"),
            pytest.param(ImportError("libfoo.so: failed to map segment from shared object"), id="dlopen"),
        ],
    )
    def test_what_reads_as_out_of_memory(self, error: Exception) -> None:
        assert out_of_memory(error)

    @pytest.mark.parametrize(
        "error",
        [
            pytest.param(ValueError("bad value"), id="ValueError"),
            pytest.param(OSError(errno.ENOENT, "No such file"), id="ENOENT"),
            pytest.param(PdfError("pdf_corrupt", "corrupt PDF: Data format error"), id="PdfError"),
        ],
    )
    def test_what_does_not(self, error: Exception) -> None:
        assert not out_of_memory(error)

    def test_a_native_bad_alloc_in_stderr(self) -> None:
        assert mentions_memory("terminate called after throwing an instance of 'std::bad_alloc'")
        assert not mentions_memory("Fatal Python error: Segmentation fault")


async def test_cpu_limit() -> None:
    with pytest.raises(SandboxLimitError, match="CPU"):
        await run_sandboxed(targets.spin, limits=SandboxLimits(cpu_seconds=1, wall_seconds=30))


async def test_wall_clock_limit() -> None:
    with pytest.raises(SandboxLimitError, match="wall clock"):
        await run_sandboxed(targets.sleep, 30.0, limits=SandboxLimits(wall_seconds=0.5))


async def test_crash_below_the_limits_is_typed_and_retryable() -> None:
    with pytest.raises(SandboxCrashError, match="SIGABRT") as caught:
        await run_sandboxed(targets.abort)
    assert is_retryable(caught.value)
    assert str(caught.value).startswith("worker died during attempt")


async def test_picklable_exception_comes_back_as_itself() -> None:
    with pytest.raises(ValueError, match="bad value"):
        await run_sandboxed(targets.raise_value_error)


async def test_unpicklable_exception_keeps_code_and_retryability() -> None:
    # PdfError's __init__ takes (code, message): it does not survive pickling, so it travels as data.
    try:
        await run_sandboxed(targets.raise_pdf_error)
    except PdfError as exc:  # fine too, if it ever becomes picklable
        assert exc.code == "pdf_encrypted"
    except SandboxTaskError as exc:
        assert exc.code == "pdf_encrypted" and "password required" in exc.message
        assert not is_retryable(exc)


async def test_cancelling_the_caller_kills_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    call = asyncio.create_task(run_sandboxed(targets.write_pid_then_sleep, str(pid_file)))

    async def child_pid() -> int:
        return int(pid_file.read_text() or 0) if pid_file.exists() else 0

    pid = await wait_until(child_pid, timeout=10, what="the sandbox child to start")
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    async def gone() -> bool:
        return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    await wait_until(gone, timeout=5, what="the child to die")
    assert os.getpid() != pid
