"""The cheap pass for pages without a text layer: OCR of the title band only.

Input: PDF bytes and the 1-based pages that have no text layer. Output: the first lines of text in the
top `BAND_SHARE` of each page (where statement titles are printed), and the pages whose band holds a
statement title (`candidates.has_scan_title`).

Invariants: a band is rendered at `BAND_DPI` (a tenth of the pixels of a 200-dpi page) and goes
through rapidocr's detector once; the recogniser, which costs in proportion to the width of what it
reads, reads only the first `MAX_BOXES` boxes wide enough to hold a title, each cut to `MAX_RATIO`
times its height, one at a time in reading order, and stops at the first title, or at the second line
of prose (titles come before the prose of a page, never after two lines of it). Rendering runs under
the PDFium lock; detection and recognition run without it, pages in parallel in the OCR executor.
Nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor

import numpy as np

from app.extraction.candidates import has_scan_title
from app.extraction.ocr import capped_dpi, ocr_engine
from app.extraction.pdf import open_pdf

BAND_DPI = 100
BAND_SHARE = 0.35  # of the page height, from the top as displayed
MAX_BOXES = 8
MIN_RATIO = 3.0  # narrower boxes (page numbers, logos, lone figures) cannot hold a title
MAX_RATIO = 40.0  # about 60 capitals: the title words come first on a title line
PROSE_LETTERS = 40


def render_band(pdf: bytes, number: int, max_pages: int, dpi: int = BAND_DPI) -> np.ndarray:
    """The top band of a 1-based page as a 3-channel image (rapidocr's detector wants three)."""
    with open_pdf(pdf, max_pages=max_pages) as doc:
        page = doc[number - 1]
        try:
            width, height = page.get_size()
            scale = capped_dpi(width, height, dpi) / 72
            bitmap = page.render(scale=scale, grayscale=True, crop=(0, height * (1 - BAND_SHARE), 0, 0))
            grey = np.array(bitmap.to_pil().convert("L"))
        finally:
            page.close()
    return np.dstack([grey, grey, grey])


def _prose(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= PROSE_LETTERS and sum(ch.islower() for ch in letters) > 0.7 * len(letters)


def _lines(boxes: list, texts: list[str]) -> list[str]:
    """Read boxes joined into lines: a box whose middle lies within the previous box's height joins it."""
    lines: list[tuple[float, float, list[tuple[float, str]]]] = []
    for box, text in zip(boxes, texts, strict=True):
        top, bottom = float(box[:, 1].min()), float(box[:, 1].max())
        middle = (top + bottom) / 2
        if lines and lines[-1][0] <= middle <= lines[-1][1]:
            lines[-1][2].append((float(box[:, 0].min()), text))
        else:
            lines.append((top, bottom, [(float(box[:, 0].min()), text)]))
    return [" ".join(text for _, text in sorted(parts)) for _, _, parts in lines]


def band_lines(image: np.ndarray) -> list[str]:
    """The first lines read in a band image, up to the first title or the second line of prose."""
    with ocr_engine("band") as engine:
        found, _ = engine.text_det(image)
        if found is None or len(found) == 0:
            return []
        boxes = [
            box
            for box in engine.sorted_boxes(found)
            if np.ptp(box[:, 0]) >= MIN_RATIO * max(np.ptp(box[:, 1]), 1.0)
        ][:MAX_BOXES]
        read_boxes: list = []
        texts: list[str] = []
        prose = 0
        for box, crop in zip(boxes, engine.get_crop_img_list(image, boxes), strict=True):
            crop = crop[:, : max(1, round(MAX_RATIO * crop.shape[0]))]
            result, _ = engine.text_rec([crop], False)
            text = str(result[0][0]) if result else ""
            read_boxes.append(box)
            texts.append(text)
            prose += _prose(text)
            if prose >= 2 or has_scan_title(_lines(read_boxes, texts)):
                break
    return _lines(read_boxes, texts)


def read_band(pdf: bytes, number: int, max_pages: int) -> list[str]:
    return band_lines(render_band(pdf, number, max_pages))


def titled_scans(
    pdf: bytes,
    pages: Iterable[int],
    *,
    max_pages: int,
    executor: Executor | None = None,
    read: Callable[[bytes, int, int], list[str]] = read_band,
) -> set[int]:
    """The given 1-based pages whose title band reads like a statement title."""
    numbers = list(pages)
    if executor is None:
        bands = [read(pdf, number, max_pages) for number in numbers]
    else:
        bands = list(executor.map(lambda number: read(pdf, number, max_pages), numbers))
    return {number for number, lines in zip(numbers, bands, strict=True) if has_scan_title(lines)}
