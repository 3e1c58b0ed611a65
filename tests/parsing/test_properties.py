"""Random statements rendered to both text layouts parse back to exactly the generated values."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement
from tests.parsing.render import Sheet, render_grid, render_layout

WORDS = [
    "revenue",
    "cost",
    "goods",
    "sold",
    "operating",
    "expenses",
    "research",
    "development",
    "marketing",
    "interest",
    "income",
    "other",
    "deferred",
    "taxes",
    "receivables",
    "inventories",
    "payables",
    "accrued",
    "liabilities",
    "goodwill",
    "leases",
    "equipment",
    "property",
    "investments",
    "securities",
    "borrowings",
    "dividends",
    "provisions",
    "amortization",
    "depreciation",
    "restructuring",
    "compensation",
    "hedges",
    "royalties",
    "services",
    "products",
    "licenses",
    "subscriptions",
    "freight",
]
MARKERS = ["", "", "", " (1)", "*", " (2)", "†"]
UNITS = {
    "(In millions)": "millions",
    "(In thousands, except per share data)": "thousands",
    "(Dollars in billions)": "billions",
    None: "units",
}


@st.composite
def amounts(draw) -> tuple[str | None, Decimal | None]:
    form = draw(st.sampled_from(["int", "int", "int", "decimal", "dash", "blank", "negative", "negative"]))
    if form == "blank":
        return None, None
    if form == "dash":
        return draw(st.sampled_from(["—", "–", "-"])), Decimal(0)
    places = draw(st.integers(1, 2)) if form == "decimal" else 0
    units = draw(st.integers(0, 10**9 if not places else 10**6))
    value = Decimal(units).scaleb(-places) if places else Decimal(units)
    text = f"{value:,.{places}f}"
    if form == "negative" and value:
        text, value = (f"({text})", -value) if draw(st.booleans()) else (f"-{text}", -value)
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from(["$ ", "$", "$     "])) + text
    return text, value


@st.composite
def statements(draw):
    width = draw(st.integers(1, 6))
    first_year = draw(st.integers(2000, 2030))
    step = draw(st.sampled_from([-1, 1]))
    years = [first_year + step * k for k in range(width)]
    rows, expected = [], []
    for _ in range(draw(st.integers(2, 14))):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
        label = " ".join(words).capitalize()
        marker = draw(st.sampled_from(MARKERS))
        header = draw(st.integers(0, 7)) == 0
        cells = [(None, None)] * width if header else [draw(amounts()) for _ in range(width)]
        rows.append((label + marker, draw(st.integers(0, 2)), [c[0] for c in cells]))
        expected.append((label, [c[1] for c in cells]))
    for k in range(width):
        assume(sum(1 for _, _, cells in rows if cells[k] is not None) >= 2)
    assume(any(all(c is not None for c in cells) for _, _, cells in rows))
    unit_line = draw(st.sampled_from(list(UNITS)))
    headers = [["Year Ended", "December 31,", str(y)] for y in years]
    sheet = Sheet("CONSOLIDATED STATEMENTS OF OPERATIONS", rows, headers, unit_line=unit_line)
    return sheet, expected, years


def _check(text: str, mode: str, expected, years, unit: str) -> None:
    page = PageText(page=7, text=text, engine="local", mode=mode)
    detection = Detection(type="income_statement", pages=(7,), confidence=1.0, title="")
    statement = parse_statement([page], detection)
    assert [c.period_end for c in statement.columns] == [f"{y}-12-31" for y in years], text
    assert [c.period_months for c in statement.columns] == [12] * len(years)
    assert [(i.label, i.values) for i in statement.items] == expected, text
    assert statement.unit == unit
    assert all(i.source is not None and i.source.page == 7 for i in statement.items)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(statements(), st.integers(2, 8), st.integers(0, 6))
def test_layout_round_trip(generated, gap, indent):
    sheet, expected, years = generated
    _check(render_layout(sheet, gap=gap, indent=indent), "layout", expected, years, UNITS[sheet.unit_line])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(statements(), st.integers(0, 2), st.integers(0, 3))
def test_grid_round_trip(generated, shift, spare):
    sheet, expected, years = generated
    _check(render_grid(sheet, shift=shift, spare=spare), "grid", expected, years, UNITS[sheet.unit_line])
