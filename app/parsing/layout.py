"""Layout-preserving page text (columns aligned with spaces) → a `Table`.

Input: one page of text as LLMWhisperer layout mode or the local PDFium/OCR extractor prints it.
Output: `Table` with the heading lines, stacked header texts per value column and raw rows.
Invariants: value columns come from where numbers sit on the page (right edges clustered), never
from token counts; a number glued to label words stays label text unless it reaches into the value
columns; a note-reference column ("Note", "7", "13, 19") never becomes a value column, nor does a
column of percentages beside the amounts (headed "%" or every figure a percentage); footnote text
below the statement ("(1) Amounts include ...") ends it.
"""

from __future__ import annotations

import re

from app.parsing.columns import (
    HEADING_RE,
    NOTE_HEADER_RE,
    UNIT_RE,
    column_headers,
    header_block,
    split_chunks,
)
from app.parsing.fragments import Fragment, assemble_rows
from app.parsing.numbers import is_note_ref, is_value, read_value
from app.parsing.table import Table, is_furniture, page_lines
from app.parsing.tokens import Line, Zone, assign, find_zones, nearest, split_line, words

_YEARS_RE = re.compile(r"\b(?:19|20)\d\d\b")
_PERCENT_HEADER_RE = re.compile(r"^(?:%|% of\b.*|percent(?:age)?(?: of\b.*)?)$", re.IGNORECASE)
_RULE_RE = re.compile(r"^\s*(?:[_=\-–—]{3,}\s*)+$")
_FOOTNOTE_TEXT_RE = re.compile(r"^\s{0,8}(?:\(\d{1,2}\)|\([a-z]\)|\*+|[¹²³⁴⁵])\s*[A-Za-z][\w,]*\s+\S+")


def _note_zone(lines: list[Line], data: list[int]) -> tuple[Zone, int] | None:
    """The "Note" column and the line of its header: a lone "Note(s)" header with only note
    references beneath it."""
    for k in range(max(0, data[0] - 10), data[0]):
        line = lines[k]
        for start, end, text in split_chunks(line.raw):
            if not NOTE_HEADER_RE.match(text):
                continue
            zone = Zone(start, end)
            below = [
                t
                for k in data
                for t in words(lines[k].raw)
                if t.start >= start - 3 and t.end <= end + 4 and any(ch.isdigit() for ch in t.text)
            ]
            if below and all(is_note_ref(t.text.rstrip(",")) for t in below):
                return zone, k
    return None


def _percent_columns(
    lines: list[Line], data: list[int], zones: list[Zone], headers: list[list[str]]
) -> set[int]:
    """Columns of percentages printed beside the amounts ("%", "% of revenue", or every cell "12.5%"):
    ratios of the amounts, not amounts, so they are no value columns."""
    cells: dict[int, list[str]] = {k: [] for k in range(len(zones))}
    for k in data:
        for zone, token in assign(lines[k].values, zones).items():
            cells[zone].append(token.text)
    found = set()
    for k, stack in enumerate(headers):
        headed = bool(stack) and bool(_PERCENT_HEADER_RE.match(stack[-1].strip()))
        figures = [c for c in cells[k] if read_value(c).kind in ("number", "percent")]
        if figures and (headed or all(read_value(c).kind == "percent" for c in figures)):
            found.add(k)
    return found if len(found) < len(zones) else set()


def _data_lines(lines: list[Line]) -> list[int]:
    """Lines with values, from the first that holds a number (dash-only lines above it are headers)."""
    data = [k for k, ln in enumerate(lines) if ln.values and not ln.years_only and not is_furniture(ln.raw)]
    first = next((n for n, k in enumerate(data) if not lines[k].dashes_only), 0)
    return data[first:]


