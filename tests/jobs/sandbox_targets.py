"""Functions run inside the sandbox by the tests (module level, so the child can import them)."""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any

from app.extraction.errors import PdfError


def double(value: int) -> int:
    return value * 2


def allocate(size: int) -> int:
    return len(bytearray(size))


def spin() -> None:
    while True:
        pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def abort() -> None:
    os.abort()


def raise_value_error() -> None:
    raise ValueError("bad value")


def raise_pdf_error() -> None:
    raise PdfError("pdf_encrypted", "encrypted, password required")


def write_pid_then_sleep(path: str) -> None:
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(60)


class WrappedError(Exception):
    """Like rapidocr's ONNXRuntimeError: its message is the whole traceback of the error it wraps."""


def _wrapped(inner: Exception) -> WrappedError:
    try:
        raise inner
    except Exception:
        return WrappedError(traceback.format_exc())


def raise_bad_alloc() -> None:
    """What onnxruntime's allocation failure looks like once rapidocr has wrapped it."""
    raise _wrapped(
        RuntimeError(
            "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running "
            "Clip node. Name:'p2o.Clip.2' Status Message: std::bad_alloc"
        )
    )


def raise_from_memory_error() -> None:
    try:
        raise MemoryError
    except MemoryError as error:
        raise RuntimeError("could not build the page image") from error


def raise_with_traceback_message() -> None:
    """A wrapped error that is not about memory: the job must not show its traceback."""
    raise _wrapped(ValueError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input"))


def extract_measured(pdf: bytes, max_pages: int) -> dict[str, Any]:
    """`local_page_text` of every candidate page, with the child's peak RSS (VmHWM) and the largest
    private writable memory (VmData, what RLIMIT_DATA limits) seen every 10 ms, in bytes."""
    from app.documents.sandboxed import local_page_text

    largest = [_status_bytes("VmData")]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            largest[0] = max(largest[0], _status_bytes("VmData"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        pages = local_page_text(pdf, None, max_pages)
    finally:
        done.set()
        sampler.join()
    return {"pages": pages, "peak_rss": _status_bytes("VmHWM"), "peak_data": largest[0]}


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)
