"""Detect the primary statements in page text.

Input: `PageText` pages. Output: one `Detection` per statement found, with its pages, a confidence and
the evidence (title and anchor row labels matched). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Detection:
    type: str
    pages: tuple[int, ...]
    confidence: float
    title: str
    evidence: dict = field(default_factory=dict, compare=False)
    entity: str | None = None
