"""Log output: JSON lines in production, console lines in development, stdlib routed through structlog."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from app.core.config import Settings
from app.core.logging import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "tieout":
            root.removeHandler(handler)


def emit(settings: Settings) -> list[str]:
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    with structlog.contextvars.bound_contextvars(request_id="req-7"):
        structlog.get_logger("tests").info("job.claimed", job_id=3)
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    return [line for line in stream.getvalue().splitlines() if line]


class TestLogging:
    def test_production_writes_json_with_the_request_id(
        self, make_settings: Callable[..., Settings], restore_logging: None
    ) -> None:
        settings = make_settings(env="production", log_level="INFO", jwt_secret_key="s" * 40)
        records = [json.loads(line) for line in emit(settings)]
        assert records[0] | {"timestamp": None} == {
            "event": "job.claimed",
            "job_id": 3,
            "request_id": "req-7",
            "level": "info",
            "logger": "tests",
            "timestamp": None,
        }
        assert records[1]["event"] == "Started server process [42]"
        assert records[1]["logger"] == "uvicorn.error"
        assert records[1]["request_id"] == "req-7"

    def test_development_writes_console_lines(
        self, make_settings: Callable[..., Settings], restore_logging: None
    ) -> None:
        lines = emit(make_settings(env="development", log_level="INFO"))
        assert "job.claimed" in lines[0]
        assert "job_id=3" in lines[0]
        assert "request_id=req-7" in lines[0]
        assert not lines[0].startswith("{")
