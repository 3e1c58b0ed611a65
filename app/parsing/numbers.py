"""Printed cell text → exact decimal strings, or a typed reason why the text is not a value.

Input: one cell or word as printed ("$ 1,234", "(52)", "($50,814)", "(P=17,783,267)", "1,234-", "—",
"nil", "12%"). Output: `Reading(kind, value)` where kind is "number", "dash", "percent" or "text";
value is a `Decimal` exactly as printed (separators and currency dropped, parentheses, a leading or a
trailing minus → leading minus, dashes and "nil" → 0). Invariants: never float; a footnote marker
("(1)", "*", "¹") or a note reference is never a number here; text that merely contains digits
("2,000 shares") is "text"; a trailing minus after a year ("2021-") is a wrapped range, not a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

DASHES = frozenset({"-", "—", "–", "--", "—-", "−", "‒", "―", "- -"})
_CURRENCY = r"(?:US\$|C\$|A\$|\$|P=|₱|£|€|¥|₹|GH₵|GH¢|Rs\.?|RM|S\$)"
_NUMBER_RE = re.compile(
    rf"""^(?P<open>\()?\s*(?:{_CURRENCY})?\s*(?P<open2>\()?\s*(?P<minus>[-−])?\s*(?:{_CURRENCY})?\s*
    (?P<digits>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<trail>[-−])?
    \s*(?P<close>\))?\s*(?P<pct>%)?\s*(?P<close2>\))?$""",
    re.VERBOSE,
)
_FOOTNOTE_RE = re.compile(r"^(?:\(\d{1,2}\)|\([a-z]\)|\*{1,3}|[†‡§]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)$")
_TRAILING_FOOTNOTES_RE = re.compile(r"(?:\s*(?:\(\d{1,2}\)|\([a-z]\)|\*{1,3}|[†‡§]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+))+$")
_NOTE_REF_RE = re.compile(r"^\d{1,2}[a-z]?(?:\s*[,&/]\s*\d{1,2}[a-z]?)*$|^[A-Z]\d{0,2}$")
_YEAR_RE = re.compile(r"^(?:19|20)\d\d$")
_MARK_RE = re.compile(rf"\(?{_CURRENCY}\(?")


@dataclass(frozen=True)
class Reading:
    kind: str
    value: Decimal | None = None


TEXT = Reading("text")


@lru_cache(maxsize=8192)
def read_value(text: str) -> Reading:
    """Read one printed cell; anything not a whole number cell is kind "text"."""
    cell = " ".join(text.split())
    if not cell:
        return TEXT
    bare = cell.replace("$", "").replace(" ", "")
    if cell in DASHES or bare in DASHES or bare in {"(—)", "(-)", "(–)"} or bare.lower() == "nil":
        return Reading("dash", Decimal(0))
    match = _NUMBER_RE.match(cell)
    if match is None:
        return TEXT
    opened = bool(match["open"] or match["open2"])
    closed = bool(match["close"] or match["close2"])
    if opened != closed:
        return TEXT
    value = Decimal(match["digits"].replace(",", ""))
    if match["trail"] and (opened or match["minus"] or _YEAR_RE.match(match["digits"])):
        return TEXT  # "2021-" is a year range wrapped onto the next line
    if opened or match["minus"] or match["trail"]:
        value = -value
    return Reading("percent" if match["pct"] else "number", value)


def is_value(text: str) -> bool:
    return read_value(text).kind != "text"


def is_footnote(text: str) -> bool:
    """A footnote marker: "(1)", "(a)", "*", "†", superscript digits."""
    return bool(_FOOTNOTE_RE.match(text.strip()))


def is_note_ref(text: str) -> bool:
    """A note reference as printed in a "Note" column: "7", "13, 19", "4a"."""
    return bool(_NOTE_REF_RE.match(text.strip()))


def is_year(text: str) -> bool:
    return bool(_YEAR_RE.match(text.strip()))


def split_footnotes(label: str) -> tuple[str, list[str]]:
    """Strip trailing footnote markers from a label: "Revenue (1)*" → ("Revenue", ["(1)", "*"])."""
    label = " ".join(label.split())
    match = _TRAILING_FOOTNOTES_RE.search(label)
    if match is None or match.start() == 0:
        return label, []
    markers = re.findall(r"\(\d{1,2}\)|\([a-z]\)|\*{1,3}|[†‡§]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+", match.group())
    return label[: match.start()].rstrip(), markers


def is_currency_mark(word: str) -> bool:
    """A currency sign printed in its own cell ("$", "P=", "£")."""
    return bool(_MARK_RE.fullmatch(word))
