"""The intermediate table both text readers produce and the row builder consumes.

Input: nothing (plain data). Output: `Table` (heading text, stacked header texts per value column,
raw rows) and `RawRow` (label, indentation, one raw cell text per value column, note references).
Invariants: every row has exactly one cell per value column (None when blank); line numbers are
1-based within their page; cells hold the text as printed, not yet converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FURNITURE_RE = re.compile(
    r"^(?:table of contents|index to (?:consolidated )?financial statements|"
    r"see\s*(?:the\s*)?accompanying\s*notes.*|(?:the )?accompanying notes .*|see notes to .*|"
    r"the above .*\bshould be read\b.*|conjunction with the accompanying notes.*|notes\.|"
    r"(?:page\s*)?-?\s*[a-z]?-?\d{1,3}\s*-?|\(continued\)|continued)$",
    re.IGNORECASE,
)


@dataclass
class RawRow:
    page: int
    line: int
    label: str
    cells: list[str | None]
    indent: int | None = None
    notes: list[str] = field(default_factory=list)
    rule_above: bool = False
    dollar: bool = False

    def filled(self) -> int:
        return sum(cell is not None for cell in self.cells)


@dataclass
class Table:
    page: int
    mode: str
    heading: list[str]
    headers: list[list[str]]
    rows: list[RawRow]
    has_notes: bool = False
    zones: list | None = None

    @property
    def width(self) -> int:
        return len(self.headers)


def is_furniture(text: str) -> bool:
    """Page furniture: "Table of Contents", folios ("39", "F-5", "Page 7"), "See accompanying notes"."""
    return bool(_FURNITURE_RE.match(" ".join(text.split())))


def page_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\f", "\n").split("\n")
