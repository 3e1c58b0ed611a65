"""Page text from either engine behind one interface.

Input: PDF bytes and the 1-based pages wanted. Output: one `PageText` per page, whose `text` keeps
the printed layout (columns aligned with spaces, or LLMWhisperer's pipe grid) so one parser serves
every engine. Invariant: `line_boxes`, when present, has one entry per line of `text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Box = tuple[float, float, float, float]
TextMode = Literal["layout", "grid", "plain"]


@dataclass(frozen=True)
class PageText:
    page: int
    text: str
    engine: str = "local"
    mode: TextMode = "layout"
    ocr: bool = False
    line_boxes: tuple[Box | None, ...] | None = None
    line_confidence: tuple[float | None, ...] | None = None
    width: float | None = None
    height: float | None = None
    extra: dict = field(default_factory=dict, compare=False)


class TextSource(Protocol):
    name: str

    async def candidate_pages(self, pdf: bytes) -> list[int]:
        """Cheap pass: the 1-based pages that may hold a primary statement."""
        ...

    async def pages(self, pdf: bytes, page_numbers: list[int]) -> list[PageText]:
        """Layout text for the given 1-based pages, in order."""
        ...
