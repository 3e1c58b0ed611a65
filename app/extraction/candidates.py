"""Which pages may hold a primary financial statement: a cheap test on plain page text.

Input: the plain text of every page (PDFium's, in page order) and which pages have no usable text
layer. Output: the 1-based candidate pages, ascending. Invariants: generous by design, since a false
positive costs one page of layout text and a miss loses a statement. A page is a candidate when a
short line reads like a statement title, or when it directly follows a titled page and is full of
figures (a statement continued without its title). Pages without a text layer are judged by the lines
OCR read in their title band (`ocr_titles`): a page whose band holds a title is a candidate, and so is
the page after it, unread; when no title is found anywhere in the document, every page without a text
layer is a candidate, as before the band pass existed.

OCR glues words ("STATEMENTOFFINANCIALPOSITION"), so band lines are tested with the spaces taken out;
since an extra scanned page costs seconds of OCR, a band line must read like a title and not like
prose that names a statement ("disclosed in the statement of profit or loss as follows").
"""

from __future__ import annotations

import itertools
import re
import unicodedata

_OWNERS = r"(?:(?:stock|share|unit ?)holders?|share ?owners?|members?|partners?)'?s?'? ?"
_TITLE = re.compile(
    r"statements? of (?:consolidated |condensed |combined )*(?:"
    r"operations|income|earnings|(?:net )?(?:income|loss|earnings)|comprehensive (?:income|loss|earnings)"
    r"|cash ?flows?|financial (?:position|condition)|(?:changes in )?"
    + _OWNERS
    + r"(?:equity|deficit|investment)"
    r"|changes in (?:net assets|equity|net worth)|equity|profit (?:or|and|&) loss|revenues? and expenses"
    r"|(?:operations|income|earnings) and comprehensive)"
    r"|balance sheets?|income statements?|cash ?flows? statements?|profit (?:and|or|&) loss account"
)
# Bare phrases that are titles only on a short line without figures (else they are rows or prose).
_SHORT_TITLE = re.compile(
    r"^(?:consolidated |condensed )*(?:" + _OWNERS + r"(?:equity|deficit)|changes in equity)"
)
# The same patterns for text whose spaces OCR dropped: letters (and ' &) only.
_GLUED_TITLE = re.compile(_TITLE.pattern.replace(" ?", "").replace(" ", ""))
_GLUED_SHORT_TITLE = re.compile(_SHORT_TITLE.pattern.replace(" ?", "").replace(" ", ""))
# What may precede a title on its line unless the line is in capitals: "Consolidated and separate ...".
_QUALIFIERS = re.compile(
    r"(?:consolidated|condensed|combined|separate|interim|unaudited|audited|group|company|companys"
    r"|parent|and|&|the(?=group|company)|'s?)*"
)
GLUED_TITLE_LETTERS = 90
_FIGURE = re.compile(r"\(?\$?\d[\d,]*(?:\.\d+)?\)?")
TITLE_LINE_CHARS = 120
CONTINUATION_FIGURES = 12


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'").replace("‘", "'").replace("`", "'")


def has_title(text: str) -> bool:
    """True when a short line of the page reads like a primary statement's title."""
    for raw in normalize(text).splitlines():
        line = " ".join(raw.split())
        if not line or len(line) > TITLE_LINE_CHARS:
            continue
        if _TITLE.search(line):
            return True
        if len(line) <= 60 and not any(ch.isdigit() for ch in line) and _SHORT_TITLE.search(line):
            return True
    return False


def _capitals(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.7 * len(letters)


def is_scan_title(line: str) -> bool:
    """True when one OCR'd band line (or two joined) reads like a statement title, spaces or none."""
    glued = re.sub(r"[^a-z&']", "", normalize(line))
    if not glued or len(glued) > GLUED_TITLE_LETTERS:
        return False
    match = _GLUED_TITLE.search(glued)
    if match is None and len(glued) <= 50 and not any(ch.isdigit() for ch in line):
        match = _GLUED_SHORT_TITLE.match(glued)
    if match is None:
        return False
    return _capitals(line) or _QUALIFIERS.fullmatch(glued[: match.start()]) is not None


def has_scan_title(lines: list[str]) -> bool:
    """True when a band line, or two consecutive band lines (a wrapped title), read like a title."""
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(lines)]
    return any(is_scan_title(line) for line in [*lines, *pairs])


def figure_count(text: str) -> int:
    return sum(1 for match in _FIGURE.finditer(text) if len(match.group().strip("()$")) >= 1)


def candidate_pages(
    texts: list[str], no_text_layer: set[int], scan_titled: set[int] | None = None
) -> list[int]:
    """1-based pages that may hold a primary statement (see the module docstring).

    `scan_titled`: the pages without a text layer whose title band reads like a title; None when the
    band pass did not run, which makes every page without a text layer a candidate.
    """
    titled = {n for n, text in enumerate(texts, start=1) if has_title(text)}
    if scan_titled is None or not (titled or scan_titled):
        return sorted(titled | _continued(texts, titled, no_text_layer) | set(no_text_layer))
    titled |= scan_titled
    return sorted(titled | _continued(texts, titled, no_text_layer))


def _continued(texts: list[str], titled: set[int], no_text_layer: set[int]) -> set[int]:
    """The page after each titled page, when it is scanned (unread) or full of figures."""
    return {
        n + 1
        for n in titled
        if n < len(texts) and (n + 1 in no_text_layer or figure_count(texts[n]) >= CONTINUATION_FIGURES)
    }
