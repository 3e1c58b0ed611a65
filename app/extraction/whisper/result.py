"""Raw `/whisper-retrieve` bodies → one `PageText` per requested page.

Input: the raw body bytes exactly as retrieved, the params they were requested with, and the page
numbers asked for. Output: `PageText` per page in document order, engine "llmwhisperer".
Invariants:
- `result_text` is split on the page separator (`<<<` then a form feed; `{{page_no}}` templates
  are honoured) and the i-th chunk is the i-th requested page (the service answers in document order).
- A chunk count that does not match the page count, a non-JSON body or a missing `result_text`
  raises `WhisperMalformedResponseError`; nothing is guessed.
- Low-confidence words (`confidence_metadata`, one list per line of `result_text`) stay attached to
  their page line: `line_confidence[i]` is the lowest word confidence on line i, and
  `extra["low_confidence_words"]` lists them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.extraction.source import PageText
from app.extraction.whisper.errors import WhisperMalformedResponseError
from app.extraction.whisper.params import PAGE_NO_TEMPLATE, WhisperParams

ENGINE = "llmwhisperer"


def separator_pattern(separator: str) -> re.Pattern[str]:
    """The separator as it appears after each page: the text, page number filled in, a form feed."""
    before, _, after = separator.partition(PAGE_NO_TEMPLATE)
    number = r"(\d+)" if PAGE_NO_TEMPLATE in separator else ""
    return re.compile(re.escape(before) + number + re.escape(after) + "\f?")


def split_pages(result_text: str, separator: str) -> list[str]:
    """Page chunks of `result_text`; the trailing separator of the last page leaves no empty chunk."""
    pattern = separator_pattern(separator)
    chunks: list[str] = []
    start = 0
    for match in pattern.finditer(result_text):
        chunks.append(result_text[start : match.start()])
        start = match.end()
    tail = result_text[start:]
    if tail.strip():
        chunks.append(tail)
    return chunks


def load_result(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise WhisperMalformedResponseError("retrieve answered a body that is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("result_text"), str):
        raise WhisperMalformedResponseError("retrieve answered JSON without a result_text string")
    return payload


def pages_from_result(raw: bytes, params: WhisperParams, page_numbers: list[int]) -> list[PageText]:
    """Split a raw retrieve body into pages; `page_numbers` empty means the whole document."""
    payload = load_result(raw)
    text: str = payload["result_text"]
    chunks = split_pages(text, params.page_separator)
    if not text.strip():
        raise WhisperMalformedResponseError("retrieve answered an empty result_text")
    wanted = sorted(set(page_numbers)) or list(range(1, len(chunks) + 1))
    if len(chunks) != len(wanted):
        raise WhisperMalformedResponseError(
            f"result_text holds {len(chunks)} pages separated by {params.page_separator!r}, "
            f"expected {len(wanted)}"
        )
    per_line = _low_confidence_by_line(payload.get("confidence_metadata"))
    first_lines = _first_line_numbers(text, params.page_separator)
    pages = []
    for index, (page, chunk) in enumerate(zip(wanted, chunks, strict=True)):
        offset = first_lines[index] if index < len(first_lines) else 0
        pages.append(_page_text(page, chunk, params, per_line, offset))
    return pages


def _page_text(
    page: int, chunk: str, params: WhisperParams, per_line: dict[int, list[dict]], offset: int
) -> PageText:
    line_count = chunk.count("\n") + 1
    words = []
    confidence: list[float | None] = []
    for local in range(line_count):
        found = per_line.get(offset + local, [])
        words.extend({"line": local, **word} for word in found)
        confidence.append(min((w["confidence"] for w in found), default=None))
    return PageText(
        page=page,
        text=chunk,
        engine=ENGINE,
        mode=params.text_mode(),
        ocr=params.mode != "native_text",
        line_confidence=tuple(confidence) if words else None,
        extra={"whisper_mode": params.mode, "low_confidence_words": words},
    )


def _first_line_numbers(text: str, separator: str) -> list[int]:
    """0-based index (in `text.split("\\n")`) of the first line of each page."""
    firsts = [0]
    for match in separator_pattern(separator).finditer(text):
        firsts.append(text.count("\n", 0, match.end()))
    return firsts


def _low_confidence_by_line(metadata: object) -> dict[int, list[dict]]:
    """`confidence_metadata` → {line index: [{"text", "confidence"}]}; unreadable entries are skipped."""
    if not isinstance(metadata, list):
        return {}
    found: dict[int, list[dict]] = {}
    for line, words in enumerate(metadata):
        if not isinstance(words, list):
            continue
        for word in words:
            if not isinstance(word, dict) or not isinstance(word.get("text"), str):
                continue
            try:
                value = float(word.get("confidence"))
            except (TypeError, ValueError):
                continue
            found.setdefault(line, []).append({"text": word["text"], "confidence": value})
    return found
