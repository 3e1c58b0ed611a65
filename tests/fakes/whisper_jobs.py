"""The fake LLMWhisperer's state: canned texts, jobs and their status scripts, usage counters.

Input: decoded requests (endpoint, query, body). Output: `(status, JSON-able body)` answers that follow
../shared/llmwhisperer-v2.md §1.2–1.5 and §1.10. No HTTP here (see whisper_server.py), so the state
machine is easy to read. Invariants: the text of a job is delivered once (then `retrieved` and
400 "Whisper already delivered"); every answer body is `{"message": …}` on error; thread-safe.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MODES = {"native_text", "low_cost", "high_quality", "form", "table"}
OUTPUT_MODES = {"layout_preserving", "text"}
STRATEGIES = {"left-priority", "mid-priority", "right-priority"}
BOOL_PARAMS = ("mark_vertical_lines", "mark_horizontal_lines", "add_line_nos", "include_line_confidence")
FLOAT_PARAMS = ("line_splitter_tolerance", "horizontal_stretch_factor", "word_confidence_threshold")
PAGE_HEIGHT = 3168
Answer = tuple[int, Any]


@dataclass
class Canned:
    pages: dict[int, str]
    page_count: int
    # page number → [{"line": line within the page, "text": word, "confidence": "0.61"}]
    low_confidence: dict[int, list[dict]] = field(default_factory=dict)

    def text(self, page: int) -> str:
        return self.pages.get(page, f"\n\nfake LLMWhisperer: no canned text for page {page} \n")


@dataclass
class Job:
    whisper_hash: str
    sha256: str
    mode: str
    pages: list[int]
    separator: str
    script: list[str]
    step: int = 0
    delivered: bool = False
    line_numbers: bool = False

    @property
    def status(self) -> str:
        if self.delivered:
            return "retrieved"
        return self.script[min(self.step, len(self.script) - 1)]


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise ValueError(value)


def parse_page_spec(spec: str, total: int) -> list[int]:
    """`"1-5,7,21-"` within 1..total (open ranges run to the end), document order, no duplicates."""
    pages: set[int] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = re.fullmatch(r"(\d+)(?:-(\d*))?", part)
        if not match:
            raise ValueError(part)
        start = int(match.group(1))
        end = start if match.group(2) is None else int(match.group(2) or total)
        pages.update(p for p in range(start, end + 1) if 1 <= p <= total)
    return sorted(pages)


class FakeWhisperState:
    def __init__(self, api_keys: set[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.api_keys = api_keys if api_keys is not None else {"test-key"}
        self.canned: dict[str, Canned] = {}
        self.jobs: dict[str, Job] = {}
        self.status_script = ["processing", "processed"]
        self.page_quota: int | None = None
        self.pages_used: Counter[str] = Counter()
        self.submits_by_sha: Counter[str] = Counter()
        self.webhooks: dict[str, dict] = {}

    def register(
        self, pdf: bytes | str, pages: list[str] | dict[int, str], low_confidence: dict | None = None
    ) -> str:
        """Serve `pages` for this file (bytes or its sha256): a list from page 1, or {page: text}
        (other pages of the PDF get a placeholder). Returns the sha256."""
        sha = pdf if isinstance(pdf, str) else hashlib.sha256(pdf).hexdigest()
        by_page = pages if isinstance(pages, dict) else dict(enumerate(pages, start=1))
        count = max(by_page, default=0)
        if isinstance(pdf, bytes) and isinstance(pages, dict):
            count = max(count, _pdf_page_count(pdf) or 0)
        with self.lock:
            self.canned[sha] = Canned(by_page, count, dict(low_confidence or {}))
        return sha

    def authorized(self, key: str | None) -> Answer | None:
        if key is None or key not in self.api_keys:
            return 401, {"message": "Unauthorized"}
        return None

    def submit(self, query: dict[str, str], body: bytes) -> Answer:
        error = _validate(query)
        if error:
            return 400, {"message": error}
        if not body:
            return 400, {"message": "Empty file. Please upload a valid document"}
        sha = hashlib.sha256(body).hexdigest()
        with self.lock:
            canned = self.canned.get(sha) or _placeholder(body)
            if canned is None:
                return 415, {"message": "Unsupported file type"}
            self.canned.setdefault(sha, canned)
            try:
                pages = parse_page_spec(query.get("pages_to_extract", ""), canned.page_count)
            except ValueError:
                return 400, {"message": "Invalid pages_to_extract"}
            if not query.get("pages_to_extract", "").strip():
                pages = list(range(1, canned.page_count + 1))
            if not pages:
                return 400, {"message": "No pages to extract in the document for the given range"}
            if self.page_quota is not None and sum(self.pages_used.values()) + len(pages) > self.page_quota:
                return 402, {"message": "Page quota exceeded for your subscription"}
            whisper_hash = f"{secrets.token_hex(4)}|{secrets.token_hex(16)}"
            separator = query.get("page_separator") or query.get("page_seperator") or "<<<"
            mode = query.get("mode") or "form"
            job = Job(whisper_hash, sha, mode, pages, separator, list(self.status_script))
            job.line_numbers = parse_bool(query.get("add_line_nos", ""))
            self.jobs[whisper_hash] = job
            self.pages_used[mode] += len(pages)
            self.submits_by_sha[sha] += 1
        return 202, {"message": "Whisper Job Accepted", "status": "processing", "whisper_hash": whisper_hash}

    def status(self, whisper_hash: str) -> Answer:
        with self.lock:
            job = self.jobs.get(whisper_hash)
            if job is None:
                return 400, {"message": "Whisper job not found for the provided whisper hash"}
            status = job.status
            if not job.delivered:
                job.step += 1
            detail = []
            if status in ("processed", "retrieved"):
                detail = [
                    {"page_no": p, "message": "extraction_success", "execution_time_in_seconds": 0}
                    for p in job.pages
                ]
            message = "Whisper job failed" if status in ("failed", "error") else f"Job {status}"
        return 200, {"status": status, "message": message, "detail": detail}

    def retrieve(self, whisper_hash: str) -> Answer:
        with self.lock:
            job = self.jobs.get(whisper_hash)
            if job is None:
                return 404, {"message": "Whisper job unknown"}
            if job.delivered:
                return 400, {"message": "Whisper already delivered"}
            status = job.script[min(job.step, len(job.script) - 1)]
            if status not in ("processed", "webhook_retries_exceeded"):
                return 400, {"message": f"Whisper not ready : {status}"}
            job.delivered = True
            return 200, self.result(job)

    def result(self, job: Job) -> dict[str, Any]:
        canned = self.canned[job.sha256]
        text_parts, confidence, lines = [], [], []
        for page in job.pages:
            page_text = canned.text(page)
            separator = job.separator.replace("{{page_no}}", str(page))
            words = {}
            for word in canned.low_confidence.get(page, []):
                words.setdefault(word["line"], []).append(
                    {"text": word["text"], "confidence": word["confidence"]}
                )
            # The separator's line is shared with the next page's first line (lines split on "\n").
            first = len(confidence) - 1 if confidence else 0
            for index, line in enumerate(page_text.split("\n")):
                if first + index >= len(confidence):
                    confidence.append([])
                    blank = not line.strip()
                    lines.append([0, 0, 0, 0] if blank else [page - 1, 60 * (index + 1), 51, PAGE_HEIGHT])
                confidence[first + index] = confidence[first + index] + words.get(index, [])
            text_parts.append(page_text + separator + "\f")
        return {
            "result_text": "".join(text_parts),
            "confidence_metadata": confidence,
            "line_metadata": lines,
            "metadata": {},
            "webhook_metadata": "",
        }

    def detail(self, whisper_hash: str) -> Answer:
        with self.lock:
            job = self.jobs.get(whisper_hash)
            if job is None:
                return 400, {"message": "Record not found"}
            total = self.canned[job.sha256].page_count
            return 200, {
                "whisper_hash": job.whisper_hash,
                "mode": job.mode,
                "total_pages": total,
                "requested_pages": len(job.pages),
                "processed_pages": len(job.pages),
                "tag": "default",
            }

    def highlights(self, whisper_hash: str, lines: str) -> Answer:
        """Line boxes (§1.6) for 1-based lines of result_text; kept only when add_line_nos was set."""
        with self.lock:
            job = self.jobs.get(whisper_hash)
            if job is None or not job.line_numbers:
                return 400, {"message": "Line metadata not found"}
            metadata = self.result(job)["line_metadata"]
        try:
            wanted = parse_page_spec(lines, len(metadata))
        except ValueError:
            return 400, {"message": "Invalid lines"}
        boxes = {}
        for line in wanted:
            page, base_y, height, page_height = metadata[line - 1]
            boxes[str(line)] = {
                "base_y": base_y,
                "base_y_percent": round(100 * base_y / page_height, 4) if page_height else 0,
                "height": height,
                "height_percent": round(100 * height / page_height, 4) if page_height else 0,
                "page": page,
                "page_height": page_height,
                "raw": [page, base_y, height, page_height],
            }
        return 200, boxes

    def usage_info(self) -> Answer:
        with self.lock:
            body: dict[str, Any] = {
                "subscription_plan": "fake",
                "monthly_quota": self.page_quota or -1,
                "current_page_count": sum(self.pages_used.values()),
                "daily_quota": -1,
            }
            for mode in sorted(MODES):
                body[f"current_page_count_{mode}"] = self.pages_used[mode]
        return 200, body

    def webhook(self, method: str, query: dict[str, str], payload: dict) -> Answer:
        name = payload.get("webhook_name") or query.get("webhook_name", "")
        with self.lock:
            if method == "POST":
                self.webhooks[name] = payload
                return 201, {"message": "Webhook created successfully"}
            if name not in self.webhooks:
                return 404, {"message": "Webhook details not found"}
            if method == "PUT":
                self.webhooks[name] = payload
                return 200, {"message": "Webhook updated successfully"}
            if method == "DELETE":
                del self.webhooks[name]
                return 200, {"message": "Webhook deleted successfully"}
            return 200, self.webhooks[name]


def _validate(query: dict[str, str]) -> str | None:
    if query.get("mode", "form") not in MODES:
        return f"Invalid mode: {query.get('mode')}"
    if query.get("output_mode", "layout_preserving") not in OUTPUT_MODES:
        return f"Invalid output_mode: {query.get('output_mode')}"
    if query.get("line_splitter_strategy", "left-priority") not in STRATEGIES:
        return f"Invalid line_splitter_strategy: {query.get('line_splitter_strategy')}"
    try:
        for name in BOOL_PARAMS:
            parse_bool(query.get(name, ""))
        for name in FLOAT_PARAMS:
            if query.get(name, "").strip():
                float(query[name])
    except ValueError:
        return f"Invalid value for {name}"
    return None


def _pdf_page_count(body: bytes) -> int | None:
    try:
        import pypdfium2

        document = pypdfium2.PdfDocument(body)
        count = len(document)
        document.close()
    except Exception:
        return None
    return count


def _placeholder(body: bytes) -> Canned | None:
    """Unregistered PDFs get one placeholder text per page (page count from PDFium)."""
    if body.lstrip()[:5] != b"%PDF-":
        return None
    count = _pdf_page_count(body)
    return None if count is None else Canned({}, count)
