"""Statement heading and column headers → company, title, unit, currency and `Column`s.

Input: heading lines (text above or beside the table), the stacked header texts of each value
column, the statement type and the detection's title. Output: `Heading` and `list[Column]`.
Invariants: period_end is an ISO date only when the header (or the heading, for bare-year columns)
states month, day and year; period_months only from explicit wording (months, weeks, year,
quarter); balance-sheet columns are dates without months; equity component columns carry no period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.statements.format import Column

MONTHS = {
    name: k
    for k, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MDY_RE = re.compile(_MONTH + r"\s+(?P<day>\d{1,2})\b,?\s*(?P<year>(?:19|20)\d\d)?", re.IGNORECASE)
_DMY_RE = re.compile(
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s*(?P<year>(?:19|20)\d\d)?", re.I
)
_ISO_RE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b")
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_WORDS = {"one": 1, "three": 3, "six": 6, "nine": 9, "twelve": 12, "3": 3, "6": 6, "9": 9, "12": 12}
_MONTHS_RE = re.compile(r"\b(one|three|six|nine|twelve|3|6|9|12)[\s-]+months?\b", re.IGNORECASE)
_WEEKS_RE = re.compile(r"\b(13|26|39|52|53)[\s-]+weeks?\b", re.IGNORECASE)
_YEARLY_RE = re.compile(r"\b(?:years?|fiscal year|annual|twelve months)\b", re.IGNORECASE)
_QUARTER_RE = re.compile(r"\bquarters?\b", re.IGNORECASE)
_HALF_RE = re.compile(r"\b(?:half[- ]year|half year|six months|first half|h1)\b", re.IGNORECASE)
_UNIT_RE = re.compile(r"(thousands|millions|billions)\b|[$£€]\s?(m|bn|k|'000|000s?)\b|'000", re.IGNORECASE)
_COMPANY_RE = re.compile(
    r"\b(?:corporation|corp\.?|inc\.?|incorporated|company|co\.|plc|limited|ltd\.?|llc|l\.p\.|"
    r"holdings?|group|subsidiaries|s\.a\.|n\.v\.|ag)\b",
    re.IGNORECASE,
)
_COMPONENT_RE = re.compile(
    r"\b(?:stock|shares?|amount|capital|earnings|deficit|reserves?|premium|treasury|interests?|"
    r"comprehensive|total)\b",
    re.IGNORECASE,
)
_ROW_UNIT_RE = re.compile(r"\(000['’]?s\)|\b(?:in )?(thousands|millions|billions)\b", re.IGNORECASE)
_TITLE_RE = re.compile(
    r"\b(?:statements? of|balance sheets?|income statements?|financial position|profit or loss|"
    r"cash flows?)\b",
    re.I,
)
_CURRENCIES = (
    (re.compile(r"ghana|gh₵|gh¢|cedi", re.I), "GHS"),
    (re.compile(r"philippine|peso|₱|\bP=", re.I), "PHP"),
    (re.compile(r"£|sterling|\bgbp\b", re.I), "GBP"),
    (re.compile(r"€|\beur(?:os?)?\b", re.I), "EUR"),
    (re.compile(r"¥|\byen\b", re.I), "JPY"),
    (re.compile(r"canadian dollars|\bC\$", re.I), "CAD"),
    (re.compile(r"singapore dollars|\bS\$", re.I), "SGD"),
    (re.compile(r"\$|dollars|\busd\b", re.I), "USD"),
)


@dataclass(frozen=True)
class Heading:
    company: str | None
    title: str
    unit: str
    currency: str | None


def read_heading(lines: list[str], title: str, cell_text: str) -> Heading:
    """Company, title, unit and currency from the heading lines (and the cells, for the currency)."""
    clean = [" ".join(line.split()) for line in lines if line.strip()]
    title_at = next((k for k, line in enumerate(clean) if title and line.lower() == title.lower()), None)
    if title_at is None:
        title_at = next((k for k, line in enumerate(clean) if _TITLE_RE.search(line)), None)
    found_title = title or (clean[title_at] if title_at is not None else "")
    before = clean[:title_at] if title_at is not None else clean
    company = next((line for line in reversed(before) if _COMPANY_RE.search(line)), None)
    if company is None and before:
        company = before[-1] if before[-1].isupper() else None
    joined = " ".join(clean)
    return Heading(company, found_title, _unit(joined), _currency(joined + " " + cell_text))


def _unit(text: str) -> str:
    match = _UNIT_RE.search(text)
    if match is None:
        return "units"
    word = match.group(0).lower()
    if "thousand" in word or "000" in word or word.endswith("k"):
        return "thousands"
    if "billion" in word or word.endswith("bn"):
        return "billions"
    return "millions"


def _currency(text: str) -> str | None:
    return next((code for pattern, code in _CURRENCIES if pattern.search(text)), None)


def find_date(text: str) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) stated in a header; missing parts are None."""
    for pattern in (_ISO_RE, _MDY_RE, _DMY_RE):
        match = pattern.search(text)
        if match:
            month = match["month"]
            month_no = int(month) if month.isdigit() else MONTHS[month.lower()[:3]]
            year = match["year"]
            if year is None:
                years = _YEAR_RE.findall(text[match.end() :])
                year = years[0] if years else None
            return (int(year) if year else None), month_no, int(match["day"])
    years = _YEAR_RE.findall(text)
    return (int(years[-1]) if years else None), None, None


