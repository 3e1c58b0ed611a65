"""Run CPU-heavy, crash-prone work (PDF parsing, OCR) in a child process with hard limits.

`await run_sandboxed(fn, *args, limits=...)` starts `python -m app.jobs.sandbox`, a small supervisor
that imports `fn`'s module, then forks the worker child: that one sets RLIMIT_DATA (memory),
RLIMIT_CPU and no core dumps on itself, and calls `fn`. The supervisor reaps it with `wait4`, so
the parent learns how the child ended *and* its peak memory and CPU time, and both die with the
worker (PR_SET_PDEATHSIG). The parent enforces the wall-clock limit and kills the process group on
timeout or cancellation.

The memory limit is RLIMIT_DATA, not RLIMIT_AS. RLIMIT_AS counts address space, and an OCR child
reserves far more of it than it uses: about 320 MB of shared-library mappings (OpenCV alone maps
its bundled Qt and FFmpeg), 64 MB reserved per glibc malloc arena (one per thread by default), and
thread stacks. A 53-page scanned annual report peaked at 2.0-2.6 GB of address space for 1.2-1.8 GB
of RSS, so 2 GiB of RLIMIT_AS failed real filings at random (onnxruntime's `std::bad_alloc`).
RLIMIT_DATA (Linux 4.7+) counts private writable memory only, the heap and anonymous mappings that
the child can actually fill, and is enforced by the kernel at allocation like RLIMIT_AS, so a PDF
bomb still fails on its first allocation past the limit (no polling race, as an RSS watcher would
have). The child also runs with MALLOC_ARENA_MAX=2: glibc's default of eight arenas per core only
fragments memory between OCR threads. With the OCR's own savings (`app.extraction.ocr`) that report
now peaks at about 1.1 GB of private memory, half the 2 GiB default.

Whatever happens in the child, the worker gets the return value or a typed `JobError`:
- `SandboxLimitError` ("resource limit exceeded", non-retryable): a MemoryError, a C++
  `std::bad_alloc` (onnxruntime, OpenCV) or a failed mmap at the memory limit; a native abort or
  fault, or a SIGKILL not sent by us, while at the memory limit, or an abort past half of it
  (PDFium aborts when an allocation fails); SIGXCPU or the hard SIGKILL of RLIMIT_CPU; the wall clock.
- `SandboxCrashError` ("worker died during attempt", retryable): a genuine crash below the limits,
  which the queue retries up to the job's max attempts, like the death of a worker.
- `SandboxTaskError`: an exception that could not be pickled back; exceptions that pickle cleanly
  are re-raised as themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import structlog

from app.core.errors import exception_chain
from app.jobs.retry import JobError

log = structlog.get_logger("tieout.jobs")

_HEADER = struct.Struct("!Q")
_STDERR_TAIL = 2000
# A child that dies of a signal with a peak RSS this close to its memory limit was out of memory:
# PDFium's allocator aborts on a failed allocation (a 1 GB flate bomb under 256 MiB peaks at ~95 %).
_AT_MEMORY_LIMIT = 0.8
# PDFium's out-of-memory handler is a bare abort(), and what it could not allocate is usually one
# large buffer, as big as all it holds: the same bomb under 1.5 or 2 GiB aborts at 1,054 MiB (68 %,
# 51 %). So a SIGABRT past this share of the limit is the limit too.
_ABORT_AT_MEMORY = 0.4
_NATIVE_DEATHS = {
    signal.SIGABRT,
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGILL,
    signal.SIGTRAP,
    signal.SIGKILL,
}
# How an allocation failure reads in stderr or in an exception's text: Python, C++ (onnxruntime says
# "Status Message: std::bad_alloc"), OpenCV ("Insufficient memory"), strerror(ENOMEM).
_MEMORY_WORDS = (
    "memoryerror",
    "bad_alloc",
    "out of memory",
    "failed to allocate memory",
    "insufficient memory",
    "cannot allocate memory",
)


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 120
    wall_seconds: float = 180.0


@dataclass(frozen=True)
class ChildExit:
    """How the limited child ended, as its supervisor saw it through `wait4`."""

    answer: bytes
    signal: int | None
    exit_code: int | None
    peak_rss_bytes: int
    cpu_seconds: float


class SandboxLimitError(JobError):
    code = "resource_limit_exceeded"
    retryable = False


class SandboxCrashError(JobError):
    """The child died below its limits: treated like a worker dying mid-attempt (retried)."""

    code = "sandbox_crashed"
    retryable = True


class SandboxTaskError(JobError):
    """An exception from the child that could not travel back as itself."""

    def __init__(self, type_name: str, message: str, code: str | None, retryable: bool) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.code = code or "task_error"
        self.retryable = retryable


async def run_sandboxed(fn: Callable[..., Any], *args: Any, limits: SandboxLimits | None = None) -> Any:
    """`fn(*args)` in a limited child process; its return value, or a typed error."""
    limits = limits or SandboxLimits()
    payload = pickle.dumps((asdict(limits), fn, args))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.jobs.sandbox",
        str(os.getpid()),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env=_child_env(),
    )
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(_HEADER.pack(len(payload)) + payload), timeout=limits.wall_seconds
        )
    except TimeoutError:
        raise SandboxLimitError(f"resource limit exceeded: wall clock {limits.wall_seconds:g}s") from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the supervisor and the limited child
            await proc.wait()
    child = ChildExit(**pickle.loads(out)) if proc.returncode == 0 and out else None
    return outcome(child, err[-_STDERR_TAIL:].decode("utf-8", "replace").strip(), limits)


def _child_env() -> dict[str, str]:
    """The worker's environment, with one BLAS/OpenMP thread unless set (each thread allocates its
    own buffers at import, which alone can exceed a small memory limit before any page is read) and
    at most two malloc arenas (the OCR threads' freed buffers are reused, not held per thread)."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_THREAD_LIMIT"):
        env.setdefault(name, "1")
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def mentions_memory(text: str) -> bool:
    """Whether an error text (stderr, an exception's message) reports a failed allocation."""
    lowered = text.lower()
    return any(word in lowered for word in _MEMORY_WORDS)


def outcome(child: ChildExit | None, stderr_tail: str, limits: SandboxLimits) -> Any:
    """The value the child returned, or the typed error for how it ended (pure)."""
    memory = f"resource limit exceeded: memory {limits.memory_bytes >> 20} MiB"
    if child is None:  # the supervisor itself did not report (killed from outside)
        lost = "worker died during attempt (extraction supervisor lost)"
        raise SandboxCrashError(f"{lost}: {stderr_tail[-300:]}")
    peak = f"(peak {child.peak_rss_bytes >> 20} MiB)"
    if child.signal is None and child.exit_code == 0 and child.answer:
        kind, value = pickle.loads(child.answer)
        if kind == "ok":
            return value
        if kind == "memory":
            log.warning("sandbox.out_of_memory", detail=value, peak_rss_mib=child.peak_rss_bytes >> 20)
            raise SandboxLimitError(f"{memory} {peak}")
        if kind == "exception":
            raise value
        raise SandboxTaskError(*value)
    cpu_spent = child.cpu_seconds >= limits.cpu_seconds
    if child.signal == signal.SIGXCPU or (child.signal == signal.SIGKILL and cpu_spent):
        raise SandboxLimitError(f"resource limit exceeded: CPU time {limits.cpu_seconds}s")
    share = child.peak_rss_bytes / limits.memory_bytes
    at_limit = share >= _AT_MEMORY_LIMIT and child.signal in _NATIVE_DEATHS
    aborted_big = share >= _ABORT_AT_MEMORY and child.signal == signal.SIGABRT
    if mentions_memory(stderr_tail) or at_limit or aborted_big:
        raise SandboxLimitError(f"{memory} {peak}")
    what = f"signal {signal.Signals(child.signal).name}" if child.signal else f"exit code {child.exit_code}"
    raise SandboxCrashError(
        f"worker died during attempt (extraction subprocess: {what}, peak "
        f"{child.peak_rss_bytes >> 20} MiB): {stderr_tail[-300:]}"
    )


def _die_with_parent(parent: int) -> None:
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1  # killed with the parent instead of running on as an orphan
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _apply_limits(limits: dict[str, Any]) -> None:
    import resource

    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def out_of_memory(exc: BaseException) -> bool:
    """Whether an exception (or one it was raised from) is a failed allocation: MemoryError, ENOMEM,
    a native library that could not be mapped, or a C++ `std::bad_alloc` passed on as text (rapidocr
    wraps onnxruntime's in an exception whose message is the whole traceback)."""
    return any(_failed_allocation(error) for error in exception_chain(exc))


def _failed_allocation(error: BaseException) -> bool:
    if isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno == errno.ENOMEM):
        return True
    if isinstance(error, ImportError) and "failed to map segment" in str(error):
        return True
    return mentions_memory(str(error))


