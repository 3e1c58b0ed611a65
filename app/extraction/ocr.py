"""OCR of pages that have no usable text layer, with rapidocr-onnxruntime.

Input: a page rendered by PDFium at `OCR_DPI` (a grey image). Output: `PageText` in layout mode with
`ocr=True`: rapidocr's text boxes, split into words and laid out by `layout.layout_words` exactly as a
text layer is, so one parser serves both; `line_confidence` is the lowest word confidence per line and
`extra["low_confidence"]` lists, per line, the words scored below 0.9 (as LLMWhisperer's
confidence_metadata does).

Invariants: word boxes are sheared by the page's skew (estimated from rapidocr's box edges), so rows of
a tilted scan stay on one line; `line_boxes` are in that deskewed frame. 200 dpi, because rapidocr
shrinks larger images to a 2,000-pixel side anyway, and at 300 dpi it read thousands separators as
decimal points. The model ships in the wheel; nothing is downloaded. Engines are built lazily (never at
import time) and reused, each serving one page at a time. Rendering needs the PDFium lock and is quick;
recognition (seconds) runs without it, in a worker thread, so it never blocks an event loop.

Memory: a page's cost is the text detector's network, about 500 MB of activations for a 2,000-pixel
page (more on the first page of a size, before onnxruntime has planned its buffers), all of it freed
when the page is detected. So the page engines of a process share ONE detector (one model, one
buffer plan) that reads one page at a time, while the other OCR thread recognises the text of its
page beside it: two OCR threads peak at one detection, not two, and lose little time (detection is
about a third of a page's work). Before each detection the heap's free pages go back to the system,
and `release_engines` drops idle engines once a pass is over.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pypdfium2 as pdfium

from app.extraction.layout import Word, is_numeric, layout_words
from app.extraction.ocr_marks import bounds, components, find_dashes, find_missed_figures, in_figure_column
from app.extraction.ocr_words import box_words
from app.extraction.source import PageText

OCR_DPI = 200
ENGINE = "local"
OCR_ENGINE = "rapidocr-onnxruntime"
# rapidocr drops boxes scored below text_score (default 0.5); keep weak ones, since a weak figure
# flagged by its confidence is better than a silently missing one.
TEXT_SCORE = 0.3

# One ONNX thread per engine, and pages in parallel instead (`LocalTextSource(ocr_workers=...)`): on
# the shared 2-core machines one thread took 3.6-3.9 s of CPU for a page, the default two 5.4-7.3 s
# (idle threads spin), and under load the single-threaded page also finished sooner.
OCR_THREADS = 1

# Dashes found by shape, not recognised: scored at LOW_CONFIDENCE (their shape is unambiguous).
DASH_CONFIDENCE = 0.9

# "page" engines read whole pages. "band" engines read the title band of the cheap pass: their detector
# never enlarges its input (rapidocr's default scales the shorter side up to 736 px, which would
# quadruple the cost of a 100-dpi band).
_ENGINE_OPTIONS: dict[str, dict[str, Any]] = {
    "page": {},
    "band": {"det_limit_type": "max", "det_limit_side_len": 2000},
}
_idle_engines: dict[str, queue.SimpleQueue] = {kind: queue.SimpleQueue() for kind in _ENGINE_OPTIONS}
# Every page engine of a process shares ONE text detector, which reads one page at a time (see the
# module docstring); `_building` guards its creation. Band detection is a tenth of the pixels and runs
# in each band engine freely.
_page_detector: _SharedDetector | None = None
_building = threading.Lock()


class _SharedDetector:
    """rapidocr's TextDetector behind a lock: the one detector of every page engine."""

    def __init__(self, detector: Any) -> None:
        self._detector = detector
        self._lock = threading.Lock()

    def __call__(self, image: np.ndarray) -> Any:
        with self._lock:  # also because the detector keeps per-call state (its preprocess op)
            _release_free_heap()
            return self._detector(image)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._detector, name)


def _release_free_heap() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim). What the last pages left
    free is fragmented, so a detection's buffers would otherwise come on top of it: this lowers the
    peak of a multi-page scan by about 15 % for about 5 % more CPU."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # no C library to ask (not glibc): nothing to trim
        return None


def _share_page_detector(engine: Any) -> None:
    global _page_detector
    with _building:
        if _page_detector is None:
            _page_detector = _SharedDetector(engine.text_det)
        engine.text_det = _page_detector  # a later engine's own detector is dropped unused


@contextmanager
def ocr_engine(kind: str = "page") -> Iterator[Any]:
    """An idle rapidocr engine, built on first need and reused across threads, one user at a time."""
    try:
        engine = _idle_engines[kind].get_nowait()
    except queue.Empty:
        from rapidocr_onnxruntime import RapidOCR  # heavy import: only where OCR runs

        # No angle classifier: statement pages are rendered upright (PDFium applies /Rotate), and the
        # classifier costs time and can turn a short box such as "(2)" upside down.
        engine = RapidOCR(
            text_score=TEXT_SCORE, use_cls=False, intra_op_num_threads=OCR_THREADS, **_ENGINE_OPTIONS[kind]
        )
        if kind == "page":
            _share_page_detector(engine)
    try:
        yield engine
    finally:
        _idle_engines[kind].put(engine)


