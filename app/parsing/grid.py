"""LLMWhisperer table-mode pipe grids → a `Table`, aligning cells by content, not by cell index.

Input: one page of text holding `+---+` / `| a | b |` grids (other lines are heading or furniture).
Output: `Table` with heading lines, stacked header texts per value column and raw rows.
Invariants: the value columns are the k-th value of each full data row, whatever cell it sits in;
a header row with as many texts as there are columns maps in order, a lone text spans all columns,
and a shorter row sits under the run of equal texts above it; checkbox marks ("[ ]", "[X]") and
empty spacer rows are dropped; a "Note" column's references go to `notes`, never to values.
"""

from __future__ import annotations

import re
from collections import Counter

from app.parsing.fragments import is_unit_line
from app.parsing.numbers import is_footnote, is_note_ref, is_year, read_value
from app.parsing.table import RawRow, Table, is_furniture, page_lines

_CHECKBOX_RE = re.compile(r"\[[ xX]\]|[☐☒☑]")
_NOTE_HEADER_RE = re.compile(r"^notes?$", re.IGNORECASE)

Cells = list[str]


def is_grid(text: str) -> bool:
    """True when the page holds a pipe grid (LLMWhisperer table mode)."""
    return sum(1 for line in text.splitlines() if line.lstrip().startswith("|")) >= 3


def _blocks(lines: list[str]) -> list[list[tuple[int, Cells]]]:
    """Grid rows per table block: (first line number, joined cell texts)."""
    blocks: list[list[tuple[int, Cells]]] = []
    group: list[tuple[int, list[str]]] = []
    inside = False

    def flush() -> None:
        if group:
            width = max(len(cells) for _, cells in group)
            joined = [" ".join(c[k] for _, c in group if k < len(c) and c[k]).strip() for k in range(width)]
            blocks[-1].append((group[0][0], joined))
            group.clear()

    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("+"):
            if not inside:
                blocks.append([])
                inside = True
            flush()
        elif stripped.startswith("|"):
            if not inside:
                blocks.append([])
                inside = True
            parts = stripped.strip("|").split("|")
            group.append((number, [" ".join(_CHECKBOX_RE.sub(" ", p).split()) for p in parts]))
        else:
            flush()
            inside = False
    flush()
    return [b for b in blocks if b]


def _values(cells: Cells) -> list[tuple[int, str]]:
    return [(k, c) for k, c in enumerate(cells[1:], 1) if c and read_value(c).kind != "text"]


def _texts(cells: Cells) -> list[tuple[int, str]]:
    return [(k, c) for k, c in enumerate(cells[1:], 1) if c and read_value(c).kind == "text"]


def _place(indices: list[int], ref: tuple[int, ...], width: int) -> list[int]:
    """Columns for the value cells of a short row: by the full rows' cell positions, else in order."""
    for shift in (0, -1, 1, -2, 2):
        moved = [k + shift for k in indices]
        if all(k in ref for k in moved):
            return [ref.index(k) for k in moved]
    return list(range(len(indices)))[:width]


def _header_columns(texts: list[str], above: list[list[str]], width: int) -> list[list[int]]:
    if not texts:
        return []
    if len(texts) == width:
        return [[k] for k in range(width)]
    if len(texts) == 1:
        return [list(range(width))]
    last = [stack[-1] if stack else "" for stack in above]
    for start in range(width - len(texts) + 1):
        run = last[start : start + len(texts)]
        if run[0] and all(t == run[0] for t in run):
            return [[start + k] for k in range(len(texts))]
    return [[k] for k in range(min(len(texts), width))]


