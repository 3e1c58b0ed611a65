"""LLMWhisperer table-mode pipe grids → statements, cells aligned by content, not by index."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.grid import is_grid, read_grid
from app.parsing.parse import parse_statement

D = Decimal


def parse(text: str, kind: str = "income_statement"):
    page = PageText(page=39, text=text, engine="llmwhisperer", mode="grid")
    return parse_statement([page], Detection(type=kind, pages=(39,), confidence=1.0, title=""))


NVIDIA_P39_SHIFTED = """\
                                  NVIDIA CORPORATION AND SUBSIDIARIES
                                  CONSOLIDATED STATEMENTS OF INCOME
                                     (In millions, except per share data)

+-----------------+------------+------------------+------------------+------------------+---+
|                 | Year Ended | Year Ended       | Year Ended       |                  |   |
+-----------------+------------+------------------+------------------+------------------+---+
|                 |            | January 26, 2020 | January 27, 2019 | January 28, 2018 |   |
+-----------------+------------+------------------+------------------+------------------+---+
| Revenue         | $ 10,918   | $ 11,716         | $ 9,714          |                  |   |
+-----------------+------------+------------------+------------------+------------------+---+
| Interest expense| (52)       | (58)             | (61)             |                  |   |
+-----------------+------------+------------------+------------------+------------------+---+
| Other, net      | (2)        | 14               |                  |                  |   |
+-----------------+------------+------------------+------------------+------------------+---+
"""

NVIDIA_P42_EQUITY = """\
                       CONSOLIDATED STATEMENTS OF SHAREHOLDERS' EQUITY
+----------------------------+---------------+---------------+---------+------------+----------+---+
| (In millions)              | Common Stock  | Common Stock  |         | Retained   | Total    |   |
+----------------------------+---------------+---------------+---------+------------+----------+---+
|                            |               | Shares        | Amount  |            |          |   |
+----------------------------+---------------+---------------+---------+------------+----------+---+
| Balances, January 29, 2017 | 585           | $ 1           | $ 6,108 | $ 6,694    |          |   |
+----------------------------+---------------+---------------+---------+------------+----------+---+
| Net income                 | -             | -             | 3,047   | 3,047      |          |   |
|                            | [ ]           | [ ]           |         |            |          |   |
+----------------------------+---------------+---------------+---------+------------+----------+---+
"""

NVIDIA_P28_MERGED_SPAN = """\
+-----------------------------------+------------------+------------------+
|                                   | Year Ended                           |
+                                   +------------------+------------------+
|                                   | January 26, 2020 | January 27, 2019 |
+-----------------------------------+------------------+------------------+
| Revenue                           | 100.0 %          | 100.0 %          |
+-----------------------------------+------------------+------------------+
| Interest expense                  | (0.5)            | (0.5)            |
+-----------------------------------+------------------+------------------+
"""

IFRS_NOTE_GRID = """\
STATEMENT OF FINANCIAL POSITION
(thousands of Ghana Cedi)
+------------------------+-------+--------+--------+
|                        | Note  | 2024   | 2023   |
+------------------------+-------+--------+--------+
| Property, plant        | 14    | 81,203 | 77,610 |
| and equipment          |       |        |        |
+------------------------+-------+--------+--------+
| Inventories            | 16    | 55,010 | 60,114 |
+------------------------+-------+--------+--------+
| Total assets           |       | 136,213| 137,724|
+------------------------+-------+--------+--------+
"""

CASES = [
    (
        "nvidia-10k-2020 p39 headers shifted right",
        NVIDIA_P39_SHIFTED,
        "Interest expense",
        [D(-52), D(-58), D(-61)],
    ),
    ("nvidia-10k-2020 p39 short row keeps its cells", NVIDIA_P39_SHIFTED, "Other, net", [D(-2), D(14), None]),
    (
        "nvidia-10k-2020 p28 merged spanning header",
        NVIDIA_P28_MERGED_SPAN,
        "Revenue",
        [D("100.0"), D("100.0")],
    ),
    ("fanmilk-style note column", IFRS_NOTE_GRID, "Inventories", [D(55010), D(60114)]),
    ("fanmilk-style two-line cell", IFRS_NOTE_GRID, "Property, plant and equipment", [D(81203), D(77610)]),
]


@pytest.mark.parametrize(("source", "text", "label", "values"), CASES, ids=[c[0] for c in CASES])
def test_grid_values(source, text, label, values):
    statement = parse(text, "balance_sheet" if "POSITION" in text else "income_statement")
    assert {i.label: i.values for i in statement.items}[label] == values


def test_nvidia_p39_columns_from_shifted_headers():
    statement = parse(NVIDIA_P39_SHIFTED)
    assert [c.header for c in statement.columns] == [
        "Year Ended January 26, 2020",
        "Year Ended January 27, 2019",
        "Year Ended January 28, 2018",
    ]
    assert [c.key for c in statement.columns] == ["2020-01-26/12m", "2019-01-27/12m", "2018-01-28/12m"]
    assert statement.text_source.mode == "grid"


def test_nvidia_p42_sub_headers_sit_under_their_group():
    statement = parse(NVIDIA_P42_EQUITY, "shareholders_equity")
    assert [c.header for c in statement.columns] == [
        "Common Stock Shares",
        "Common Stock Amount",
        "Retained",
        "Total",
    ]
    assert statement.columns[0].value_kind == "shares"
    assert statement.items[1].values == [D(0), D(0), D(3047), D(3047)]
    assert statement.unit == "millions"


def test_note_column_is_notes_not_values():
    statement = parse(IFRS_NOTE_GRID, "balance_sheet")
    items = {i.label: i for i in statement.items}
    assert items["Inventories"].notes == ["16"]
    assert len(statement.columns) == 2
    assert statement.currency == "GHS"
    assert statement.unit == "thousands"


@pytest.mark.parametrize(
    ("source", "text", "grid"),
    [
        ("nvidia-10k-2020 p39 table mode", NVIDIA_P39_SHIFTED, True),
        (
            "nvidia scanned p39 layout mode",
            "Revenue      $ 10,918     $ 11,716\nCost          4,150        4,545\n",
            False,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_pipes_detected_whatever_the_declared_mode(source, text, grid):
    assert is_grid(text) is grid


def test_page_without_grid_reads_nothing():
    assert read_grid("Revenue   100   90\n", 1) is None


def test_footnote_marker_in_its_own_cell_is_not_a_value():
    text = """\
CONSOLIDATED STATEMENTS OF OPERATIONS
+-----------+-----+---------+---------+
|           |     | 2024    | 2023    |
+-----------+-----+---------+---------+
| Revenue   | (1) | $ 1,000 | $ 900   |
+-----------+-----+---------+---------+
| Costs     |     | 600     | 540     |
+-----------+-----+---------+---------+
| Other     |     | 7       | (8)     |
+-----------+-----+---------+---------+
"""
    statement = parse(text)
    items = {i.label: i for i in statement.items}
    assert len(statement.columns) == 2
    assert items["Revenue"].values == [D(1000), D(900)]
    assert items["Revenue"].footnotes == ["(1)"]
    assert items["Other"].values == [D(7), D(-8)]
