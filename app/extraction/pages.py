"""Page selections as people type them: `"39-44, 50"` in, sorted 1-based page numbers out.

Input: the `pages` form field of an upload, `tieout extract --pages`, LLMWhisperer's
`pages_to_extract`. Output: a sorted list of unique page numbers, and the reverse
(`format_page_spec`; `describe_pages` for messages). Invariants: only ASCII digits are read (so `²`
or a 5,000-digit number is a clear error, never a crash), and a selection never holds more than
`MAX_SELECTED_PAGES` pages, so `1-999999999` is refused before any set is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_SELECTED_PAGES = 2000
MAX_PAGE_DIGITS = 7
_RANGE = re.compile(r"(\d+)(?:-(\d+))?", re.ASCII)
EXAMPLE = "39-44,50"


class PageSpecError(ValueError):
    """A page selection that cannot be read; the message is one sentence for the caller."""


def parse_page_spec(spec: str) -> list[int]:
    """`"39-44, 50"` → `[39, 40, 41, 42, 43, 44, 50]`; blank → `[]` (no selection)."""
    pages: set[int] = set()
    for part in re.sub(r"\s+", "", spec).split(","):
        if not part:
            continue
        match = _RANGE.fullmatch(part)
        if match is None:
            raise PageSpecError(f"Cannot read the page range {_shown(part)}; use e.g. {EXAMPLE}.")
        if any(len(number) > MAX_PAGE_DIGITS for number in match.groups() if number):
            raise PageSpecError(f"{_shown(part)} is not a valid page range: the page number is too large.")
        low = int(match[1])
        high = int(match[2]) if match[2] else low
        if low < 1:
            raise PageSpecError(f"{_shown(part)} is not a valid page range: pages are numbered from 1.")
        if high < low:
            raise PageSpecError(f"{_shown(part)} is not a valid page range: it runs backwards.")
        if high - low + 1 > MAX_SELECTED_PAGES:
            raise PageSpecError(
                f"At most {MAX_SELECTED_PAGES} pages can be selected; {_shown(part)} has more."
            )
        pages.update(range(low, high + 1))
        if len(pages) > MAX_SELECTED_PAGES:
            raise PageSpecError(f"At most {MAX_SELECTED_PAGES} pages can be selected.")
    return sorted(pages)


def _shown(part: str) -> str:
    """The part as typed, quoted, cut short so a 5,000-digit number does not fill the message."""
    return repr(part if len(part) <= 24 else part[:20] + "...")


def format_page_spec(pages: Iterable[int]) -> str:
    """`[7, 1, 2, 3]` → `"1-3,7"`: the inverse of `parse_page_spec` (LLMWhisperer's
    `pages_to_extract` takes this form)."""
    ordered = sorted(set(pages))
    if ordered and ordered[0] < 1:
        raise PageSpecError("Pages are numbered from 1.")
    return _merged(ordered, ",")


def describe_pages(pages: Iterable[int]) -> str:
    """`[7, 1, 2, 3]` → `"1-3, 7"`, for messages (whatever the numbers, 0 included)."""
    return _merged(sorted(set(pages)), ", ")


def _merged(ordered: list[int], separator: str) -> str:
    runs: list[list[int]] = []
    for page in ordered:
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return separator.join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