def read_grid(text: str, page: int) -> Table | None:
    lines = page_lines(text)
    blocks = _blocks(lines)
    if not blocks:
        return None
    block = max(blocks, key=lambda b: sum(1 for _, cells in b if _values(cells)))
    first_line = block[0][0]
    heading = [ln.strip() for ln in lines[: first_line - 1] if ln.strip() and not is_furniture(ln)]
    data_at = next((i for i, (_, cells) in enumerate(block) if _opens_body(cells)), len(block))
    header_rows, body = block[:data_at], block[data_at:]
    note_col = next(
        (k for _, cells in header_rows for k, c in enumerate(cells) if k and _NOTE_HEADER_RE.match(c)), None
    )
    notes: dict[int, list[str]] = {}
    if note_col is not None:
        body = [(n, _take_note(cells, note_col, notes, n)) for n, cells in body]
    body = _footnotes_to_labels(body)
    counts = Counter(tuple(k for k, _ in _values(cells)) for _, cells in body if _values(cells))
    if not counts:
        return None
    width = max(len(key) for key in counts)
    ref = max((key for key in counts if len(key) == width), key=lambda key: counts[key])
    headers = _stack_headers([cells for _, cells in header_rows], width, heading)
    rows = [_row(n, cells, ref, width, page, notes.get(n, [])) for n, cells in body]
    return Table(page, "grid", heading, headers, [r for r in rows if r], has_notes=note_col is not None)


def _footnotes_to_labels(body: list[tuple[int, Cells]]) -> list[tuple[int, Cells]]:
    """A footnote marker in its own cell after the label ("(1)", "*") belongs to the label."""
    lengths = Counter(len(_values(cells)) for _, cells in body if _values(cells))
    if not lengths:
        return body
    usual = lengths.most_common(1)[0][0]
    used = Counter(k for _, cells in body for k, _ in _values(cells))
    out = []
    for number, cells in body:
        values = _values(cells)
        alone = values and used[values[0][0]] == 1  # no other row has a value in that cell
        if len(values) > usual and alone and is_footnote(values[0][1]):
            k = values[0][0]
            cells = [f"{cells[0]} {cells[k]}", *cells[1:k], "", *cells[k + 1 :]]
        out.append((number, cells))
    return out


def _stack_headers(header_rows: list[Cells], width: int, heading: list[str]) -> list[list[str]]:
    """Header texts per column, top to bottom; unit captions ("(In millions)") go to the heading."""
    headers: list[list[str]] = [[] for _ in range(width)]
    for cells in header_rows:
        texts = [c for c in cells if c and not _NOTE_HEADER_RE.match(c)]
        heading.extend(t for t in texts if is_unit_line(t))
        texts = [c for k, c in enumerate(cells) if k and c in texts and not is_unit_line(c)]
        for text, cols in zip(texts, _header_columns(texts, headers, width), strict=False):
            for col in cols:
                headers[col].append(text)
    return headers


def _opens_body(cells: Cells) -> bool:
    """The first body row: values that are not just years, or a caption with nothing beside it."""
    values = _values(cells)
    if values:
        return not all(is_year(v) for _, v in values)
    label = cells[0] if cells else ""
    return bool(label) and not _texts(cells) and not is_unit_line(label) and not is_furniture(label)


def _take_note(cells: Cells, note_col: int, notes: dict[int, list[str]], number: int) -> Cells:
    for k in range(1, min(len(cells), note_col + 2)):
        if cells[k] and is_note_ref(cells[k]) and "." not in cells[k]:
            notes[number] = [n.strip() for n in re.split(r"[,&]", cells[k]) if n.strip()]
            return [*cells[:k], "", *cells[k + 1 :]]
        if cells[k]:
            break
    return cells


def _row(number: int, cells: Cells, ref: tuple[int, ...], width: int, page: int, notes: list[str]):
    values = _values(cells)
    label = cells[0] if cells else ""
    if not values and (not label or is_unit_line(label) or is_furniture(label)):
        return None
    out: list[str | None] = [None] * width
    if len(values) >= width:
        cols = list(range(width))
        values = values[:width]
    else:
        cols = _place([k for k, _ in values], ref, width)
    for col, (_, text) in zip(cols, values, strict=False):
        out[col] = text
    return RawRow(page, number, label, out, None, notes, False, any("$" in c for c in cells[1:] if c))
