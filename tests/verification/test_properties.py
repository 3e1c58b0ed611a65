"""Property tests: consistent statements verify, one-unit errors are caught, repair never guesses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.statements.format import Column, Item, Statement, TextSourceInfo
from app.verification.misreads import DIGIT_CONFUSIONS, digit_confusions
from app.verification.verify import run_checks, verify_statement

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Built:
    statement: Statement
    lines: dict[int, list[int]]  # section total row -> its plain (added) line rows


def _line(label: str, level: int, kind: str, values: list[Decimal] | None, width: int) -> Item:
    return Item(label=label, level=level, kind=kind, values=values if values is not None else [None] * width)


@st.composite
def consistent_statements(draw, ocr: bool = False) -> Built:
    """Sections of lines (some contra, printed positive and subtracted) under headers, their totals,
    optionally a grand total of the sections and a "Less:" line below it; 1-4 columns; 0 or 1 decimal."""
    width = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0, -1]))
    number = st.integers(-(10**6), 10**6).map(lambda v: Decimal(v).scaleb(scale))
    row = st.lists(number, min_size=width, max_size=width)
    items: list[Item] = []
    sections, lines = [], {}
    for k in range(draw(st.integers(1, 4))):
        items.append(_line(f"Segment {k} items", 0, "header", None, width))
        total, plain = [Decimal(0)] * width, []
        for m in range(draw(st.integers(1, 4))):
            values = draw(row)
            if draw(st.booleans()) and m > 0:
                if all(v <= 0 for v in values):
                    values[0] = abs(values[0]) + Decimal(1).scaleb(scale)
                items.append(_line(f"Cost of part {k}.{m}", 1, "line", values, width))
                total = [t - v for t, v in zip(total, values, strict=True)]
            else:
                plain.append(len(items))
                items.append(_line(f"Part {k}.{m}", 1, "line", values, width))
                total = [t + v for t, v in zip(total, values, strict=True)]
        lines[len(items)] = plain
        sections.append(total)
        items.append(_line(f"Total segment {k} items", draw(st.sampled_from([0, 1])), "total", total, width))
    if len(sections) > 1 and draw(st.booleans()):
        grand = [sum(col, Decimal(0)) for col in zip(*sections, strict=True)]
        items.append(_line("Total all segments", 0, "total", grand, width))
        if draw(st.booleans()):
            less = [abs(v) + Decimal(1).scaleb(scale) for v in draw(row)]
            items.append(_line("Less: adjustments", 0, "line", less, width))
            net = [g - v for g, v in zip(grand, less, strict=True)]
            items.append(_line("Net result", 0, "total", net, width))
    ends = [f"{2024 - j}-12-31" for j in range(width)]
    columns = [Column(key=end, header=end[:4], period_end=end) for end in ends]
    statement = Statement(
        type="balance_sheet",
        title="GENERATED",
        pages=[1],
        unit="millions",
        columns=columns,
        items=items,
        text_source=TextSourceInfo(engine="local", ocr=ocr),
    )
    return Built(statement, lines)


LABELS = [
    "Revenue", "Cost of revenue", "Total revenue", "Operating expenses", "Total operating expenses", "",
    "Net income", "Less: adjustments", "Balance at December 31, 2022", "Cash at beginning of period",
    "Total assets", "Total liabilities and equity", "Basic", "Other", "Treasury stock",
]  # fmt: skip


@st.composite
def arbitrary_statements(draw) -> Statement:
    """Anything a parser could hand over: kinds, levels, captions and blanks in any order."""
    width = draw(st.integers(1, 4))
    cell = st.one_of(st.none(), st.integers(-(10**4), 10**4).map(Decimal))
    items = [
        Item(
            label=draw(st.sampled_from(LABELS)),
            level=draw(st.integers(0, 3)),
            kind=kind,
            value_kind=draw(st.sampled_from(["monetary", "monetary", "per_share", "shares"])),
            values=[None] * width
            if kind == "header"
            else draw(st.lists(cell, min_size=width, max_size=width)),
        )
        for kind in draw(st.lists(st.sampled_from(["header", "line", "line", "total"]), max_size=14))
    ]
    columns = [
        Column(key=f"c{j}", header=f"c{j}", period_end=f"{2024 - j}-12-31", period_months=12)
        for j in range(width)
    ]
    return Statement(
        type=draw(st.sampled_from(["income_statement", "balance_sheet", "cash_flow", "shareholders_equity"])),
        title="ARBITRARY",
        pages=[1],
        columns=columns,
        items=items,
        text_source=TextSourceInfo(engine="local", ocr=draw(st.booleans())),
    )


@SETTINGS
@given(arbitrary_statements())
def test_every_printed_total_is_proven_or_the_statement_is_not_verified(statement):
    result = verify_statement(statement)
    if result.verified:
        assert result.checks and all(c.ok for c in result.checks)
    checked = {(c.row_index, c.column) for c in result.checks if c.rule in ("sum", "rollforward", "unfooted")}
    for i, item in enumerate(result.items):
        opening = any(w in item.label.lower() for w in ("beginning", "balance"))
        for j, value in enumerate(item.values):
            if item.kind == "total" and value is not None and not opening:
                assert (i, result.columns[j].key) in checked


def _with_value(statement: Statement, row: int, column: int, value: Decimal) -> Statement:
    items = list(statement.items)
    values = list(items[row].values)
    values[column] = value
    items[row] = items[row].model_copy(update={"values": values})
    return statement.model_copy(update={"items": items})


def _values(statement: Statement) -> list[list[Decimal | None]]:
    return [list(item.values) for item in statement.items]


@SETTINGS
@given(consistent_statements())
def test_consistent_statements_always_verify(built):
    result = verify_statement(built.statement)
    assert result.verified, [c for c in result.checks if not c.ok]
    totals = [i for i, it in enumerate(result.items) if it.kind == "total"]
    assert {c.row_index for c in result.checks} == set(totals)


@SETTINGS
@given(consistent_statements(), st.data())
def test_a_one_unit_error_in_any_total_or_component_is_caught(built, data):
    statement = built.statement
    cells = [(i, j) for i, it in enumerate(statement.items) for j, v in enumerate(it.values) if v is not None]
    row, column = data.draw(st.sampled_from(cells))
    value = statement.items[row].values[column]
    assert value is not None
    step = Decimal(1).scaleb(value.as_tuple().exponent) * data.draw(st.sampled_from([1, -1]))
    perturbed = _with_value(statement, row, column, value + step)
    assert not all(f.check.ok for f in run_checks(perturbed))
    result = verify_statement(perturbed)
    # a 5/6 digit confusion may restore the very number that was printed; never any other
    assert not result.verified or _values(result) == _values(statement)


@SETTINGS
@given(consistent_statements(ocr=True), st.data())
def test_repair_never_verifies_a_wrong_value_when_the_planted_error_is_ambiguous(built, data):
    # two added lines under one total: the first truly holds v, the second a confusion v' of it; the
    # first is misread as v' too, so reading either line as v foots equally well
    statement = built.statement
    pairs = [(t, rows) for t, rows in built.lines.items() if len(rows) >= 2]
    assume(pairs)
    total, rows = data.draw(st.sampled_from(pairs))
    first, second = data.draw(st.permutations(rows))[:2]
    column = data.draw(st.integers(0, len(statement.columns) - 1))
    digits = data.draw(st.text(alphabet="0123456789", min_size=1, max_size=6))
    confusable = data.draw(st.sampled_from(sorted(DIGIT_CONFUSIONS)))
    true_value = Decimal(str(int(digits + confusable)))
    misread = data.draw(st.sampled_from(digit_confusions(true_value)))
    old = [statement.items[r].values[column] for r in (first, second)]
    shift = true_value + misread - sum((v or Decimal(0) for v in old), Decimal(0))
    truth = _with_value(statement, first, column, true_value)
    truth = _with_value(truth, second, column, misread)
    truth = _with_value(truth, total, column, (statement.items[total].values[column] or Decimal(0)) + shift)
    planted = _with_value(truth, first, column, misread)
    result = verify_statement(planted)
    assert not result.verified or _values(result) == _values(truth)
    assert not result.repairs


@SETTINGS
@given(consistent_statements(ocr=True), st.data())
def test_repair_restores_the_printed_value_or_leaves_the_statement_unverified(built, data):
    statement = built.statement
    cells = [(i, j) for i, it in enumerate(statement.items) for j, v in enumerate(it.values) if v]
    assume(cells)
    row, column = data.draw(st.sampled_from(cells))
    value = statement.items[row].values[column]
    assert value is not None
    # OCR loses parentheses ("(40)" read "40"); it does not invent them
    misreads = [*([-value] if value < 0 else []), *digit_confusions(value)]
    assume(misreads)
    planted = _with_value(statement, row, column, data.draw(st.sampled_from(misreads)))
    result = verify_statement(planted)
    assert not result.verified or _values(result) == _values(statement)
