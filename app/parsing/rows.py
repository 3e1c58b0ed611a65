"""Raw rows → statement `Item`s: values, kinds, levels, sections, value kinds, footnotes, provenance.

Input: `RawRow`s of one statement (all pages, in order), the columns, the statement type and the
page texts (for boxes and confidences). Output: `list[Item]`.
Invariants: values are `Decimal`s exactly as printed (dash → 0, blank → None, text → None); a row
without values is a header (or a plain line when it only points to a note); a label-less row with
values is a total with label ""; footnote markers leave the label for `footnotes`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from app.extraction.source import PageText
from app.parsing.header import find_date
from app.parsing.numbers import read_value, split_footnotes
from app.parsing.table import RawRow
from app.statements.format import Column, Item, Source

_TOTAL_RE = re.compile(
    r"^(?:tota[il1]\b|net (?:income|loss|profit|earnings)\b.*\bbefore\b.*\btax|"
    r"gross (?:profit|margin|loss)|(?:income|loss|profit)(?: \(loss\))? from operations|"
    r"operating (?:income|profit|loss)\b|"
    r"(?:income|loss|profit|earnings)\b.*\bbefore\b.*\btax|net cash\b|net change\b|"
    r"net (?:increase|decrease)\b.*\bcash\b|"
    r"(?:change|increase|decrease) in cash|cash and cash equivalents,? (?:at )?end|"
    r"cash balance,? (?:at )?end|"
    r"net (?:income|loss|earnings|profit)(?: \(loss\))?(?: for the (?:year|period))?$|balances?\b|"
    r"(?:loss|profit)(?:/(?:loss|profit))? for the (?:year|period)$|"
    r"net (?:income|loss|earnings)(?: \(loss\))? "
    r"(?:including non-?controlling|attributable to (?!non-?controlling))|"
    r"comprehensive (?:income|loss)(?: \(loss\))?"
    r"(?: attributable to (?!non-?controlling).*)?$|"
    r"other comprehensive (?:income|loss)(?: \(loss\))?,? (?:before tax|net)$|"
    r"balance at|total comprehensive|net interest (?:income|revenue)\b|"
    r"pre-?tax (?:income|loss|profit|earnings)\b|net (?:current )?(?:assets|liabilities)$)",
    re.IGNORECASE,
)
# IFRS (IAS 1) groups OCI under "Items that may (not) be reclassified ..."; "Other comprehensive loss,
# net of tax" closing such a group sums its items.
_OCI_TOTAL_RE = re.compile(
    r"^other comprehensive (?:income|loss)(?:[ /](?:income|loss))?,? net of tax$", re.I
)
_IFRS_OCI_GROUP_RE = re.compile(r"^items that (?:may|will|will not|may not) ", re.I)
# "Totai"/"Tota1": OCR misreads of "Total"; "Shareholders' equity, ending": a closing balance.
_BALANCE_RE = re.compile(r"^balances?\b", re.IGNORECASE)
_MATRIX_TOTAL_RE = re.compile(
    r"^(?:tota[il1]\b|balances?\b|balance at)|,? ending(?: balance)?$|^ending balance", re.IGNORECASE
)
_SHARES_RE = re.compile(
    r"^(?:weighted[- ]average|average (?:number of )?(?:common |ordinary )?shares|shares used|"
    r"number of (?:ordinary |common )?shares|(?:basic |diluted )?(?:weighted )?(?:common |ordinary )?"
    r"shares outstanding)",
    re.IGNORECASE,
)
_PER_SHARE_RE = re.compile(r"\bper (?:common |ordinary |basic |diluted )?share\b|\beps\b", re.IGNORECASE)
_BASIC_RE = re.compile(r"^(?:basic|diluted)\b", re.IGNORECASE)
_ROW_UNIT_RE = re.compile(r"\(000['’]?s\)|\b(?:in )?(thousands|millions|billions)\b", re.IGNORECASE)
_LETTER_SPACED_RE = re.compile(r"(?:[A-Z] ){2,}[A-Z]")
_NOTE_LINE_RE = re.compile(r"\bsee note\b|\bnote \d+\b|commitments and contingencies", re.IGNORECASE)


def _levels(rows: list[RawRow]) -> dict[int, int]:
    """Indent (characters) → nesting level, merging indents within two characters."""
    indents = sorted({r.indent for r in rows if r.indent is not None and r.label})
    levels: dict[int, int] = {}
    level, last = -1, None
    for indent in indents:
        if last is None or indent - last > 2:
            level += 1
        levels[indent], last = level, indent
    return levels


def _value_kind(label: str, section: str | None, percent: bool, matrix: bool) -> str:
    if percent:
        return "percent"
    if matrix:
        return "monetary"
    sec = section or ""
    if _SHARES_RE.search(label) or (_BASIC_RE.search(label) and re.search(r"shares|weighted", sec, re.I)):
        return "shares"
    if "$" not in label and (
        _PER_SHARE_RE.search(label) or (_BASIC_RE.search(label) and _PER_SHARE_RE.search(sec))
    ):
        return "per_share"
    return "monetary"


def _row_unit(label: str, section: str | None) -> str | None:
    """A unit stated on the row or its header ("Shares used in calculation (000's)")."""
    for text in (label, section or ""):
        match = _ROW_UNIT_RE.search(text)
        if match:
            return (match.group(1) or "thousands").lower()
    return None


def _source(row: RawRow, pages: dict[int, PageText]) -> tuple[Source, float | None]:
    page = pages.get(row.page)
    box = conf = None
    if page is not None and page.line_boxes and row.line - 1 < len(page.line_boxes):
        box = page.line_boxes[row.line - 1]
    if page is not None and page.line_confidence and row.line - 1 < len(page.line_confidence):
        conf = page.line_confidence[row.line - 1]
    return Source(page=row.page, line=row.line, bbox=box), conf


def _read(cells: list[str | None]) -> tuple[list[Decimal | None], bool]:
    values: list[Decimal | None] = []
    percent = False
    for cell in cells:
        reading = read_value(cell) if cell else None
        values.append(reading.value if reading is not None else None)
        percent = percent or (reading is not None and reading.kind == "percent")
    return values, percent


def _named_total(label: str, section: str | None, roll_forward: bool) -> bool:
    """A total by its caption. An equity statement's totals are its "Total"/"Balance" rows, in
    either layout: its "Net income" is a movement of the roll-forward."""
    pattern = _MATRIX_TOTAL_RE if roll_forward else _TOTAL_RE
    bare = label.replace("(", "").replace(")", "")  # "(Loss)/profit before tax"
    if pattern.search(label) or pattern.search(bare):
        return True
    return bool(_IFRS_OCI_GROUP_RE.match(section or "")) and bool(_OCI_TOTAL_RE.match(bare))


def build_items(
    rows: list[RawRow],
    columns: list[Column],
    pages: dict[int, PageText],
    matrix: bool,
    equity: bool = False,
    balance_sheet: bool = False,
) -> list[Item]:
    levels = _levels(rows)
    items: list[Item] = []
    section: str | None = None
    headers: set[str] = set()
    prev_dollar: bool | None = None
    for row in rows:
        label, footnotes = split_footnotes(row.label)
        if _LETTER_SPACED_RE.fullmatch(label):
            label = label.replace(" ", "")  # a letter-spaced caption: "T O T A L"
        values, percent = _read(row.cells)
        source, confidence = _source(row, pages)
        level = levels.get(row.indent, 0) if row.indent is not None else (1 if section else 0)
        if all(v is None for v in values):
            kind = "line" if _NOTE_LINE_RE.search(label) else "header"
            if kind == "header":
                section, prev_dollar = label.rstrip(": "), None
                headers.add(section.lower())
                level = level if row.indent is not None else 0
        else:
            closes = label.rstrip(": ").lower() in headers and bool(label)
            dollar_total = row.dollar and prev_dollar is False
            first = not any(item.kind != "header" for item in items)
            named_total = _named_total(label, section, matrix or equity) and not first
            total = not label or row.rule_above or closes or dollar_total or named_total
            kind = "total" if total else "line"
            prev_dollar = row.dollar
        items.append(
            Item(
                label=label,
                level=level,
                kind=kind,
                value_kind="monetary" if kind == "header" else _value_kind(label, section, percent, matrix),
                section=section if kind != "header" else None,
                values=values,
                source=source,
                notes=row.notes or None,
                footnotes=footnotes or None,
                confidence=confidence,
                unit=_row_unit(label, section if kind != "header" else None),
            )
        )
        if kind == "total":
            section = None
    return _carried_lines(items, matrix or equity, balance_sheet)


def _opens_block(items: list[Item], k: int) -> bool:
    """An equity roll-forward's opening balance of a new block: right after the closing balance of
    the block above it, or dated before that closing balance (an earlier year printed below)."""
    above = [i for i in items[:k] if i.kind != "header"]
    balances = [i for i in above if _BALANCE_RE.match(i.label)]
    if not balances:
        return False
    if balances[-1] is above[-1]:
        return True
    previous, current = find_date(balances[-1].label), find_date(items[k].label)
    return None not in (*previous, *current) and current < previous


def _carried_lines(items: list[Item], roll_forward: bool, balance_sheet: bool) -> list[Item]:
    """Totals that are really carried amounts become lines: an opening "Balance at 1 January" that
    starts a group (nothing above it to sum) or a new block of an equity roll-forward, and a total
    restated later with the same caption and values ("Increase in cash" repeated in the analysis of
    cash below the statement), except in a balance sheet, whose two sides close on equal totals
    that may share a bare caption ("TOTAL")."""
    seen: set[tuple] = set()
    for k, item in enumerate(items):
        if item.kind != "total" or not item.label:
            continue
        key = (item.label.lower(), tuple(item.values))
        opening = _BALANCE_RE.match(item.label) and k > 0 and items[k - 1].kind == "header"
        opening = opening or (roll_forward and _BALANCE_RE.match(item.label) and _opens_block(items, k))
        if opening or (key in seen and not balance_sheet):
            item.kind = "line"
        seen.add(key)
    return items
