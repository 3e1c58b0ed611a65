"""Recorded LLMWhisperer texts of ../shared/corpus as `PageText`s, and statements parsed from them."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path
from types import ModuleType

import pytest

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement
from app.statements.format import DocumentInfo, StatementSet


def shared_dir() -> Path:
    configured = os.environ.get("TIEOUT_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"


def shared_file(*parts: str) -> Path:
    """A path under ../shared, or skip with the reason when the shared corpus is absent."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not beside this clone")
    return path


def whisper_pages(name: str) -> list[PageText]:
    """Pages of a recording, numbered as in the PDF (the recording's header names them)."""
    raw = shared_file("corpus", "whisper", name).read_text()
    header, _, body = raw.partition("=" * 80)
    if not body:
        header, body = "", raw
    chunks = body.split("<<<")
    if chunks and not chunks[-1].strip():
        chunks.pop()
    single = re.search(r"# Page: (\d+)", header)
    listed = re.search(r"# Pages Extracted: \[([\d, ]+)\]", header)
    if single:
        numbers = [int(single.group(1))]
    elif listed and "scanned" not in name:
        numbers = sorted(int(n) for n in listed.group(1).split(","))
    else:
        numbers = list(range(1, len(chunks) + 1))
    mode = "grid" if name.endswith("-table.txt") else "layout"
    return [
        PageText(page=n, text=chunk, engine="llmwhisperer", mode=mode)
        for n, chunk in zip(numbers, chunks, strict=True)
    ]


def load_truth(name: str) -> dict:
    return json.loads(shared_file("corpus", "truth", name).read_text())


def parse_recording(pages: list[PageText], truth: dict) -> StatementSet:
    """Parse every truth statement whose pages the recording holds, detected as the truth says."""
    have = {p.page for p in pages}
    statements = []
    for expected in truth["statements"]:
        if set(expected["pages"]) <= have:
            detection = Detection(
                type=expected["type"], pages=tuple(expected["pages"]), confidence=1.0, title=expected["title"]
            )
            statements.append(parse_statement(pages, detection))
    return StatementSet(document=DocumentInfo(filename=truth["document"]), statements=statements)


def score_module() -> ModuleType:
    path = shared_file("tools", "score.py")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
