"""Functions run inside the sandbox by the tests (module level, so the child can import them)."""

from __future__ import annotations

import os
import time

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
