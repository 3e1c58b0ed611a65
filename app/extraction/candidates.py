"""Which pages may hold a primary financial statement: a cheap test on plain page text.

Input: the plain text of every page (PDFium's, in page order) and which pages have no usable text
layer. Output: the 1-based candidate pages, ascending. Invariants: generous by design, since a false
positive costs one page of layout text and a miss loses a statement. A page is a candidate when a
short line reads like a statement title, when it has no text layer, or when it directly follows a
titled page and is full of figures (a statement continued without its title).
"""

from __future__ import annotations

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


def figure_count(text: str) -> int:
    return sum(1 for match in _FIGURE.finditer(text) if len(match.group().strip("()$")) >= 1)


def candidate_pages(texts: list[str], no_text_layer: set[int]) -> list[int]:
    """1-based pages that may hold a primary statement (see the module docstring)."""
    titled = {n for n, text in enumerate(texts, start=1) if has_title(text)}
    continued = {n + 1 for n in titled if n < len(texts) and figure_count(texts[n]) >= CONTINUATION_FIGURES}
    return sorted(titled | continued | set(no_text_layer))