def release_engines(kind: str) -> int:
    """Drop the idle engines of one kind (their models and buffers go with them); how many. Call it
    when no OCR of that kind runs: an engine in use keeps its detector."""
    global _page_detector
    if kind == "page":
        with _building:
            _page_detector = None
    dropped = 0
    while True:
        try:
            _idle_engines[kind].get_nowait()
        except queue.Empty:
            return dropped
        dropped += 1


# rapidocr scales its input down to a 2,000-pixel long side, so pixels past this buy nothing and a
# page declared 200 inches wide (a PDF bomb) must not become a 40,000-pixel bitmap.
MAX_RENDER_SIDE = 4000


def capped_dpi(width_pt: float, height_pt: float, dpi: float) -> float:
    """`dpi`, lowered so the page's long side renders to at most MAX_RENDER_SIDE pixels."""
    long_side = max(width_pt, height_pt, 1.0)
    return min(float(dpi), MAX_RENDER_SIDE * 72.0 / long_side)


def render_page(doc: pdfium.PdfDocument, page_number: int, dpi: float = OCR_DPI) -> np.ndarray:
    """Grey bitmap of a 1-based page; call with the PDFium lock held (inside `open_pdf`)."""
    page = doc[page_number - 1]
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        return np.array(bitmap.to_pil().convert("L"))
    finally:
        page.close()


def skew_slope(quads: list) -> float:
    """dy/dx of the text lines, from the top edges of rapidocr's long boxes (0 when unknown)."""
    slopes = [
        (q[1][1] - q[0][1]) / (q[1][0] - q[0][0])
        for q in quads
        if q[1][0] - q[0][0] > 4 * max(q[3][1] - q[0][1], 1)
    ]
    return float(np.median(slopes)) if len(slopes) >= 3 else 0.0


def ocr_words(image: np.ndarray, dpi: float = OCR_DPI) -> list[Word]:
    """Words recognised on a page image, boxes in PDF points (origin top-left), deskewed."""
    stats = components(image)
    with ocr_engine() as engine:
        result, _ = engine(image, return_word_box=True)
        result = result or []
        boxes = [bounds(item[0]) for item in result]
        text_height = float(np.median([y1 - y0 for _, y0, _, y1 in boxes])) if boxes else 0.0
        if boxes:
            result += find_missed_figures(image, stats, result, text_height, engine, TEXT_SCORE)
    scale = 72 / dpi
    # A scan tilted by a degree moves a row's figures half a line below its label; shear y back.
    slope = skew_slope([item[0] for item in result])
    words: list[Word] = []
    for group, item in enumerate(result):
        straight = [[x, y - slope * x] for x, y in item[0]]
        words.extend(box_words([straight, *item[1:]], scale, group))
    figures = [bounds(item[0]) for item in result if is_numeric(item[1].strip())]
    for x0, y0, x1, y1 in find_dashes(stats, boxes, text_height, figures) if boxes else ():
        shift = slope * (x0 + x1) / 2
        words.append(
            Word("—", x0 * scale, (y0 - shift) * scale, x1 * scale, (y1 - shift) * scale, DASH_CONFIDENCE)
        )
    return _drop_lone_dashes(words)


def _drop_lone_dashes(words: list[Word]) -> list[Word]:
    """A dash is a zero cell only beside other words on its row, or beside another dash cell in
    another column of figures (a row of nil amounts under a caption printed above it); alone it is a
    piece of a rule."""
    others = [w for w in words if w.text != "—"]
    figures = [(w.x0, w.top, w.x1, w.bottom) for w in others if is_numeric(w.text)]

    def beside_words(dash: Word) -> bool:
        middle = dash.center_y
        return any(w.top <= middle <= w.bottom for w in others)

    def in_dash_row(dash: Word) -> bool:
        height = dash.bottom - dash.top
        cells = [
            w
            for w in words
            if w.text == "—"
            and w.top <= dash.center_y <= w.bottom
            and in_figure_column(w.x0, w.x1, figures, height)
        ]
        return (
            len(cells) >= 2
            and dash in cells
            and max(c.x0 for c in cells) - min(c.x1 for c in cells) > 2 * height
        )

    return [w for w in words if w.text != "—" or beside_words(w) or in_dash_row(w)]


def ocr_page(
    image: np.ndarray, page_number: int, width: float, height: float, dpi: float = OCR_DPI
) -> PageText:
    """Layout text of a rendered page; seconds of CPU, so call it from a worker thread or process."""
    layout = layout_words(ocr_words(image, dpi))
    return PageText(
        page=page_number,
        text=layout.text,
        engine=ENGINE,
        mode="layout",
        ocr=True,
        line_boxes=layout.line_boxes,
        line_confidence=layout.line_confidence,
        width=width,
        height=height,
        extra={
            "ocr_engine": OCR_ENGINE,
            "dpi": dpi,
            "low_confidence": [list(w) for w in layout.low_confidence],
        },
    )
