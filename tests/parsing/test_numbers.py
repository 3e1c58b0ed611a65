"""Printed cells → exact decimals, each example named after where it was printed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.parsing.numbers import is_footnote, is_note_ref, read_value, split_footnotes

VALUES = [
    ("nvidia-10k-2020 p39 revenue", "$ 10,918", "number", "10918"),
    ("nvidia-10k-2020 p39 interest expense", "(52)", "number", "-52"),
    ("nvidia-10k-2020 p39 basic eps", "$ 4.59", "number", "4.59"),
    ("nvidia-10k-2020 p42 treasury opening", "$ (5,039)", "number", "-5039"),
    ("nvidia-10k-2020 p41 lease assets 2019", "-", "dash", "0"),
    ("nvidia scanned p39 glued dollar", "$10,918", "number", "10918"),
    ("boeing-style ($50,814)", "($50,814)", "number", "-50814"),
    ("sevenad peso", "P=17,299,358", "number", "17299358"),
    ("sevenad peso negative", "(P=17,783,267)", "number", "-17783267"),
    ("sevenad peso sign inside", "P=(1,234)", "number", "-1234"),
    ("em dash zero", "—", "dash", "0"),
    ("en dash zero", "–", "dash", "0"),
    ("dollar then dash", "$ —", "dash", "0"),
    ("xppower £m one decimal", "123.4", "number", "123.4"),
    ("xppower £m negative one decimal", "(3.5)", "number", "-3.5"),
    ("leading minus", "-1,234", "number", "-1234"),
    ("nvidia-10k-2020 p28 percent of revenue", "100.0 %", "percent", "100.0"),
    ("nvidia-10k-2020 p28 change percent", "(7)%", "percent", "-7"),
    ("opex percent glued", "25.9%", "percent", "25.9"),
    ("pound glued", "£1,234", "number", "1234"),
    ("euro glued", "€ 12", "number", "12"),
    ("trailing zeros kept as printed", "1,000.50", "number", "1000.50"),
    ("UK plc trailing minus", "1,234-", "number", "-1234"),
    ("UK plc trailing minus one decimal", "3.5-", "number", "-3.5"),
    ("UK plc nil", "nil", "dash", "0"),
    ("UK plc Nil capitalised", "Nil", "dash", "0"),
]

NOT_VALUES = [
    ("nvidia-10k-2020 p41 share count in caption", "2,000 shares authorized"),
    ("date fragment", "29,"),
    ("closing paren of a caption", "2019)"),
    ("lone dollar sign", "$"),
    ("european separators are not guessed", "1.234,5"),
    ("unbalanced parenthesis", "(1,234"),
    ("note reference list", "13, 19"),
    ("words", "Year Ended"),
    ("empty cell", "   "),
    ("year range wrapped after its dash", "2021-"),
    ("both parentheses and a trailing minus", "(1,234-)"),
]


@pytest.mark.parametrize(("source", "text", "kind", "value"), VALUES, ids=[v[0] for v in VALUES])
def test_reads_value_as_printed(source, text, kind, value):
    reading = read_value(text)
    assert reading.kind == kind
    assert reading.value == Decimal(value)
    assert str(reading.value) == value


@pytest.mark.parametrize(("source", "text"), NOT_VALUES, ids=[v[0] for v in NOT_VALUES])
def test_text_is_not_a_value(source, text):
    assert read_value(text).kind == "text"


FOOTNOTES = [
    ("numbered footnote", "Revenue (1)", "Revenue", ["(1)"]),
    ("two markers", "Other income, net (2)(3)", "Other income, net", ["(2)", "(3)"]),
    ("asterisk", "Adjusted EBITDA*", "Adjusted EBITDA", ["*"]),
    ("dagger", "Goodwill †", "Goodwill", ["†"]),
    ("superscript", "Restructuring charges¹", "Restructuring charges", ["¹"]),
    ("letter footnote", "Cost of revenue (a)", "Cost of revenue", ["(a)"]),
    ("caption with (loss) keeps it", "Income tax expense (benefit)", "Income tax expense (benefit)", []),
    ("par value stays in label", "Common stock, $.001 par value", "Common stock, $.001 par value", []),
    ("a marker alone is a label", "(1)", "(1)", []),
]


@pytest.mark.parametrize(("source", "label", "clean", "markers"), FOOTNOTES, ids=[f[0] for f in FOOTNOTES])
def test_footnote_markers_leave_the_label(source, label, clean, markers):
    assert split_footnotes(label) == (clean, markers)


@pytest.mark.parametrize(
    ("source", "text", "footnote", "note"),
    [
        ("ifrs note column", "7", False, True),
        ("ifrs note list", "13, 19", False, True),
        ("ifrs sub-note", "4a", False, True),
        ("footnote marker", "(1)", True, False),
        ("amount", "1,234", False, False),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_markers_and_note_references(source, text, footnote, note):
    assert is_footnote(text) is footnote
    assert is_note_ref(text) is note
