"""Page text → classified lines, the cheap view detection scores.

Input: one page's text in any engine's layout (plain, layout-preserving, or LLMWhisperer's pipe grid).
Output: `PageLines`: tidied lines (straight quotes, "-" for dashes, single spaces; `text` lower-cased),
each marked as a value row, prose, or neither, with its number in the page text; plus the statement
titles found on the page. Invariant: pure string work, linear in the page's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.detection import vocabulary as v

_GRID_RULE = re.compile(r"^[+|\-=: ]+$")
_REPLACE = (("|", " "), ("–", "-"), ("—", "-"), ("−", "-"), ("‒", "-"), ("’", "'"), ("‘", "'"), ("`", "'"))
_VALUE = re.compile(r"^\(?(?:\$|£|€|p=|₱)?\(?-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\)?%?\)?$")
_STRONG = re.compile(r"[,.()$£€=]")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_PARENTHESES = re.compile(r"\([^)]*\)?")
_RUN_ON = re.compile(r"[a-z]{19}")  # longer than English words: spaces were lost
_DASH_VALUE = frozenset({"-", "--", "—", "–"})


def tidy(text: str) -> str:
    """Straight quotes, "-" for dashes, grid pipes removed; case and line breaks kept."""
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, in the page text's own lines
    text: str
    raw: str
    values: int
    percents: int
    label: str
    is_row: bool
    is_prose: bool
    squeezed: str | None  # `text` without spaces, when they may have been lost (OCR, space-poor lines)


@dataclass(frozen=True)
class Title:
    type: str
    index: int
    text: str
    prefix: str
    continued: bool
    top: bool


@dataclass
class PageLines:
    page: int
    lines: list[Line]
    titles: list[Title] = field(default_factory=list)
    listed: frozenset[str] = frozenset()  # every statement type named by a title-like line anywhere

    @property
    def rows(self) -> int:
        return sum(line.is_row for line in self.lines)


def classify(raw: str, number: int = 1, ocr: bool = False) -> Line:
    """One tidied, single-spaced line: how many value cells it holds, how many are percentages, its label."""
    text = raw.lower()
    tokens = text.split(" ")
    values = percents = strong = 0
    label_end = len(tokens)
    for n in range(len(tokens) - 1, -1, -1):
        token = tokens[n]
        if token in ("$", "£", "€", "p=", "%"):
            percents += token == "%"
            label_end = n
            continue
        if token in _DASH_VALUE or (_VALUE.match(token) and not _YEAR.match(token)):
            values += 1
            strong += bool(_STRONG.search(token)) or token in _DASH_VALUE
            percents += token.endswith("%")
            label_end = n
            continue
        break
    # One bare small integer at a line's end is a page number or note reference, not a value cell.
    if values == 1 and not strong:
        values = 0
    label = " ".join(tokens[:label_end]) if values else text
    run_on = 8 * label.count(" ") < len(label) and _RUN_ON.search(label)  # count first: it is cheap
    squeezed = label.replace(" ", "") if ocr or run_on else None
    prose = not values and len(tokens) >= 12
    return Line(number, text, raw, values, percents, label, values > 0, prose, squeezed)


def read_page(page: int, text: str, ocr: bool = False) -> PageLines:
    """Classify every non-empty line of a page and find its statement titles; `ocr` text may have lost
    the spaces between words, so its lines are also matched without spaces."""
    lines = []
    for number, raw in enumerate(tidy(text).splitlines(), start=1):
        raw = " ".join(raw.split())
        if raw and not _GRID_RULE.match(raw):
            lines.append(classify(raw, number, ocr))
    titles, listed = find_titles(lines)
    return PageLines(page, lines, titles, frozenset(listed))


def match_title(text: str, squeeze: bool = False) -> tuple[str, str, str, bool] | None:
    """(type, title, entity prefix, continued) when the line is a statement title, not prose."""
    if len(text) > 160 or not (
        v.TITLE_HINT.search(text) or (squeeze and v.TITLE_HINT.search(text.replace(" ", "")))
    ):
        return None
    continued = bool(v.CONTINUED.search(text))
    cleaned = v.TITLE_NOISE.sub("", v.CONTINUED.sub("", text)).strip()
    found = v.TITLE_LINE.match(cleaned)
    if not found and squeeze:
        found = v.LOOSE_TITLE_LINE.match(cleaned.replace(" ", ""))
    if not found:
        return None
    rest = " ".join(_PARENTHESES.sub(" ", found["rest"]).split())  # "(In millions)" says nothing here
    if not v.TITLE_REST_OK.match(rest) or v.TITLE_REST_PROSE.search(rest):
        return None
    kind = next(v.TITLE_TYPES[name] for name, hit in found.groupdict().items() if hit and name[0] == "t")
    prefix = (found["prefix"] or "").removesuffix(" - ").strip()
    return kind, found["phrase"], prefix, continued


def find_titles(lines: list[Line]) -> tuple[list[Title], set[str]]:
    """Titles at the top of the page, or mid-page after the rows of a statement that ended above; and
    the types of every title-like line, wherever it stands (an index lists them all)."""
    titles = []
    listed = set()
    heading = 0
    rows_above = 0
    for n, line in enumerate(lines):
        if line.is_row:
            rows_above += 1
            continue
        if v.BOILERPLATE.match(line.text):
            continue
        heading += 1
        hit = match_title(line.text, line.squeezed is not None)
        if hit is None and line.text.endswith((" of", " statements", " statement")) and n + 1 < len(lines):
            hit = match_title(f"{line.text} {lines[n + 1].text}", line.squeezed is not None)
        if hit is None:
            continue
        listed.add(hit[0])
        top = rows_above == 0 and heading <= 6
        if top or rows_above >= 2:
            titles.append(Title(hit[0], n, hit[1], hit[2], hit[3], top))
    return titles, listed
