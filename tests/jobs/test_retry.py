"""The retry policy is a pure function: backoff grows, jitter stays in bounds, terminal errors stop."""

from __future__ import annotations

import random
import traceback
from datetime import UTC, datetime, timedelta

import pytest

from app.extraction.errors import PdfError
from app.jobs.retry import (
    JobTimeoutError,
    RetryableError,
    RetryPolicy,
    TerminalError,
    describe_error,
    error_summary,
    is_retryable,
    next_run_after,
)
from app.jobs.sandbox import SandboxCrashError, SandboxLimitError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=2.0, factor=4.0, cap_seconds=300.0, jitter=0.2)


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 2.0), (2, 8.0), (3, 32.0), (4, 128.0), (5, 300.0), (9, 300.0)],
    ids=["first", "second", "third", "fourth", "capped", "far-past-cap"],
)
def test_delay_is_base_times_factor_power_capped_with_jitter(attempt: int, expected: float) -> None:
    rng = random.Random(attempt)
    delays = [POLICY.delay(attempt, rng) for _ in range(200)]
    assert all(expected * 0.8 <= d <= expected * 1.2 for d in delays)
    assert max(delays) - min(delays) > 0  # jitter actually spreads retries


def test_retryable_error_gets_a_run_after_until_the_last_attempt() -> None:
    error = RetryableError("flaky")
    decision = next_run_after(1, error, max_attempts=3, now=NOW, policy=POLICY)
    assert decision.will_retry and decision.retryable
    assert decision.run_after == NOW + timedelta(seconds=decision.delay_seconds or 0)
    assert next_run_after(3, error, max_attempts=3, now=NOW, policy=POLICY).run_after is None


@pytest.mark.parametrize(
    "error",
    [
        TerminalError("bad input"),
        PdfError("pdf_encrypted", "encrypted, password required"),
        SandboxLimitError("resource limit exceeded: memory"),
    ],
    ids=["terminal", "pdf-error", "sandbox-limit"],
)
def test_terminal_errors_fail_at_once(error: Exception) -> None:
    decision = next_run_after(1, error, max_attempts=5, now=NOW, policy=POLICY)
    assert decision.run_after is None and not decision.retryable
    assert not is_retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("boom"),
        ConnectionError("reset"),
        JobTimeoutError("timed out after 5s"),
        SandboxCrashError("worker died during attempt (extraction subprocess: signal SIGSEGV)"),
    ],
    ids=["unknown", "connection", "timeout", "sandbox-crash"],
)
def test_unknown_and_transient_errors_are_retryable(error: Exception) -> None:
    assert is_retryable(error)


def test_error_retry_after_hint_wins_and_is_capped() -> None:
    hinted = RetryableError("429", retry_after=42.0)
    assert next_run_after(1, hinted, max_attempts=5, now=NOW, policy=POLICY).delay_seconds == 42.0
    huge = RetryableError("429", retry_after=10_000.0)
    assert next_run_after(1, huge, max_attempts=5, now=NOW, policy=POLICY).delay_seconds == 300.0


def test_object_with_retryable_flag_is_respected() -> None:
    class ServiceError(Exception):
        retryable = False

    assert not is_retryable(ServiceError())


def test_describe_error_keeps_code_type_and_message() -> None:
    assert describe_error(PdfError("pdf_truncated", "corrupt or truncated PDF")) == {
        "code": "pdf_truncated",
        "type": "PdfError",
        "message": "corrupt or truncated PDF",
    }
    assert describe_error(ValueError())["message"] == "ValueError"


# rapidocr's ONNXRuntimeError: its message is `traceback.format_exc()` of onnxruntime's error.
RAPIDOCR_MESSAGE = """Traceback (most recent call last):
  File "/venv/site-packages/rapidocr_onnxruntime/utils/infer_engine.py", line 196, in __call__
    return self.session.run(self.get_output_names(), input_dict)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/site-packages/onnxruntime/capi/onnxruntime_inference_collection.py", line 406, in run
    return self._sess.run(output_names, input_feed, run_options)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got \
invalid dimensions for input: x
"""


class TestNoTracebackInTheJobError:
    def test_a_traceback_in_the_message_leaves_only_the_exception_line(self) -> None:
        class ONNXRuntimeError(Exception):
            pass

        info = describe_error(ONNXRuntimeError(RAPIDOCR_MESSAGE))
        assert info == {
            "code": "task_error",
            "type": "ONNXRuntimeError",
            "message": "onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument: [ONNXRuntimeError] "
            ": 2 : INVALID_ARGUMENT : Got invalid dimensions for input: x",
        }

    def test_chained_tracebacks_keep_each_exception_and_the_text_before_them(self) -> None:
        try:
            try:
                {}["page"]
            except KeyError as error:
                raise ValueError("no page image") from error
        except ValueError:
            text = "OCR failed: " + traceback.format_exc()
        assert error_summary(text) == "OCR failed:\nKeyError: 'page'\nValueError: no page image"

    @pytest.mark.parametrize(
        "message",
        [
            "corrupt or truncated PDF",
            "1 validation error for Statement\ncolumns\n  Field required [type=missing]",
            "resource limit exceeded: memory 2048 MiB (peak 1990 MiB)",
        ],
    )
    def test_messages_without_a_traceback_are_kept_whole(self, message: str) -> None:
        assert describe_error(RuntimeError(message))["message"] == message

    def test_a_message_that_was_only_frames_names_the_class(self) -> None:
        frames = '  File "x.py", line 3, in f\n    f()\n'
        assert describe_error(RuntimeError(frames))["message"] == "RuntimeError"
