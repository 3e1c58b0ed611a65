"""Run CPU-heavy, crash-prone work (PDF parsing, OCR) in a child process with hard limits.

`await run_sandboxed(fn, *args, limits=...)` starts `python -m app.jobs.sandbox`, which sets
RLIMIT_AS (memory), RLIMIT_CPU and no core dumps on itself, asks to be killed if the worker dies,
and calls `fn` (a module-level function; its module is imported before the limits apply, so they
bound the work on the input, not the imports). The parent enforces the wall-clock limit and kills
the child on timeout or cancellation. Whatever happens in the child, the worker gets
either the return value or a typed, non-retryable `JobError`: `SandboxLimitError` (memory, CPU,
wall clock), `SandboxCrashError` (signal, abort, segfault) or `SandboxTaskError` (an exception
that could not be pickled back); exceptions that pickle cleanly are re-raised as themselves.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from app.jobs.retry import JobError

_HEADER = struct.Struct("!Q")
_STDERR_TAIL = 2000


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 120
    wall_seconds: float = 180.0


class SandboxLimitError(JobError):
    code = "resource_limit_exceeded"
    retryable = False


class SandboxCrashError(JobError):
    code = "sandbox_crashed"
    retryable = False


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
            proc.kill()
            await proc.wait()
    return _outcome(proc.returncode or 0, out, err, limits)


def _child_env() -> dict[str, str]:
    """The worker's environment, with one BLAS/OpenMP thread unless set: each thread reserves its
    own buffers at import, which alone can exceed a small RLIMIT_AS before any page is read."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def _outcome(returncode: int, out: bytes, err: bytes, limits: SandboxLimits) -> Any:
    tail = err[-_STDERR_TAIL:].decode("utf-8", "replace").strip()
    if returncode == -signal.SIGXCPU:
        raise SandboxLimitError(f"resource limit exceeded: CPU time {limits.cpu_seconds}s")
    if returncode != 0 or not out:
        if "MemoryError" in tail or "std::bad_alloc" in tail:
            raise SandboxLimitError(f"resource limit exceeded: memory {limits.memory_bytes >> 20} MiB")
        what = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit code {returncode}"
        raise SandboxCrashError(f"extraction subprocess crashed ({what}): {tail[-300:]}")
    kind, value = pickle.loads(out)
    if kind == "ok":
        return value
    if kind == "memory":
        raise SandboxLimitError(f"resource limit exceeded: memory {limits.memory_bytes >> 20} MiB")
    if kind == "exception":
        raise value
    raise SandboxTaskError(*value)


def _apply_limits(limits: dict[str, Any]) -> None:
    import resource

    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1  # the child dies with the worker instead of running on as an orphan
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _out_of_address_space(exc: BaseException) -> bool:
    """RLIMIT_AS also shows up as a failed mmap: a native library that cannot load, or ENOMEM."""
    import errno

    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True
    return isinstance(exc, ImportError) and "failed to map segment" in str(exc)


def _child_main() -> int:
    stdin = sys.stdin.buffer
    (size,) = _HEADER.unpack(stdin.read(_HEADER.size))
    data = stdin.read(size)
    reserve = bytearray(1 << 20)  # released on MemoryError so the answer can still be written
    try:
        limits, fn, args = pickle.loads(data)
        _apply_limits(limits)
        answer: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        del reserve
        answer = ("memory", None)
    except Exception as exc:
        answer = ("memory", None) if _out_of_address_space(exc) else _exception_answer(exc)
    try:
        blob = pickle.dumps(answer)
    except Exception as exc:
        blob = pickle.dumps(
            ("unpicklable", (type(exc).__name__, f"result not picklable: {exc}", None, False))
        )
    sys.stdout.buffer.write(blob)
    sys.stdout.buffer.flush()
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
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    raise SystemExit(_child_main())
