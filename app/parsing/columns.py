"""Column headers of layout text: which lines are headers and which column each text sits over.

Input: `Line`s of one page, the value `Zone`s and the label margin. Output: the header block's line
range and, per column, its header texts stacked top to bottom (heading text found beside them is
collected separately). Invariants: a period phrase printed once over several columns ("Year
Ended", "Three Months Ended October 31,") applies to the columns under it; a group header ("Common
Stock") spans the headers printed under it; a bare year belongs to one column only.
"""

from __future__ import annotations

import re

from app.parsing.numbers import is_year
from app.parsing.table import is_furniture
from app.parsing.tokens import Line, Token, Zone, nearest, words

HEADING_RE = re.compile(
    r"consolidated|statements? of|balance sheets?|financial position|income statement|"
    r"corporation|\binc\b|\bplc\b|limited|subsidiaries|table of contents|\(continued\)",
    re.IGNORECASE,
)
UNIT_RE = re.compile(
    r"^\(?\s*(?:[a-z$£€ ]*in\s*)?(?:millions|thousands|billions)\b|^\(?\s*[$£€]\s*m\)?$", re.I
)
NOTE_HEADER_RE = re.compile(r"^notes?$", re.IGNORECASE)
# An audit-status remark printed over the columns belongs to the heading, not to one column.
_REMARK_RE = re.compile(r"^\(?(?:un)?audited\)?$", re.IGNORECASE)
_SPAN_RE = re.compile(r"\b(?:years?|months?|weeks?|ended|ending|quarters?|period|as of|at)\b", re.IGNORECASE)
_MONTH_DAY_RE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?", re.IGNORECASE
)
_CHUNK_RE = re.compile(r"\S+(?: \S+)*")
_YEARS_RE = re.compile(r"\b(?:19|20)\d\d\b")
_GROUPS = frozenset(
    {"common stock", "preferred stock", "treasury stock", "common shares", "ordinary shares", "capital stock"}
)
# Words of a component column's own header; a group header over several components has none.
_COMPONENT_WORD_RE = re.compile(
    r"\b(?:stock|capital|paid|earnings|reserves?|comprehensive|shares|income|loss|deficit|treasury|"
    r"amount|total|premium|outstanding|accumulated|additional|retained)\b",
    re.IGNORECASE,
)
_SUB_WORDS = frozenset({"shares", "amount"})
_SUB_RE = re.compile(r"^(?:shares|amount|number of shares|par value)\b", re.IGNORECASE)
_PHRASES = frozenset(
    {
        "common stock",
        "preferred stock",
        "treasury stock",
        "capital stock",
        "share capital",
        "paid-in capital",
        "retained earnings",
        "accumulated other",
        "other comprehensive",
        "comprehensive income",
        "noncontrolling interests",
        "non-controlling interests",
        "additional paid-in",
        "additional paid",
        "treasury shares",
        "ordinary shares",
        "total equity",
        "share premium",
        "par value",
    }
)


def split_chunks(raw: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _CHUNK_RE.finditer(raw)]


def header_chunks(line: Line, zones: list[Zone], margin: int) -> list[tuple[int, int, str]] | None:
    """The chunks of a column-header line, without a unit or stray folio beside them; else None."""
    if line.blank or (line.values and not line.years_only and not line.dashes_only):
        return None
    chunks = split_chunks(line.raw)
    chunks = [c for c in chunks if not (UNIT_RE.search(c[2]) or _REMARK_RE.match(c[2]))]
    chunks = [c for c in chunks if not (NOTE_HEADER_RE.match(c[2]) and c[1] < zones[0].lo - 2)]
    while chunks and chunks[0][0] <= margin and is_furniture(chunks[0][2]):
        chunks = chunks[1:]
    if not chunks or any(HEADING_RE.search(c[2]) or len(_YEARS_RE.findall(c[2])) > 1 for c in chunks):
        return None
    if line.years_only:
        return [c for c in chunks if c[0] > margin] or None
    if all(c[0] > margin and c[1] >= zones[0].lo - 4 for c in chunks):
        return chunks
    return None


def header_block(lines: list[Line], first: int, zones: list[Zone], margin: int) -> tuple[int, int]:
    """(start, end) of the column-header lines above the first data line; (first, first) if none."""
    i = first - 1
    while i >= 0 and header_chunks(lines[i], zones, margin) is None:
        if HEADING_RE.search(lines[i].raw):
            return first, first
        i -= 1
    if i < 0:
        return first, first
    end = i + 1
    while i >= 0 and (lines[i].blank or header_chunks(lines[i], zones, margin) is not None):
        i -= 1
    return i + 1, end


def _pieces(raw: str, zones: list[Zone]) -> list[tuple[int, int, str, list[int]]]:
    """Header words grouped per column; known phrases ("Common Stock") may span several columns."""
    groups: list[list[Token]] = []
    for word in words(raw):
        col = nearest(zones, word.start, word.end)
        if groups:
            prev = groups[-1][-1]
            joined = f"{prev.text} {word.text}".lower()
            same = nearest(zones, prev.start, prev.end) == col and word.start - prev.end < 2
            # "Amount" is a whole sub-header; a word past its column's edge starts the next header.
            lone_sub = len(groups[-1]) == 1 and prev.text.lower() in _SUB_WORDS
            same = same and not (lone_sub and (word.start + word.end) / 2 > zones[col].hi)
            if same or (joined in _PHRASES and word.start - prev.end < 2):
                groups[-1].append(word)
                continue
        groups.append([word])
    out = []
    for group in groups:
        lo, hi = group[0].start, group[-1].end
        cols = [k for k, z in enumerate(zones) if lo - 2 <= z.center <= hi + 2]
        if len(cols) > 1 and len(group) == 2 and " ".join(w.text for w in group).lower() not in _GROUPS:
            cols = [_closest(zones, lo, hi)]  # "Par Value" heads one column, not the narrow one beside it
        out.append((lo, hi, " ".join(w.text for w in group), cols or [nearest(zones, lo, hi)]))
    return out


