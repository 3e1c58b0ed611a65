"""The whole extraction flow in one place: PDF bytes → page text → detections → statements → verified.

Input: PDF bytes (or page text already extracted) and a `TextSource`. Output: an `Extraction` with
the pages read, the detections (with evidence) and the verified statements. No database and no HTTP
server: the worker task stores the result, `tieout extract` prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.detection.detect import Detection, detect_statements
from app.extraction.source import PageText, TextSource
from app.parsing.parse import parse_statement
from app.statements.format import Statement
from app.verification.verify import verify_all

Progress = Callable[[str, int], None]
STAGES = {"text": 10, "detect": 60, "parse": 70, "verify": 85, "done": 100}


def no_progress(stage: str, percent: int) -> None:
    return None


@dataclass(frozen=True)
class Extraction:
    pages: list[PageText]
    detections: list[Detection]
    statements: list[Statement]

    @property
    def verified(self) -> bool:
        return bool(self.statements) and all(s.verified for s in self.statements)


async def run_extraction(
    pdf: bytes, *, source: TextSource, progress: Progress = no_progress, pages: list[int] | None = None
) -> Extraction:
    """PDF bytes → verified statements. Callers store or print the result."""
    progress("text", STAGES["text"])
    wanted = pages if pages else await source.candidate_pages(pdf)
    page_text = await source.pages(pdf, wanted) if wanted else []
    return extract_from_pages(page_text, progress=progress)


def extract_from_pages(pages: list[PageText], *, progress: Progress = no_progress) -> Extraction:
    """Page text → detections → parsed and verified statements (pure)."""
    progress("detect", STAGES["detect"])
    detections = detect_statements(pages)
    progress("parse", STAGES["parse"])
    statements = [parse_statement(pages, detection) for detection in detections]
    progress("verify", STAGES["verify"])
    statements = verify_all(statements)
    progress("done", STAGES["done"])
    return Extraction(pages=pages, detections=detections, statements=statements)
