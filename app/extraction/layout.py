"""Lay positioned words out as plain text whose table columns line up.

Input: `Word`s (text and box in PDF points, origin top-left, y growing downwards), from PDFium's loose
character boxes or from OCR. Output: a `Layout`: the page as lines of text in the spirit of
LLMWhisperer's layout_preserving mode, one box and one confidence per output line.

How: words are grouped into lines by vertical overlap with the line's mean band, and neighbouring words
join into a chunk (a label, a figure, a header fragment): prose words up to a text height apart, figures
closer than about two spaces, words of one OCR box always; but a figure whose right edge lines up with a
column of figures on other rows starts its own chunk however close the label before it ends. Text
chunks are anchored at their left edge, numeric chunks at their right edge, because financial tables
right-align their figures. One monotone map from x to character column is shared by every line of the
page: it is proportional to x, and only stretches where some line would otherwise collide, so a long
label pushes every row's columns right by the same amount and the columns stay aligned across rows.

Invariants: every word's text appears once, in reading order within its line; chunks on a line are
separated by at least two spaces, words inside a chunk by exactly one; `line_boxes` and
`line_confidence` have one entry per line of `text` (None on blank lines).
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass

from app.extraction.source import Box

CHUNK_GAP = 2  # spaces between chunks: parsers split cells on runs of two or more spaces
# Vertical overlap, as a share of the smaller height, that puts two words on one line: a statement row
# often sets its label a little higher than its figures.
LINE_OVERLAP = 0.4
# Horizontal gaps, as a share of the text height, below which words join one chunk. Justified labels
# stretch their spaces to about half the height; figures sit closer to each other only inside a cell.
PROSE_GAP = 1.0
NUMBER_GAP = 0.45
# Right edges within this share of the text height line up (see `_column_figures`).
COLUMN_TOLERANCE = 0.5
LOW_CONFIDENCE = 0.9  # as LLMWhisperer's confidence_metadata: words below it are listed per line

_CURRENCY = r"(?:[$€£¥₱]|P=)"
_NUMERIC = re.compile(
    rf"^{_CURRENCY}?\s*\(?\s*{_CURRENCY}?\s*[-+]?(\d(?:[\d,.]*\d)?|\.\d+)\s*\)?\s*%?\)?$|^[-—–]{{1,3}}$"
)

_CURRENCIES = {"$", "€", "£", "¥", "P=", "₱"}


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float | None = None
    group: int | None = None  # words recognised together (one OCR box) stay in one chunk

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class Layout:
    text: str
    line_boxes: tuple[Box | None, ...]
    line_confidence: tuple[float | None, ...]
    low_confidence: tuple[tuple[tuple[str, float], ...], ...]


@dataclass
class _Chunk:
    words: list[Word]
    text: str
    right_anchored: bool
    x0: float
    x1: float


def is_numeric(text: str) -> bool:
    """A figure as printed in a table cell: `$ 1,234`, `(52)`, `4.59`, `12%`, or a dash."""
    return bool(_NUMERIC.match(text.strip()))


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Words sharing a text line, top to bottom; each line sorted left to right.

    A word joins the current line when it overlaps the line's mean band, which does not grow with
    every word: a growing band lets a slightly skewed scan chain row after row into one line.
    """
    lines: list[list[Word]] = []
    top = bottom = 0.0
    for word in sorted(words, key=lambda w: w.center_y):
        overlap = min(bottom, word.bottom) - max(top, word.top)
        if lines and overlap >= LINE_OVERLAP * min(bottom - top, word.bottom - word.top):
            line = lines[-1]
            line.append(word)
            top += (word.top - top) / len(line)
            bottom += (word.bottom - bottom) / len(line)
        else:
            lines.append([word])
            top, bottom = word.top, word.bottom
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _column_figures(lines: list[list[Word]], height: float) -> set[int]:
    """Ids of figures that are table cells, however close the label before them ends.

    A figure is a cell when its right edge lines up with figures on two other lines that are set apart
    from the words before them. Dates inside labels ("Balances, January 29, 2017") line up too, but
    always follow a word at a normal space, so they never make a column.
    """
    apart: set[int] = set()
    for line in lines:
        for previous, word in zip([None, *line[:-1]], line, strict=True):
            if previous is None or word.x0 - previous.x1 > NUMBER_GAP * height:
                apart.add(id(word))
    edges = sorted((w.x1, n, id(w)) for n, line in enumerate(lines) for w in line if is_numeric(w.text))
    tolerance = COLUMN_TOLERANCE * height
    cells = set()
    for index, (x1, line, _) in enumerate(edges):
        support = set()
        for step in (-1, 1):
            other = index + step
            while 0 <= other < len(edges) and abs(edges[other][0] - x1) <= tolerance:
                if edges[other][1] != line and edges[other][2] in apart:
                    support.add(edges[other][1])
                other += step
        if len(support) >= 2:
            cells.add(edges[index][2])
    return cells


