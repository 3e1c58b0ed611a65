"""Page text for detection tests: the shared corpus read with PDFium, recorded LLMWhisperer texts, and
synthetic pages written as tables of lines."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

from app.extraction.source import PageText


def shared_dir() -> Path:
    configured = os.environ.get("TIEOUT_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"


def corpus_path(*parts: str) -> Path:
    """Path under ../shared/corpus, or skip the test with the reason when it is absent."""
    path = shared_dir().joinpath("corpus", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not beside this clone")
    return path


@lru_cache(maxsize=16)
def pdf_pages(path: Path) -> tuple[PageText, ...]:
    """Every page's plain text as PDFium gives it: what detection's cheap pass sees."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        return tuple(
            PageText(page=n + 1, text=pdf[n].get_textpage().get_text_bounded(), mode="plain")
            for n in range(len(pdf))
        )
    finally:
        pdf.close()


def whisper_pages(path: Path, first_page: int) -> list[PageText]:
    """A recorded LLMWhisperer text: pages separated by `<<<`, numbered from `first_page`."""
    text = path.read_text()
    if text.startswith("#"):  # the recording's own header, not LLMWhisperer output
        text = re.split(r"^=+\s*$", text, maxsplit=1, flags=re.M)[1]
    mode = "grid" if path.stem.endswith("-table") else "layout"
    chunks = [chunk.strip("\f\n") for chunk in text.split("<<<")]
    return [
        PageText(page=first_page + n, text=chunk, engine="llmwhisperer", mode=mode)
        for n, chunk in enumerate(chunks)
        if chunk.strip()
    ]


def make_pages(*texts: str) -> list[PageText]:
    """Synthetic pages 1..n from dedented blocks of lines."""
    return [PageText(page=n, text=dedent(text)) for n, text in enumerate(texts, start=1)]


def dedent(text: str) -> str:
    """Each line stripped: detection reads no indentation, and tables in tests read better indented."""
    return "\n".join(line.strip() for line in text.strip("\n").splitlines())