def read_layout(text: str, page: int, zones: list[Zone] | None = None) -> Table | None:
    """Read one page of layout text; None when no value columns are found.

    `zones` imposes the value columns found on an earlier page of the same statement."""
    lines = [split_line(n, raw)[0] for n, raw in enumerate(page_lines(text), 1)]
    data = _data_lines(lines)
    if not data:
        return None
    found = _note_zone(lines, data)
    note_zone = found[0] if found else None
    notes: dict[int, list[str]] = {}
    if found is not None:
        # The "Notes" header printed on a line of its own, below the column headers, is no caption.
        if NOTE_HEADER_RE.match(lines[found[1]].raw.strip()):
            lines[found[1]] = Line(lines[found[1]].number, "")
        for k, line in enumerate(lines):
            lines[k], notes[k] = split_line(line.number, line.raw, note_zone)
        data = _data_lines(lines)
    margin = max((lines[k].label[0].start for k in data if lines[k].label), default=0) + 2
    zones = zones or find_zones([lines[k] for k in data], margin)
    if not zones:
        return None
    start, end = header_block(lines, data[0], zones, margin)
    heading = [line.raw.strip() for line in lines[:start] if not line.blank]
    headers = column_headers(lines[start:end], zones, heading, margin)
    percent = _percent_columns(lines, data, zones, headers)
    if percent:
        for k in data:
            kept = [t for z, t in sorted(assign(lines[k].values, zones).items()) if z not in percent]
            lines[k] = Line(lines[k].number, lines[k].raw, lines[k].label, kept)
        zones = [z for k, z in enumerate(zones) if k not in percent]
        headers = [h for k, h in enumerate(headers) if k not in percent]
    body_start = end if end > start else _body_start(lines, data[0])
    stop = next(
        (
            k
            for k in range(data[0], len(lines))
            if not lines[k].values and _FOOTNOTE_TEXT_RE.match(lines[k].raw)
        ),
        len(lines),
    )
    years = {y for stack in headers for text in stack for y in _YEARS_RE.findall(text)}
    frags = [
        _fragment(lines[k], zones, notes.get(k, []), years)
        for k in range(body_start, stop)
        if not (is_furniture(lines[k].raw) and not data[0] <= k <= data[-1])
    ]
    rows, extra_heading = assemble_rows(frags, len(zones), page)
    heading.extend(extra_heading)
    return Table(page, "layout", heading, headers, rows, note_zone is not None, zones)


def _body_start(lines: list[Line], first: int) -> int:
    k = first
    while k > 0:
        prev = lines[k - 1]
        if not prev.blank and (HEADING_RE.search(prev.raw) or UNIT_RE.search(prev.raw.strip())):
            break
        k -= 1
    return k


def _fragment(line: Line, zones: list[Zone], notes: list[str], years: set[str]) -> Fragment:
    if line.blank:
        return Fragment(line.number, blank=True)
    if _RULE_RE.match(line.raw):
        return Fragment(line.number, rule=True)
    label = list(line.label)
    glued = None
    # OCR may glue a value to a long label; a number reaching into the value columns is a value.
    if (
        label
        and not line.values
        and len(label) > 1
        and is_value(label[-1].text)
        and label[-1].end > zones[0].lo
    ):
        glued = label.pop()
    values = list(line.values)
    # A sub-table's own header row repeats the columns' years ("... reconciliation   2022   2021"):
    # those years are header text, not amounts.
    if len(values) >= 2 and line.years_only and all(t.text in years for t in values):
        label, values = label + values, []
    # Left of every column is label text: a footnote marker set apart, a year wrapped from the label.
    while values and values[0].end < zones[0].lo - 1:
        label.append(values.pop(0))
    cells = {k: tok.text for k, tok in assign(values, zones).items()} if values else {}
    glued_col = None
    if glued is not None:
        glued_col = nearest(zones, glued.start, glued.end)
        cells[glued_col] = glued.text
    indent = label[0].start if label else None
    text = " ".join(t.text for t in label)
    return Fragment(line.number, label=text, indent=indent, cells=cells, notes=notes, glued_col=glued_col)