def _supervise(worker_pid: int) -> int:
    """Supervisor: read the call, fork the limited child, reap it with wait4, report to stdout."""
    _die_with_parent(worker_pid)
    stdin = sys.stdin.buffer
    (size,) = _HEADER.unpack(stdin.read(_HEADER.size))
    try:
        limits, fn, args = pickle.loads(stdin.read(size))  # imports fn's module before any limit
    except Exception as exc:
        return _report(pickle.dumps(_exception_answer(exc)), 0, None)
    read_end, write_end = os.pipe()
    supervisor = os.getpid()
    pid = os.fork()
    if pid == 0:  # never returns into the supervisor's code, whatever fn raises
        code = 70
        try:
            os.close(read_end)
            _die_with_parent(supervisor)
            code = _limited_child(write_end, limits, fn, args)
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answers:
        answer = answers.read()
    _, status, usage = os.wait4(pid, 0)
    return _report(answer, status, usage)


def _report(answer: bytes, status: int, usage: Any) -> int:
    report = {  # plain values: this module is __main__ here, its classes would not unpickle
        "answer": answer,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "peak_rss_bytes": usage.ru_maxrss * 1024 if usage else 0,  # kilobytes on Linux
        "cpu_seconds": usage.ru_utime + usage.ru_stime if usage else 0.0,
    }
    sys.stdout.buffer.write(pickle.dumps(report))
    sys.stdout.buffer.flush()
    return 0