def period_months(text: str) -> int | None:
    if match := _MONTHS_RE.search(text):
        return _WORDS[match.group(1).lower()]
    if match := _WEEKS_RE.search(text):
        return {13: 3, 26: 6, 39: 9, 52: 12, 53: 12}[int(match.group(1))]
    if _HALF_RE.search(text):
        return 6
    if _QUARTER_RE.search(text):
        return 3
    if _YEARLY_RE.search(text):
        return 12
    return None


def _only_period(text: str) -> int | None:
    """The period length the heading states, when it states exactly one ("For the years ended ...")."""
    found = {
        period_months(m.group(0))
        for m in re.finditer(r"\b(?:\w+[\s-]+(?:months?|weeks?)|years?|quarters?)\b", text, re.I)
    }
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def _iso(year: int | None, month: int | None, day: int | None) -> str | None:
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "").replace("’", "")).strip("-")


def is_period_header(text: str) -> bool:
    return bool(_YEAR_RE.search(text) or _MDY_RE.search(text) or _DMY_RE.search(text))


def _component_stacks(stacks: list[list[str]]) -> list[list[str]] | None:
    """Equity component headers, without the period line printed over all of them."""
    if not any(_COMPONENT_RE.search(" ".join(stack)) for stack in stacks):
        return None
    return [
        [text for text in stack if not (is_period_header(text) or period_months(text))] for stack in stacks
    ]


def _period_column(header: str, statement_type: str, context: tuple) -> Column:
    ctx_month, ctx_day, ctx_months = context
    year, month, day = find_date(header)
    years = _YEAR_RE.findall(header)
    year = int(years[-1]) if years else year  # the year printed nearest the numbers
    if month is None:
        month, day = ctx_month, ctx_day
    end = _iso(year, month, day)
    months = None if statement_type == "balance_sheet" else (period_months(header) or ctx_months)
    key = (f"{end}/{months}m" if months else end) if end else slug(header)
    return Column(key=key, header=header, period_end=end, period_months=months)


def _component_column(stack: list[str], k: int) -> Column:
    header = " ".join(" ".join(stack).split())
    bottom = stack[-1] if stack else ""
    counts = re.fullmatch(
        r"(?:number of )?shares(?: outstanding| issued)?(?: \(.*\))?|number of .*", bottom, re.I
    )
    unit_match = _ROW_UNIT_RE.search(header)
    unit = (unit_match.group(1) or "thousands").lower() if unit_match else None
    return Column(
        key=slug(header) or f"col{k + 1}", header=header, value_kind="shares" if counts else None, unit=unit
    )


def _share_periods(columns: list[Column]) -> None:
    """Columns headed only by a qualifier ("Adjusted", "Adjustments") beside a dated column take the
    period of the dated column that closes their group (to their right, else to their left)."""
    dated = [k for k, c in enumerate(columns) if c.period_end]
    if not dated or len(dated) == len(columns):
        return
    for k, column in enumerate(columns):
        if column.period_end or column.value_kind or not column.header:
            continue
        owner = columns[next((d for d in dated if d > k), dated[-1])]
        column.period_end, column.period_months = owner.period_end, owner.period_months
        column.key = f"{owner.key}-{slug(column.header)}"


def build_columns(stacks: list[list[str]], statement_type: str, heading: list[str]) -> list[Column]:
    """One `Column` per value column; keys are unique ("2020-01-26/12m", "2020-01-26", a slug)."""
    context_text = " ".join(heading)
    _, ctx_month, ctx_day = find_date(context_text)
    context = (ctx_month, ctx_day, _only_period(context_text))
    components = _component_stacks(stacks) if statement_type == "shareholders_equity" else None
    columns: list[Column] = []
    for k, stack in enumerate(stacks):
        header = " ".join(" ".join(stack).split())
        if components is not None:
            columns.append(_component_column(components[k], k))
        elif is_period_header(header):
            columns.append(_period_column(header, statement_type, context))
        else:
            columns.append(_component_column(stack, k))
    if components is None:
        _share_periods(columns)
    seen: dict[str, int] = {}
    for column in columns:
        seen[column.key] = seen.get(column.key, 0) + 1
        if seen[column.key] > 1:
            column.key = f"{column.key}-{seen[column.key]}"
    return columns
