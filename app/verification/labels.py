"""Label reading for verification: words, contra signs, header/total matching, dates in captions.

Input: row labels and column headers as printed. Output: normalized word sets, booleans and dates.
Invariants: pure; never reads a number out of a label except through `caption_date` and
`outstanding_shares`, which only the cross-statement ties use.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("total net cash flow from provided by used in for of the and to a an".split())  # noqa: SIM905
_CONTRA_WORDS = frozenset(
    "cost expense less treasury allowance dividend repurchase provision deduct loss liabilitie".split()  # noqa: SIM905
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()  # noqa: SIM905
    )
}
_CONTRA_PHRASES = ("accumulated depreciation", "accumulated amortization")
_QUALIFIER = re.compile(r"\b(net of|after|before|excluding|including)\b.*$")
_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b", re.IGNORECASE)
_DAY_FIRST = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r"),?\s+(\d{4})\b", re.IGNORECASE)
_NET_INCOME = re.compile(
    r"^net (income|earnings|loss|profit)( \((loss|income)\))?"
    r"( attributable to [a-z0-9 .,&'-]+| including noncontrolling interests?)?$"
)
_OUTSTANDING = re.compile(
    r"(\d[\d,]*(?:\.\d+)?) (?:shares )?outstanding (?:as of|at) ("
    + "|".join(_MONTHS)
    + r")\s+(\d{1,2}),?\s+(\d{4})",
    re.IGNORECASE,
)


@lru_cache(maxsize=8192)
def normalize(label: str) -> str:
    """Lower case, curly quotes straightened, whitespace collapsed, trailing colon dropped."""
    text = label.replace("’", "'").replace("‘", "'").lower().strip()
    return re.sub(r"\s+", " ", text).rstrip(":").strip()


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@lru_cache(maxsize=8192)
def words(label: str, *, keep_parens: bool = False) -> frozenset[str]:
    """Content words of a label: parentheticals, possessives and stop words removed, plurals folded."""
    text = normalize(label).replace("'s", "").replace("'", "")
    if not keep_parens:
        text = _PAREN.sub(" ", text)
    return frozenset(_stem(w) for w in _WORD.findall(text) if w not in _STOP)


@lru_cache(maxsize=8192)
def header_matches(header: str, total: str) -> bool:
    """True when `total` is the caption closing the group `header` opens ("Current assets" / "Total ...")."""
    head = words(header)
    return bool(head) and head == words(total)


@lru_cache(maxsize=8192)
def is_contra(label: str) -> bool:
    """True when the caption names an amount usually printed positive and subtracted."""
    # "revenues net of interest expense", "other assets, net of accumulated amortization" are not contra
    text = _QUALIFIER.sub("", _PAREN.sub(" ", normalize(label))).replace("at cost", "")
    if any(p in text for p in _CONTRA_PHRASES):
        return True
    return any(_stem(w) in _CONTRA_WORDS or w in _CONTRA_WORDS for w in _WORD.findall(text))


@lru_cache(maxsize=8192)
def says_less(label: str) -> bool:
    """A caption opening with "Less:" names its own operation: the row is subtracted whatever its sign."""
    return bool(re.match(r"less\b", normalize(label)))


@lru_cache(maxsize=8192)
def excluded(total: str) -> frozenset[str]:
    """What a total's caption says it leaves out ("Total cash, excluding restricted balances")."""
    found = re.search(r"\b(?:excluding|excludes|less)\b(.*)$", _PAREN.sub(" ", normalize(total)))
    return words(found.group(1)) if found else frozenset()


@lru_cache(maxsize=8192)
def is_net_income(label: str) -> bool:
    """Net income, net earnings, net loss, with "(loss)", "attributable to ..." or "including NCI"."""
    return bool(_NET_INCOME.match(normalize(label)))


@lru_cache(maxsize=8192)
def net_income_rank(label: str) -> int:
    """Which net income an EPS figure divides: attributable to common first, then to the parent, then net."""
    text = normalize(label)
    to_common = "common" in text and ("available" in text or "attributable" in text)
    if to_common and ("income" in text or "loss" in text or "earnings" in text):
        return 4
    if not is_net_income(label):
        return 0
    if "noncontrolling" in text or "non-controlling" in text:
        return 0 if "attributable to noncontrolling" in text or "attributable to non-" in text else 1
    if "attributable to common" in text:
        return 4
    if "attributable to" in text:
        return 3
    return 2


def caption_date(label: str) -> date | None:
    """The one date a caption names ("Balances, January 28, 2018", "Balance at 1 January 2024")."""
    found = _DATE.findall(label) + [(m, d, y) for d, m, y in _DAY_FIRST.findall(label)]
    if len(found) != 1:
        return None
    month, day, year = found[0]
    try:
        return date(int(year), _MONTHS[month.lower()], int(day))
    except ValueError:
        return None


def outstanding_shares(label: str) -> dict[date, str]:
    """Shares outstanding named in a common-stock caption, by date ("612 outstanding as of Jan 26, 2020")."""
    found: dict[date, str] = {}
    for count, month, day, year in _OUTSTANDING.findall(label):
        try:
            found[date(int(year), _MONTHS[month.lower()], int(day))] = count.replace(",", "")
        except ValueError:
            continue
    return found