def _limited_child(write_end: int, limits: dict[str, Any], fn: Callable[..., Any], args: Any) -> int:
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the answer
    reserve = bytearray(1 << 20)  # released on failure so the answer can still be written
    try:
        _apply_limits(limits)
        answer: tuple[str, Any] = ("ok", fn(*args))
    except Exception as exc:
        del reserve
        if out_of_memory(exc):
            answer = ("memory", f"{type(exc).__name__}: {exc}"[-_STDERR_TAIL:])
        else:
            answer = _exception_answer(exc)
    try:
        blob = pickle.dumps(answer)
    except Exception as exc:
        blob = pickle.dumps(
            ("unpicklable", (type(exc).__name__, f"result not picklable: {exc}", None, False))
        )
    with os.fdopen(write_end, "wb") as out:
        out.write(blob)
    return 0


def _exception_answer(exc: Exception) -> tuple[str, Any]:
    try:
        pickle.loads(pickle.dumps(exc))
        return ("exception", exc)
    except Exception:
        code = getattr(exc, "code", None)
        retryable = getattr(exc, "retryable", False)
        message = getattr(exc, "message", None) or str(exc)
        return (
            "unpicklable",
            (type(exc).__name__, str(message), code if isinstance(code, str) else None, retryable is True),
        )


if __name__ == "__main__":
    raise SystemExit(_supervise(int(sys.argv[1])))
