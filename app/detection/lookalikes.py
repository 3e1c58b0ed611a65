"""Signals of pages that look like statements but are not: indexes, notes, auditor's reports, MD&A.

Input: one page's `PageLines`. Output: the signals found, each with the penalty it takes off a statement
title's score on that page. Invariant: pure string work on one page; no signal depends on another page.
"""

from __future__ import annotations

from app.detection import vocabulary as v
from app.detection.lines import Line, PageLines

_INDEX_TYPES = 3  # a page naming this many statement types is a list of them, not one of them
PENALTIES = {
    "index_page": 0.6,
    "notes_heading": 0.6,
    "auditor_report": 0.5,
    "selected_data": 0.6,
    "percent_table": 0.5,
    "mdna_table": 0.3,
    "supplemental_schedule": 0.3,
    "prose": 0.2,
}


def page_signals(view: PageLines) -> dict[str, float]:
    """Look-alike signals of one page (index, notes, auditor's report, MD&A...) with their penalties."""
    found = {}
    top = [line.text for line in heading_lines(view.lines, 8)]
    if any(v.NOTES_HEADING.match(text) for text in top):
        found["notes_heading"] = PENALTIES["notes_heading"]
    if any(v.SELECTED_DATA.match(text) for text in top):
        found["selected_data"] = PENALTIES["selected_data"]
    if any(v.INDEX_HEADING.match(text) for text in top) or len(view.listed) >= _INDEX_TYPES:
        found["index_page"] = PENALTIES["index_page"]
    if v.AUDITOR.search("\n".join(line.text for line in view.lines if not line.is_row)):
        found["auditor_report"] = PENALTIES["auditor_report"]
    values = sum(line.values for line in view.lines)
    percents = sum(line.percents for line in view.lines)
    common_size = sum(1 for line in view.lines if line.percents and v.COMMON_SIZE.search(line.text))
    if (percents >= 4 and percents >= 0.3 * values) or (common_size and percents >= 2):
        found["percent_table"] = PENALTIES["percent_table"]
    if v.MDNA.search(
        "\n".join(line.label for line in view.lines if len(line.label) < 120 and not line.is_prose)
    ):
        found["mdna_table"] = PENALTIES["mdna_table"]
    prose = sum(line.is_prose for line in view.lines)
    if prose > max(3, view.rows):
        found["prose"] = PENALTIES["prose"]
    return found


def heading_lines(lines: list[Line], limit: int) -> list[Line]:
    """The first non-boilerplate lines above the first row of values."""
    heading = []
    for line in lines:
        if line.is_row or len(heading) >= limit:
            break
        if not v.BOILERPLATE.match(line.text):
            heading.append(line)
    return heading