def _closest(zones: list[Zone], start: int, end: int) -> int:
    """The column a header sits over: centred over it or right-aligned with its numbers."""
    center = (start + end) / 2
    return min(range(len(zones)), key=lambda k: min(abs(zones[k].center - center), abs(zones[k].hi - end)))


Piece = tuple[int, int, str, list[int]]


def _centred_span(
    text: str, start: int, end: int, zones: list[Zone], below: list[Piece], beside: list[tuple[int, int]]
) -> list[int] | None:
    """A wide group header ("Boeing shareholders", "Attributable to equity holders of the Company")
    sits over headers of several columns and is centred over the columns it spans: the widest run of
    columns (three or more) whose middle is within three characters of its middle. It has its line to
    itself over those columns: headers printed beside it ("Share   Merger Share-based   Translation",
    squeezed by the text layer) are headers of columns it cannot span."""
    over = {k for lo, hi, _, cols in below if lo < end and hi > start for k in cols}
    if len(over) < 2 or _COMPONENT_WORD_RE.search(text):
        return None
    middle = (start + end) / 2
    runs = [
        (a, b)
        for a in range(len(zones))
        for b in range(a + 2, len(zones))
        if zones[a].lo <= start + 2
        and zones[b].hi >= end - 2
        and abs((zones[a].lo + zones[b].hi) / 2 - middle) <= 3
        and not any(zones[a].lo - 2 <= (lo + hi) / 2 <= zones[b].hi + 2 for lo, hi in beside)
    ]
    if not runs:
        return None
    a, b = max(runs, key=lambda r: r[1] - r[0])
    return list(range(a, b + 1)) if over <= set(range(a, b + 1)) else None


def _spans(text: str) -> bool:
    """A period phrase printed once over several columns ("Year Ended", "December 31")."""
    return bool(_SPAN_RE.search(text) or _MONTH_DAY_RE.fullmatch(text.strip()))


def _line_pieces(
    line: Line, zones: list[Zone], heading: list[str], below: list[Piece], margin: int
) -> list[Piece]:
    """Header texts of one line with the columns each sits over."""
    chunks = split_chunks(line.raw)
    kept = header_chunks(line, zones, margin) or []
    inside = [c for c in kept if not (NOTE_HEADER_RE.match(c[2]) and c[1] < zones[0].lo - 2)]
    heading.extend(
        c[2] for c in chunks if c not in kept and not is_furniture(c[2]) and c[2] not in ("Note", "Notes")
    )
    joined = " ".join(c[2] for c in inside)
    split_day = any(c[2].isdigit() for c in inside)
    one_phrase = sum(1 for c in inside if _spans(c[2])) <= 1 and not any(is_year(c[2]) for c in inside)
    if inside and (len(inside) < len(zones) or split_day) and _spans(joined) and one_phrase:
        inside = [(inside[0][0], inside[-1][1], joined)]
    if len(inside) < len(zones) and inside and all(_spans(c[2]) for c in inside):
        near = [min(inside, key=lambda c, z=z: abs((c[0] + c[1]) / 2 - z.center)) for z in zones]
        return [(c[0], c[1], c[2], [k for k in range(len(zones)) if near[k] == c]) for c in inside]
    out: list[Piece] = []
    for start, end, text in inside:
        hit = [k for k, z in enumerate(zones) if start < z.hi + 1 and end > z.lo - 1]
        # Headers squeezed together by OCR ("Additional Treasury") split word by word; a phrase with
        # more words than the columns it crosses is one header over all of them.
        wide = None
        if len(text.split()) > 1 and text.lower() not in _GROUPS:
            others = [(lo, hi) for lo, hi, _ in inside if (lo, hi) != (start, end)]
            wide = _centred_span(text, start, end, zones, below, others)
        if wide:
            out.append((start, end, text, wide))
            continue
        if len(hit) > 1 and len(text.split()) <= len(hit) + 1 and text.lower() not in _GROUPS:
            out += _pieces(" " * start + text, zones)
            continue
        # A group header ("Common Stock") spans the headers printed under it.
        under = {k for lo, hi, _, cols in below if start - 2 <= (lo + hi) / 2 <= end + 2 for k in cols}
        if text.lower() in _GROUPS:
            reach = max(2, (end - start) // 2)
            under |= {
                k
                for lo, hi, sub, cols in below
                if _SUB_RE.match(sub) and start - reach <= (lo + hi) / 2 <= end + reach
                for k in cols
            }
        fallback = hit if len(hit) > 1 else [hit[0] if hit else _closest(zones, start, end)]
        cols = sorted(under) if len(under) > 1 else fallback
        out.append((start, end, text, cols))
    return out


def column_headers(lines: list[Line], zones: list[Zone], heading: list[str], margin: int) -> list[list[str]]:
    """Stacked header texts per column, read bottom-up so group headers see what they span."""
    stacks: list[list[str]] = [[] for _ in zones]
    below: list[Piece] = []
    beside: list[list[str]] = []
    for line in reversed(lines):
        found: list[str] = []
        pieces = _line_pieces(line, zones, found, below, margin)
        beside.insert(0, found)
        for k in range(len(zones)):
            stacks[k][:0] = [text for _, _, text, cols in pieces if k in cols]
        below = pieces + below
    heading.extend(text for found in beside for text in found)
    return stacks
