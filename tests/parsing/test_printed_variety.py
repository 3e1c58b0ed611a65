"""Generated income statements that foot, printed in the ways filings print them, parse back exactly and
verify: 10-Q period phrases spanning two columns each, note and percentage columns, three styles of
negatives, three spellings of zero, units and currencies in the heading, IFRS captions, and a
statement continued on a second page."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement
from app.verification.verify import verify_statement
from tests.parsing.printed import Printed, Row, Style, page_texts

D = Decimal
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (unit line, expected unit, expected currency)
UNITS = [
    ("(in thousands, except per share data)", "thousands", None),
    ("(In millions of euros)", "millions", "EUR"),
    ("£m", "millions", "GBP"),
    ("(Amounts in millions of U.S. dollars)", "millions", "USD"),
    ("(In thousands of Ghana Cedi)", "thousands", "GHS"),
]
MONTHS = ["March 31", "June 30", "September 30", "December 31"]


@st.composite
def amounts(draw, width: int, low: int = 0, high: int = 10**7) -> tuple[Decimal, ...]:
    """Amounts of one row; a fifth of them nil (where the row may be nil)."""
    value = st.integers(low, high)
    if low <= 0:
        value = st.one_of(value, value, value, value, st.just(0))
    return tuple(D(draw(value)) for _ in range(width))


def _sub(a: tuple[Decimal, ...], b: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    return tuple(x - y for x, y in zip(a, b, strict=True))


def _add(*rows: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    return tuple(sum(col, D(0)) for col in zip(*rows, strict=True))


def _neg(a: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    return tuple(-x for x in a)


@st.composite
def us_rows(draw, width: int) -> list[Row]:
    """A US GAAP statement of operations: costs printed positive and subtracted."""
    products, services = draw(amounts(width, 1000)), draw(amounts(width))
    revenue = _add(products, services)
    rnd, sga = draw(amounts(width, 0, 10**5)), draw(amounts(width, 0, 10**5))
    opex = _add(rnd, sga)
    operating = _sub(revenue, opex)
    other = draw(amounts(width, -(10**4), 10**4))
    before_tax = _add(operating, other)
    tax = draw(amounts(width, 0, 10**4))
    return [
        Row("Revenue:", 0, "header"),
        Row("Products", 1, "line", products, "4"),
        Row("Services", 1, "line", services),
        Row("Total revenue", 2, "total", revenue),
        Row("Operating expenses:", 0, "header"),
        Row("Research and development", 1, "line", rnd),
        Row("Selling, general and administrative", 1, "line", sga, "5"),
        Row("Total operating expenses", 2, "total", opex),
        Row("Operating income", 0, "total", operating),
        Row("Other income (expense), net", 0, "line", other, "6"),
        Row("Income before income taxes", 0, "total", before_tax),
        Row("Provision for income taxes", 0, "line", tax, "7"),
        Row("Net income", 0, "total", _sub(before_tax, tax)),
    ]


@st.composite
def ifrs_rows(draw, width: int) -> list[Row]:
    """An IFRS income statement: costs printed negative, every subtotal the sum as printed."""
    revenue = draw(amounts(width, 1000))
    cost = _neg(draw(amounts(width)))
    gross = _add(revenue, cost)
    distribution, admin = _neg(draw(amounts(width, 0, 10**5))), _neg(draw(amounts(width, 0, 10**5)))
    operating = _add(gross, distribution, admin)
    finance = _neg(draw(amounts(width, 0, 10**4)))
    before_tax = _add(operating, finance)
    tax = _neg(draw(amounts(width, 0, 10**4)))
    return [
        Row("Revenue", 0, "line", revenue, "3"),
        Row("Cost of sales", 0, "line", cost),
        Row("Gross profit", 0, "total", gross),
        Row("Distribution costs", 0, "line", distribution),
        Row("Administrative expenses", 0, "line", admin, "4"),
        Row("Operating profit", 0, "total", operating),
        Row("Finance costs", 0, "line", finance, "5"),
        Row("Profit before tax", 0, "total", before_tax),
        Row("Income tax expense", 0, "line", tax, "6"),
        Row("Profit for the year", 0, "total", _add(before_tax, tax)),
    ]


@st.composite
def styles(draw) -> Style:
    return Style(
        negative=draw(st.sampled_from(["parens", "minus", "trailing"])),
        zero=draw(st.sampled_from(["—", "-", "–", "nil"])),
        dollar=draw(st.booleans()),
        gap=draw(st.integers(2, 6)),
        indent=draw(st.integers(1, 4)),
        percent_columns=draw(st.integers(0, 3)) == 0,
        percent_header=draw(st.sampled_from(["%", "% of revenue", "% of Revenue"])),
        percent_sign=draw(st.booleans()),
        notes=draw(st.booleans()),
        unit_in_header=draw(st.booleans()),
    )


def _parse(texts: list[str], kind: str = "income_statement"):
    pages = [PageText(page=20 + k, text=t, engine="local", mode="layout") for k, t in enumerate(texts)]
    detection = Detection(type=kind, pages=tuple(p.page for p in pages), confidence=1.0, title="")
    return parse_statement(pages, detection)


def _check(printed: Printed, periods: list[tuple[str, int]], unit: str, currency: str | None) -> None:
    texts = page_texts(printed)
    statement = _parse(texts)
    shown = "\n".join(texts)
    assert [(c.period_end, c.period_months) for c in statement.columns] == periods, shown
    expected = [(r.label, list(r.values) if r.values else [None] * len(periods)) for r in printed.rows]
    assert [(i.label, i.values) for i in statement.items] == expected, shown
    kinds = [i.kind for i in statement.items]
    assert kinds == [r.kind for r in printed.rows], shown
    if printed.style.notes:
        assert [i.notes for i in statement.items] == [[r.note] if r.note else None for r in printed.rows]
    assert (statement.unit, statement.currency if currency else None) == (unit, currency), shown
    verified = verify_statement(statement)
    assert verified.verified, [c for c in verified.checks if not c.ok]
    assert statement.pages == [20 + k for k in range(len(texts))]


@SETTINGS
@given(
    st.data(),
    st.sampled_from([("Three", 3, "Nine", 9), ("Three", 3, "Six", 6), ("13", 3, "39", 9)]),
    st.sampled_from(MONTHS),
    st.integers(2001, 2030),
    styles(),
    st.sampled_from(UNITS),
)
def test_quarterly_spans_over_two_columns_each(data, lengths, month, year, style, unit):
    """A 10-Q: "Three Months Ended" and "Nine Months Ended <date>," each over two year columns."""
    short, short_months, long, long_months = lengths
    word = "Weeks" if short.isdigit() else "Months"
    spans = [(f"{short} {word} Ended {month},", 2), (f"{long} {word} Ended {month},", 2)]
    years = [year, year - 1, year, year - 1]
    rows = data.draw(st.one_of(us_rows(4), ifrs_rows(4)))
    printed = Printed(
        "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS",
        "EXAMPLE HOLDINGS, INC.",
        unit[0],
        spans,
        [[str(y)] for y in years],
        rows,
        style=style,
    )
    month_no = MONTHS.index(month) * 3 + 3
    day = int(month.split()[1])
    ends = [f"{y}-{month_no:02d}-{day:02d}" for y in years]
    months = [short_months] * 2 + [long_months] * 2
    _check(printed, list(zip(ends, months, strict=True)), unit[1], unit[2])


@SETTINGS
@given(st.data(), st.integers(2001, 2030), styles(), st.sampled_from(UNITS), st.integers(2, 3))
def test_annual_ifrs_statement_continued_on_a_second_page(data, year, style, unit, width):
    """An annual statement split over two pages, the second titled "(continued)" and its column
    headers repeated."""
    rows = data.draw(st.one_of(us_rows(width), ifrs_rows(width)))
    split = data.draw(st.integers(3, len(rows) - 2))
    printed = Printed(
        "STATEMENT OF PROFIT OR LOSS",
        "EXAMPLE PLC",
        unit[0],
        [("For the year ended 31 December", width)],
        [[str(year - k)] for k in range(width)],
        rows,
        split_at=split,
        style=style,
    )
    periods = [(f"{year - k}-12-31", 12) for k in range(width)]
    _check(printed, periods, unit[1], unit[2])


@SETTINGS
@given(st.data(), st.integers(2001, 2030), styles())
def test_dated_column_headers_under_a_fiscal_year_phrase(data, year, style):
    """Each column headed by its own date under one "Fiscal Year Ended" phrase."""
    rows = data.draw(us_rows(3))
    headers = [["December 31,", str(year - k)] for k in range(3)]
    printed = Printed(
        "CONSOLIDATED STATEMENTS OF INCOME",
        "EXAMPLE CORPORATION",
        "(Dollars in millions)",
        [("Fiscal Year Ended", 3)],
        headers,
        rows,
        style=style,
    )
    _check(printed, [(f"{year - k}-12-31", 12) for k in range(3)], "millions", "USD")
