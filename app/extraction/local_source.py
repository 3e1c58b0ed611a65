"""`LocalTextSource`: the `TextSource` that needs no key and no network.

Input: PDF bytes, and for `pages` the 1-based pages wanted. Output: `candidate_pages` is the cheap pass
(PDFium plain text of every page, OCR of the title band of pages without a text layer, then
`candidates.candidate_pages`); `pages` is one `PageText` per page
asked for, in the order asked: layout text from the text layer, or OCR where the page has none.

Invariants: invalid PDFs and page numbers raise `PdfError` before any work. PDFium calls run in a worker
thread under the PDFium lock, and recognition runs in the OCR executor (one single-threaded engine per
core, pages in parallel, one text detection at a time: `ocr`), so the event loop is never blocked. A
page is rendered only just before it is OCR'd, so memory stays at one bitmap per OCR worker. The sync
functions are for the CLI and for a process sandbox.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, ThreadPoolExecutor

from app.extraction import candidates
from app.extraction.local import layout_page, needs_ocr, scan_pages
from app.extraction.pdf import DEFAULT_MAX_PAGES, check_page_numbers, open_pdf
from app.extraction.source import PageText

# OCR (numpy, onnxruntime) is imported only when a page has no text layer: a text-layer filing
# never pays for it. Must equal ocr.OCR_DPI (tests/extraction/test_ocr.py checks).
OCR_DPI = 200
# One single-threaded OCR engine per core (see ocr.OCR_THREADS), at most two: each holds its models.
DEFAULT_OCR_WORKERS = max(1, min(2, os.cpu_count() or 1))


def find_candidate_pages(
    pdf: bytes, *, max_pages: int = DEFAULT_MAX_PAGES, executor: Executor | None = None
) -> list[int]:
    """1-based pages that may hold a primary statement (sync). Pages without a text layer are judged
    by OCR of their title band, in `executor` when given, else in a pool of `DEFAULT_OCR_WORKERS`."""
    with open_pdf(pdf, max_pages=max_pages) as doc:
        scans = scan_pages(doc)
    no_text = {number for number, scan in enumerate(scans, start=1) if scan.needs_ocr}
    titled: set[int] = set()
    if no_text:
        from app.extraction.ocr_titles import titled_scans
    if len(no_text) > 1 and executor is None:
        with ThreadPoolExecutor(min(DEFAULT_OCR_WORKERS, len(no_text)), thread_name_prefix="ocr") as pool:
            titled = titled_scans(pdf, sorted(no_text), max_pages=max_pages, executor=pool)
    elif no_text:
        titled = titled_scans(pdf, sorted(no_text), max_pages=max_pages, executor=executor)
    generous = candidates.candidate_pages([scan.text for scan in scans], no_text, titled)
    return narrow_by_detection(generous, scans, no_text)


def narrow_by_detection(generous: list[int], scans: list, no_text: set[int]) -> list[int]:
    """The generous text-layer candidates cut down to the statements the detector finds in their plain
    text, plus the page after each (a continuation); scanned candidates are all kept.

    Layout text costs about ten times the plain text, and for LLMWhisperer every page sent is billed,
    so the cheap pass should name statement pages, not every page that mentions a statement. When
    the detector finds nothing in the plain text, every candidate is kept.
    """
    from app.detection.detect import detect_statements

    plain = [PageText(page=n, text=scans[n - 1].text, mode="plain") for n in generous if n not in no_text]
    found = detect_statements(plain)
    if not found:
        return generous
    chosen = {n for n in generous if n in no_text}
    for detection in found:
        chosen.update(detection.pages)
        chosen.add(max(detection.pages) + 1)
    return sorted(n for n in chosen if n <= len(scans))


def _text_layer_pages(
    pdf: bytes, page_numbers: list[int], max_pages: int
) -> tuple[dict[int, PageText], list[int]]:
    """Layout text of the pages that have a text layer, and the pages that need OCR."""
    done: dict[int, PageText] = {}
    scanned: list[int] = []
    with open_pdf(pdf, max_pages=max_pages) as doc:
        check_page_numbers(page_numbers, len(doc))
        for number in dict.fromkeys(page_numbers):
            page = doc[number - 1]
            textpage = page.get_textpage()
            try:
                no_text = needs_ocr(page, textpage.get_text_range())
            finally:
                textpage.close()
                page.close()
            if no_text:
                scanned.append(number)
            else:
                done[number] = layout_page(doc, number)
    return done, scanned


def _ocr_page(pdf: bytes, number: int, max_pages: int, dpi: int) -> PageText:
    """Render one page (under the PDFium lock, ~30 ms) and OCR it (seconds, without the lock)."""
    from app.extraction.ocr import capped_dpi, ocr_page, render_page

    with open_pdf(pdf, max_pages=max_pages) as doc:
        page = doc[number - 1]
        width, height = page.get_size()
        page.close()
        dpi = capped_dpi(width, height, dpi)
        image = render_page(doc, number, dpi)
    return ocr_page(image, number, width, height, dpi)


def extract_pages(
    pdf: bytes, page_numbers: list[int], *, max_pages: int = DEFAULT_MAX_PAGES
) -> list[PageText]:
    """Layout text of the given 1-based pages, OCR where needed (sync, blocking: seconds per OCR page)."""
    done, scanned = _text_layer_pages(pdf, page_numbers, max_pages)
    if len(scanned) > 1:
        with ThreadPoolExecutor(min(DEFAULT_OCR_WORKERS, len(scanned)), thread_name_prefix="ocr") as pool:
            recognised = list(pool.map(lambda n: _ocr_page(pdf, n, max_pages, OCR_DPI), scanned))
    else:
        recognised = [_ocr_page(pdf, n, max_pages, OCR_DPI) for n in scanned]
    done.update((page.page, page) for page in recognised)
    return [done[number] for number in page_numbers]


class LocalTextSource:
    """PDFium text layer plus rapidocr OCR, behind the `TextSource` protocol."""

    name = "local"

    def __init__(
        self,
        *,
        max_pages: int = DEFAULT_MAX_PAGES,
        ocr_workers: int = DEFAULT_OCR_WORKERS,
        ocr_executor: Executor | None = None,
        dpi: int = OCR_DPI,
    ) -> None:
        self.max_pages = max_pages
        self.dpi = dpi
        self._ocr_workers = ocr_workers
        self._executor = ocr_executor
        self._owns_executor = ocr_executor is None

    def _ocr_executor(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._ocr_workers, thread_name_prefix="ocr")
        return self._executor

    async def candidate_pages(self, pdf: bytes) -> list[int]:
        """Cheap pass: the 1-based pages that may hold a primary statement."""
        return await asyncio.to_thread(
            find_candidate_pages, pdf, max_pages=self.max_pages, executor=self._ocr_executor()
        )

    async def pages(self, pdf: bytes, page_numbers: list[int]) -> list[PageText]:
        """Layout text for the given 1-based pages, in the order given; OCR where there is no text layer."""
        done, scanned = await asyncio.to_thread(_text_layer_pages, pdf, page_numbers, self.max_pages)
        loop = asyncio.get_running_loop()
        # Each OCR task renders its page when a worker picks it up: one bitmap in memory per worker.
        recognised = await asyncio.gather(
            *(
                loop.run_in_executor(self._ocr_executor(), _ocr_page, pdf, number, self.max_pages, self.dpi)
                for number in scanned
            )
        )
        done.update((page.page, page) for page in recognised)
        return [done[number] for number in page_numbers]

    def close(self) -> None:
        """Stop the OCR threads this source started (not an executor it was given)."""
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