def _chunks(line: list[Word], height: float, cells: set[int]) -> list[_Chunk]:
    groups: list[list[Word]] = [[line[0]]]
    for word in line[1:]:
        previous = groups[-1][-1]
        prose = not is_numeric(previous.text) and not is_numeric(word.text)
        cell_starts = id(word) in cells and previous.text not in _CURRENCIES
        together = word.group is not None and word.group == previous.group
        close = word.x0 - previous.x1 <= (PROSE_GAP if prose else NUMBER_GAP) * height
        if not cell_starts and (together or close):
            groups[-1].append(word)
        else:
            groups.append([word])
    chunks = []
    for group in groups:
        text = " ".join(w.text for w in group)
        chunks.append(_Chunk(group, text, is_numeric(text), group[0].x0, max(w.x1 for w in group)))
    return chunks


def _column_width(chunks: list[_Chunk]) -> float:
    """Points per character column: the page's mean advance per character."""
    width = sum(c.x1 - c.x0 for c in chunks)
    chars = sum(len(c.text) for c in chunks)
    return max(width / chars, 0.5) if chars else 5.0


def _snap(xs: list[float], tolerance: float) -> dict[float, float]:
    """Edges closer than `tolerance` share one anchor, so a stretch never falls between them."""
    snapped: dict[float, float] = {}
    anchor = previous = None
    for x in sorted(set(xs)):
        if previous is None or x - previous > tolerance:
            anchor = x
        snapped[x] = anchor
        previous = x
    return snapped


def _column_map(
    lines: list[list[_Chunk]], column_width: float
) -> tuple[dict[float, float], dict[float, float]]:
    """Monotone x → column, proportional to x, stretched where a line would collide.

    Every chunk needs its length between its left and right edges, and two chunks on a line need
    `CHUNK_GAP` between them. The least map meeting these stretches right after the chunk that needs
    room, so whatever lies to its right on the page, on every line, moves by the same amount.
    """
    snap = _snap([x for line in lines for c in line for x in (c.x0, c.x1)], 0.4 * column_width)
    needs: dict[float, list[tuple[float, int]]] = {}

    def need(left: float, right: float, size: int) -> None:
        if snap[right] > snap[left]:
            needs.setdefault(snap[right], []).append((snap[left], size))

    for line in lines:
        for chunk in line:
            need(chunk.x0, chunk.x1, len(chunk.text))
        for left, right in itertools.pairwise(line):
            need(left.x1, right.x0, CHUNK_GAP)
    columns: dict[float, float] = {}
    previous = None
    for x in sorted(set(snap.values())):
        column = x / column_width if previous is None else columns[previous] + (x - previous) / column_width
        for source, size in needs.get(x, ()):
            column = max(column, columns[source] + size)
        columns[x] = column
        previous = x
    return columns, snap


def _start(chunk: _Chunk, columns: dict[float, float], snap: dict[float, float]) -> int:
    if chunk.right_anchored:
        return round(columns[snap[chunk.x1]]) - len(chunk.text)
    return round(columns[snap[chunk.x0]])


def _line_box(line: list[Word]) -> Box:
    return (
        round(min(w.x0 for w in line), 2),
        round(min(w.top for w in line), 2),
        round(max(w.x1 for w in line), 2),
        round(max(w.bottom for w in line), 2),
    )


def layout_words(words: list[Word]) -> Layout:
    """Text of the page with aligned columns, plus one box and confidence per output line."""
    words = [w for w in words if w.text.strip()]
    if not words:
        return Layout("", (), (), ())
    word_lines = group_lines(words)
    height = statistics.median(w.bottom - w.top for w in words)
    cells = _column_figures(word_lines, height)
    chunk_lines = [_chunks(line, height, cells) for line in word_lines]
    columns, snap = _column_map(chunk_lines, _column_width([c for line in chunk_lines for c in line]))
    margin = min(_start(c, columns, snap) for line in chunk_lines for c in line)

    texts: list[str] = []
    boxes: list[Box | None] = []
    confidences: list[float | None] = []
    low: list[tuple[tuple[str, float], ...]] = []
    previous_bottom = None
    for words_in_line, chunks in zip(word_lines, chunk_lines, strict=True):
        top = min(w.top for w in words_in_line)
        if previous_bottom is not None and top - previous_bottom > 0.7 * height:
            texts.append("")
            boxes.append(None)
            confidences.append(None)
            low.append(())
        previous_bottom = max(w.bottom for w in words_in_line)
        text = ""
        for chunk in chunks:
            start = _start(chunk, columns, snap) - margin
            if text:
                start = max(start, len(text) + CHUNK_GAP)
            text = text.ljust(start) + chunk.text
        texts.append(text)
        boxes.append(_line_box(words_in_line))
        scores = [w.confidence for w in words_in_line if w.confidence is not None]
        confidences.append(round(min(scores), 4) if scores else None)
        low.append(tuple((w.text, round(w.confidence, 4)) for w in words_in_line if _is_low(w)))
    return Layout("\n".join(texts), tuple(boxes), tuple(confidences), tuple(low))


def _is_low(word: Word) -> bool:
    return word.confidence is not None and word.confidence < LOW_CONFIDENCE
