"""Lines of layout text → label words, value tokens and the value columns they sit in.

Input: raw lines of one page as printed with aligned columns. Output: `Line`s (label words and value
tokens with character positions), `Zone`s (value columns found by clustering number right edges) and
the assignment of a line's tokens to zones. Invariants: values start after a gap of two or more
spaces (a number glued to words is label text); a currency sign and a lone "%" join their number;
token order is kept when tokens are assigned to columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from app.parsing.numbers import is_currency_mark, is_footnote, is_note_ref, is_value, is_year, read_value

_WORD_RE = re.compile(r"\S+")
_DATE_WORDS = frozenset({"ended", "ending", "ended,"})
_MONTH_END_RE = re.compile(r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    core_start: int = -1

    @cached_property
    def anchor(self) -> int:
        return self.end - (len(self.text) - len(self.text.rstrip(")%")))


@dataclass
class Line:
    number: int
    raw: str
    label: list[Token] = field(default_factory=list)
    values: list[Token] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.raw.strip()

    @property
    def label_text(self) -> str:
        return " ".join(t.text for t in self.label)

    @property
    def dashes_only(self) -> bool:
        return all(read_value(t.text).kind == "dash" for t in self.values)

    @property
    def years_only(self) -> bool:
        """Values that are a header's dates: years, or the day after a month ("December   31")."""
        values = [t.text for t in self.values]
        last = self.label[-1].text.lower() if self.label else ""
        if _MONTH_END_RE.search(last) or last in _DATE_WORDS:
            values = [v for v in values if not (v.isdigit() and 1 <= int(v) <= 31)]
        return bool(self.values) and all(is_year(v) for v in values)


@dataclass(frozen=True)
class Zone:
    lo: int
    hi: int

    @property
    def center(self) -> float:
        return (self.lo + self.hi) / 2


def words(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group(), m.start()) for m in _WORD_RE.finditer(text)]


def _merge_marks(tokens: list[Token]) -> list[Token]:
    """Join a currency sign to its number ("$   1,234") and a lone "%" to the number before it."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if is_currency_mark(tok.text) and nxt is not None and is_value(tok.text + nxt.text):
            out.append(Token(tok.start, nxt.end, f"{tok.text} {nxt.text}", nxt.start))
            i += 2
            continue
        # A "%" set a column apart ("2022      %") heads a column of its own.
        if (
            tok.text in {"%", ")%"}
            and out
            and tok.start - out[-1].end <= 1
            and is_value(out[-1].text + tok.text)
        ):
            last = out.pop()
            tok = Token(last.start, tok.end, last.text + tok.text, last.core_start)
        out.append(tok)
        i += 1
    return out


def _own_cell(tok: Token) -> bool:
    """A currency sign set apart from its number ("Shareholders $        444") starts a value cell,
    however close it sits to the label."""
    mark = tok.text.split(" ")[0]
    return tok.core_start > tok.start and tok.core_start - (tok.start + len(mark)) >= 2


def split_line(number: int, raw: str, note_zone: Zone | None = None) -> tuple[Line, list[str]]:
    """Split a line into label words and value tokens; values start after a gap of 2+ spaces."""
    tokens = words(raw)
    notes: list[str] = []
    if note_zone is not None:
        inside = [t for t in tokens if t.start >= note_zone.lo - 3 and t.end <= note_zone.hi + 4]
        if inside and is_note_ref(" ".join(t.text for t in inside)):
            notes = [n.strip() for n in re.split(r"[,&]", " ".join(t.text for t in inside)) if n.strip()]
            tokens = [t for t in tokens if t not in inside]
    tokens = _merge_marks(tokens)
    for i, tok in enumerate(tokens):
        if not is_value(tok.text) or (i > 0 and tok.start - tokens[i - 1].end < 2 and not _own_cell(tok)):
            continue
        rest = tokens[i:]
        if all(is_value(t.text) or is_footnote(t.text) for t in rest):
            return Line(number, raw, tokens[:i], rest), notes
    return Line(number, raw, tokens, []), notes


def find_zones(lines: list[Line], margin: int = -1) -> list[Zone]:
    """Value columns: clusters of number right edges over all data lines, right of the label margin."""
    toks = sorted(
        ((t, n) for n, line in enumerate(lines) for t in line.values if t.start > margin),
        key=lambda p: p[0].anchor,
    )
    groups: list[list[tuple[Token, int]]] = []
    for tok, n in toks:
        if groups and tok.anchor - groups[-1][-1][0].anchor <= 3:
            groups[-1].append((tok, n))
        else:
            groups.append([(tok, n)])
    if not groups:
        return []
    groups = _merge_strays(_merge_dashes(groups))
    biggest = max(len(g) for g in groups)
    kept = [g for g in groups if len(g) >= 2 or biggest < 3]
    return [Zone(min(t.core_start for t, _ in g), max(t.end for t, _ in g)) for g in kept]


def _merge_dashes(groups: list[list[tuple[Token, int]]]) -> list[list[tuple[Token, int]]]:
    """Dashes are often centred in a column whose numbers are right-aligned: they join that column."""
    numeric = [g for g in groups if any(read_value(t.text).kind != "dash" for t, _ in g)]
    out = [list(g) for g in numeric]
    for group in groups:
        if group in numeric:
            continue
        anchor = group[0][0].anchor
        home = [
            g for g in out if min(t.core_start for t, _ in g) - 2 <= anchor <= max(t.end for t, _ in g) + 2
        ]
        if home:
            home[0].extend(group)
        else:
            out.append(list(group))
    return sorted(out, key=lambda g: min(t.anchor for t, _ in g))


def _merge_strays(groups: list[list[tuple[Token, int]]]) -> list[list[tuple[Token, int]]]:
    """A few numbers printed a little off their column join it when no line has both."""
    biggest = max(len(g) for g in groups)
    k = 0
    while k < len(groups):
        small = groups[k]
        if len(small) * 4 < biggest:
            for j in (k + 1, k - 1):
                if 0 <= j < len(groups) and len(groups[j]) * 4 >= biggest:
                    gap = abs(groups[j][0][0].anchor - small[0][0].anchor)
                    if gap <= 8 and not {n for _, n in small} & {n for _, n in groups[j]}:
                        groups[j] = sorted(groups[j] + small, key=lambda p: p[0].anchor)
                        del groups[k]
                        k -= 1
                        break
        k += 1
    return groups


def nearest(zones: list[Zone], lo: float, hi: float) -> int:
    center = (lo + hi) / 2
    return min(range(len(zones)), key=lambda k: abs(zones[k].center - center))


def assign(tokens: list[Token], zones: list[Zone]) -> dict[int, Token]:
    """Order-preserving assignment of tokens to columns, minimising distance of right edges."""
    n, m = len(tokens), len(zones)
    if n > m:
        tokens = tokens[n - m :]
        n = m
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    cost[0] = [0.0] * (m + 1)
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            here = cost[i - 1][j - 1] + abs(zones[j - 1].hi - tokens[i - 1].anchor)
            cost[i][j] = min(cost[i][j - 1], here)
    out: dict[int, Token] = {}
    i, j = n, m
    while i > 0:
        if cost[i][j] == cost[i][j - 1] and j > i:
            j -= 1
            continue
        out[j - 1] = tokens[i - 1]
        i, j = i - 1, j - 1
    return out
