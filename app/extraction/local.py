"""Page text from the PDF's own text layer, with PDFium.

Input: an open `pypdfium2.PdfDocument` (see `pdf.open_pdf`, which holds the PDFium lock). Output: the
cheap plain text of every page (for finding candidate pages), and `PageText` in layout mode for chosen
pages: columns aligned with spaces, one box per line in PDF points (x0, top, x1, bottom; origin at the
top-left of the page as displayed).

Invariants: words are built from PDFium's *loose* character boxes, which span the glyph's advance, and
split at the space characters the content stream itself holds (PDFium's generated spaces and line breaks
are dropped; their boxes are meaningless) or at a gap wider than a kerning gap. Tight glyph boxes split
words at kerning gaps and strand commas on lines of their own. A page whose text layer is empty or
nearly so, but which draws images or many paths (also inside form XObjects), `needs_ocr`.
"""

from __future__ import annotations

import ctypes
import math
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.extraction.layout import Word, layout_words
from app.extraction.source import PageText

ENGINE = "local"
# Fewer letters and digits than this on a page that draws something: treat it as having no text layer.
MIN_TEXT_CHARS = 40
MIN_PATHS_FOR_OCR = 50
# A gap wider than this share of the character height starts a new word even without a space.
WORD_GAP = 0.15
MAX_ANGLE = 10  # degrees from horizontal, as displayed
_SPACES = {" ", "\xa0", "\t", "\u2002", "\u2003", "\u2009", "\u200a", "\u202f", "\u3000"}


@dataclass(frozen=True)
class PageScan:
    """The cheap pass over one page: its plain text, and whether it needs OCR."""

    text: str
    needs_ocr: bool


def scan_pages(doc: pdfium.PdfDocument) -> list[PageScan]:
    """PDFium's plain text of every page, in page order, with the no-text-layer test."""
    scans = []
    for index in range(len(doc)):
        page = doc[index]
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            scans.append(PageScan(text, needs_ocr(page, text)))
        finally:
            textpage.close()
            page.close()
    return scans


def text_chars(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def needs_ocr(page: pdfium.PdfPage, text: str) -> bool:
    """True when the page draws images or outlined glyphs but holds (almost) no text."""
    if text_chars(text) >= MIN_TEXT_CHARS:
        return False
    paths = 0
    # Objects inside form XObjects count too: some tools wrap a whole scanned page in a form.
    pending = [pdfium_c.FPDFPage_GetObject(page, i) for i in range(pdfium_c.FPDFPage_CountObjects(page))]
    while pending:
        obj = pending.pop()
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING):
            return True
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            pending.extend(
                pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(pdfium_c.FPDFFormObj_CountObjects(obj))
            )
        paths += kind == pdfium_c.FPDF_PAGEOBJ_PATH
        if paths >= MIN_PATHS_FOR_OCR:
            return True
    return False


def display_transform(page: pdfium.PdfPage) -> tuple[float, ...]:
    """(a, b, c, d, e, f) mapping page space to display points, origin top-left: x' = a*x + c*y + e,
    y' = b*x + d*y + f. Takes the page's /Rotate and crop box into account (PDFium's own matrix)."""
    width, height = page.get_size()
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    scale, unit = 64, 10_000

    def device(x: float, y: float) -> tuple[float, float]:
        pdfium_c.FPDF_PageToDevice(
            page, 0, 0, round(width * scale), round(height * scale), 0, x, y, device_x, device_y
        )
        return device_x.value / scale, device_y.value / scale

    (e, f), (ax, ay), (cx, cy) = device(0, 0), device(unit, 0), device(0, unit)
    return ((ax - e) / unit, (ay - f) / unit, (cx - e) / unit, (cy - f) / unit, e, f)


def page_words(textpage: pdfium.PdfTextPage, transform: tuple[float, ...], rotation: int = 0) -> list[Word]:
    """Words from loose character boxes, split at the stream's own spaces and at wide gaps.

    Characters that do not read left to right once the page is displayed (vertical margin notes,
    watermarks) are left out: they would fall across many lines.
    """
    a, b, c, d, e, f = transform
    words: list[Word] = []
    chars: list[str] = []
    x0 = top = x1 = bottom = 0.0
    rect = pdfium_c.FS_RECTF()

    def flush() -> None:
        if chars:
            text = "".join(chars)
            if not text.isascii():
                text = unicodedata.normalize("NFKC", text)
            words.append(Word(text, x0, top, x1, bottom))
            chars.clear()

    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        if pdfium_c.FPDFText_IsGenerated(textpage, index):
            flush()
            continue
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if char in _SPACES or char in "\r\n\x02\x00" or char.isspace():
            flush()
            continue
        angle = (math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage, index)) + rotation) % 360
        if min(angle, 360 - angle) > MAX_ANGLE:
            flush()
            continue
        pdfium_c.FPDFText_GetLooseCharBox(textpage, index, rect)
        xs = (a * rect.left + c * rect.bottom + e, a * rect.right + c * rect.top + e)
        ys = (b * rect.left + d * rect.bottom + f, b * rect.right + d * rect.top + f)
        c_x0, c_x1, c_top, c_bottom = min(xs), max(xs), min(ys), max(ys)
        if chars:
            same_line = top <= (c_top + c_bottom) / 2 <= bottom
            if not same_line or c_x0 - x1 > WORD_GAP * (c_bottom - c_top) or c_x0 < x0:
                flush()
        if chars:
            x1, top, bottom = max(x1, c_x1), min(top, c_top), max(bottom, c_bottom)
        else:
            x0, top, x1, bottom = c_x0, c_top, c_x1, c_bottom
        chars.append(char)
    flush()
    return words


def layout_page(doc: pdfium.PdfDocument, page_number: int) -> PageText:
    """Layout text of one 1-based page from its text layer."""
    page = doc[page_number - 1]
    textpage = page.get_textpage()
    try:
        width, height = page.get_size()
        layout = layout_words(page_words(textpage, display_transform(page), page.get_rotation()))
    finally:
        textpage.close()
        page.close()
    return PageText(
        page=page_number,
        text=layout.text,
        engine=ENGINE,
        mode="layout",
        ocr=False,
        line_boxes=layout.line_boxes,
        line_confidence=None,
        width=width,
        height=height,
    )
