"""Line fragments of a layout page → raw rows (wrapped labels joined, split value lines merged).

Input: one `Fragment` per body line: label text and/or values already placed in columns, blank
lines and rules. Output: `RawRow`s plus heading text found in the body ("(In millions)").
Invariants: a value is never moved to another column except a number OCR glued to a long label,
which may only move to a free column next to it; value lines without a label become label-less
rows (kind total) unless the page prints values above their labels (scanned matrices), which is
decided once per page from how often that pattern occurs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from app.parsing.table import RawRow, is_furniture

_UNIT_LINE_RE = re.compile(
    r"^\(?\s*(?:[\w$£€ ]*\bin\s+)?(?:millions|thousands|billions)\b[^)]*\)?$|^\((?:in )?[$£€]\s*m\)$",
    re.IGNORECASE,
)
_CONNECTOR_RE = re.compile(r"(?:,|;|\band|\bof|\bto|\bfor|\bin|\bthe|\bon|\bfrom|\bwith|\ban|\bor|\()$")


@dataclass
class Fragment:
    line: int
    label: str = ""
    indent: int | None = None
    cells: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    blank: bool = False
    rule: bool = False
    glued_col: int | None = None


def is_unit_line(text: str) -> bool:
    return bool(_UNIT_LINE_RE.match(" ".join(text.split())))


def _header_like(label: str) -> bool:
    letters = [c for c in label if c.isalpha()]
    return label.endswith(":") or (len(letters) > 3 and all(c.isupper() for c in letters))


def _continues(row: RawRow | None, frag: Fragment, gap: bool) -> bool:
    """A label line that carries on the label above ("as of January 26, 2020; ...")."""
    if row is None or gap or not row.label or row.label.endswith(":"):
        return False
    if row.filled() and frag.cells:
        return False
    if not row.filled() and _CONNECTOR_RE.search(row.label.lower()):
        return True
    # "(loss)/profit for the period" carries on "Total comprehensive" as "for the period" would.
    return frag.label.lstrip("(")[:1].islower() and not _header_like(row.label)


def _merge(cells: list[str | None], add: dict[int, str], glued: int | None) -> bool:
    """Put `add` into free cells; a glued value in the way moves to the nearest free column."""
    for col, text in add.items():
        if cells[col] is not None and col == glued:
            free = [k for k in range(len(cells)) if cells[k] is None and k != col]
            if not free:
                return False
            target = min(free, key=lambda k: (abs(k - col), k > col))
            cells[target], cells[col], glued = cells[col], None, target
        if cells[col] is not None:
            return False
        cells[col] = text
    return True


def _values_above_labels(frags: list[Fragment]) -> bool:
    """Scanned matrices often print a row's values on the line(s) just above its label."""
    solid = [f for f in frags if not f.blank and not f.rule]
    hits = 0
    for prev, nxt in pairwise(solid):
        orphan = not prev.label and prev.cells
        if orphan and nxt.label and not _header_like(nxt.label) and nxt.line == prev.line + 1:
            hits += not nxt.label[:1].islower()
    return hits >= 3


def _label_less(frag: Fragment, width: int, page: int, rule: bool) -> RawRow:
    cells: list[str | None] = [None] * width
    _merge(cells, frag.cells, None)
    return RawRow(page, frag.line, "", cells, None, [], rule)


def assemble_rows(frags: list[Fragment], width: int, page: int) -> tuple[list[RawRow], list[str]]:
    above = _values_above_labels(frags)
    rows: list[RawRow] = []
    heading: list[str] = []
    pending: list[Fragment] = []
    rule = gap = False
    last_line = -10
    for frag in frags:
        if frag.blank:
            gap = True
            continue
        if frag.rule:
            rule = True
            continue
        if not frag.cells and (is_furniture(frag.label) or is_unit_line(frag.label)):
            heading.append(frag.label)
            continue
        if not frag.label:
            if pending and gap:
                rows.extend(_label_less(p, width, page, rule) for p in pending)
                pending = []
            pending.append(frag)
            gap, last_line = False, frag.line
            continue
        cur = rows[-1] if rows else None
        if _continues(cur, frag, gap and not pending):
            cur.label = f"{cur.label} {frag.label}"
            for part in [*pending, frag]:
                _merge(cur.cells, part.cells, None)
            cur.notes.extend(frag.notes)
            pending, gap = [], False
            continue
        row = RawRow(page, frag.line, frag.label, [None] * width, frag.indent, list(frag.notes), rule)
        _merge(row.cells, frag.cells, None)
        attach = above and pending and last_line == frag.line - 1 and not _header_like(frag.label)
        trial = list(row.cells)
        if attach and all(_merge(trial, p.cells, frag.glued_col) for p in pending):
            row.cells = trial
        else:
            rows.extend(_label_less(p, width, page, rule) for p in pending)
        rows.append(row)
        pending, rule, gap = [], False, False
        last_line = frag.line
    rows.extend(_label_less(p, width, page, rule) for p in pending)
    return _join_wrapped_headers(rows), heading


def _join_wrapped_headers(rows: list[RawRow]) -> list[RawRow]:
    """A caption with a note reference wrapped onto an indented line with nothing nested under it
    ("Cumulative Remeasurement Gain on Net Retirement   10" / "   Liability") is one caption."""
    out: list[RawRow] = []
    for k, row in enumerate(rows):
        prev = out[-1] if out else None
        nxt = rows[k + 1] if k + 1 < len(rows) else None
        if (
            prev is not None
            and not row.filled()
            and not prev.filled()
            and row.label
            and prev.label
            and not prev.label.endswith(":")
            and row.line == prev.line + 1
            and None not in (row.indent, prev.indent)
            and row.indent > prev.indent + 2
            and bool(prev.notes)
            and not row.notes
            and nxt is not None
            and nxt.filled() > 0
            and nxt.indent is not None
            and nxt.indent <= prev.indent
        ):
            prev.label = f"{prev.label} {row.label}"
            prev.notes.extend(row.notes)
            continue
        out.append(row)
    return out
