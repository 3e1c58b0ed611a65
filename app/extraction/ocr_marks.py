"""Marks rapidocr's text detector skips on statement pages: dash cells and lone short figures.

Input: the grey page image, the pixel boxes rapidocr detected, and the median box height. Output: the
dash cells (boxes) and the lone figures (rapidocr-style items `[quad, text, score]`) found outside
every detected box, in pixels.

Invariants: both come from the image's connected components. A dash cell is a thin, solid stroke from
hyphen to em-dash size with no other stroke beside it (two strokes side by side are a dashed or
double rule); a short one (a hyphen in a narrow face, under 2.5 times as wide as tall) only where
it sits in a column of recognised figures, since alone it could be a speck. A lone figure is a
cluster of glyph-sized components (a "1" alone in its cell is easy to miss) that ends where a
column of recognised figures ends and that the recogniser, run on just that crop, reads as a figure;
anything else is dropped, so noise and letter-spaced headings never become figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.extraction.layout import is_numeric

Box = tuple[float, float, float, float]
MAX_CLUSTERS = 60  # more glyph-sized leftovers than this is a picture or handwriting, not missed cells


def components(image: np.ndarray) -> np.ndarray:
    """(x, y, w, h, area) of each dark connected component."""
    import cv2  # ships with rapidocr; heavy import only where OCR runs

    count, _, stats, _ = cv2.connectedComponentsWithStats((image < 160).astype(np.uint8), connectivity=8)
    return stats[1:count]


def bounds(quad: list) -> Box:
    """The axis-aligned box around a rapidocr quad."""
    xs, ys = [point[0] for point in quad], [point[1] for point in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _outside(cx: float, cy: float, boxes: list[Box]) -> bool:
    return not any(x0 - 2 <= cx <= x1 + 2 and y0 - 2 <= cy <= y1 + 2 for x0, y0, x1, y1 in boxes)


def in_figure_column(x0: float, x1: float, figures: Sequence[Box], text_height: float) -> bool:
    """Whether [x0, x1] lies across the width of a recognised figure (a cell of its column)."""
    middle = (x0 + x1) / 2
    return any(fx0 - text_height / 2 <= middle <= fx1 + text_height / 2 for fx0, _, fx1, _ in figures)


def find_dashes(
    stats: np.ndarray, boxes: list[Box], text_height: float, figures: Sequence[Box] = ()
) -> list[Box]:
    """Dash cells outside every text box, each as a box one text height tall.

    `figures` are the boxes of recognised figures: a short stroke counts only inside their columns."""
    dashes = []
    for x, y, w, h, area in stats:
        # Thin and solid, from a hyphen-sized "-" to an em dash; at least 2.5 times as wide as tall,
        # or 1.5 times (Calibri's hyphen) where a column of figures runs through it.
        solid = area >= 0.6 * w * h and w >= 1.5 * h
        if not (h <= 0.25 * text_height and 0.18 * text_height <= w <= 1.6 * text_height and solid):
            continue
        if w < 2.5 * h and not in_figure_column(x, x + w, figures, text_height):
            continue
        if _outside(x + w / 2, y + h / 2, boxes):
            cy = y + h / 2
            dashes.append((float(x), cy - text_height / 2, float(x + w), cy + text_height / 2))
    return [
        dash
        for dash in dashes
        if not any(
            other is not dash
            and abs((other[1] + other[3]) - (dash[1] + dash[3])) <= text_height / 2
            and min(abs(other[0] - dash[2]), abs(dash[0] - other[2])) < text_height
            for other in dashes
        )
    ]


def _glyph_clusters(stats: np.ndarray, boxes: list[Box], text_height: float) -> list[list[float]]:
    glyphs = sorted(
        [float(x), float(y), float(x + w), float(y + h)]
        for x, y, w, h, _ in stats
        if 0.45 * text_height <= h <= text_height
        and w <= 1.2 * text_height
        and _outside(x + w / 2, y + h / 2, boxes)
    )
    clusters: list[list[float]] = []
    for x0, y0, x1, y1 in glyphs:
        for cluster in clusters:
            same_row = abs((cluster[1] + cluster[3]) - (y0 + y1)) / 2 < 0.3 * text_height
            if same_row and 0 <= x0 - cluster[2] < 0.6 * text_height:
                cluster[:] = [cluster[0], min(cluster[1], y0), x1, max(cluster[3], y1)]
                break
        else:
            clusters.append([x0, y0, x1, y1])
    return clusters


def find_missed_figures(
    image: np.ndarray, stats: np.ndarray, items: list[list], text_height: float, engine: Any, min_score: float
) -> list[list]:
    """Figures outside every text box, read by the recogniser alone, as `[quad, text, score]` items.

    Only clusters that end where a column of recognised figures ends are read: a lone cell of a table.
    """
    boxes = [bounds(item[0]) for item in items]
    columns = [box[2] for box, item in zip(boxes, items, strict=True) if is_numeric(item[1].strip())]
    clusters = [
        cluster
        for cluster in _glyph_clusters(stats, boxes, text_height)
        if any(abs(cluster[2] - right) <= 0.5 * text_height for right in columns)
    ]
    if len(clusters) > MAX_CLUSTERS:
        return []
    pad = round(0.4 * text_height)
    found = []
    for x0, y0, x1, y1 in clusters:
        top, left = max(0, round(y0) - pad), max(0, round(x0) - pad)
        crop = image[top : round(y1) + pad, left : round(x1) + pad]
        result, _ = engine(crop, use_det=False, use_cls=False, use_rec=True)
        for text, score in result or ():
            if score >= min_score and is_numeric(text.strip()):
                quad = [[x0, y0 - 4], [x1, y0 - 4], [x1, y1 + 4], [x0, y1 + 4]]
                found.append([quad, text.strip(), float(score)])
    return found
