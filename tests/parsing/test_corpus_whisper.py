"""Every value of the NVIDIA truth files, parsed from the recorded LLMWhisperer texts (both modes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.parsing.corpus import load_truth, parse_recording, score_module, whisper_pages

pytestmark = pytest.mark.corpus

TEN_K = "nvidia-10k-fy2020.json"
RECORDINGS = [
    ("nvidia-10k-fy2020-statements-table.txt", TEN_K, 5),
    ("nvidia-10k-fy2020-p39-income-table.txt", TEN_K, 1),
    ("nvidia-10k-fy2020-p40-comprehensive-table.txt", TEN_K, 1),
    ("nvidia-10k-fy2020-p41-balance-table.txt", TEN_K, 1),
    ("nvidia-10k-fy2020-p42-equity-table.txt", TEN_K, 1),
    ("nvidia-10k-fy2020-p43-cashflow-table.txt+nvidia-10k-fy2020-p44-cashflow-table.txt", TEN_K, 1),
    ("nvidia-fy2020-income-statement-scanned-layout.txt", "nvidia-fy2020-income-statement-scanned.json", 1),
    (
        "nvidia-fy2020-comprehensive-income-scanned-layout.txt",
        "nvidia-fy2020-comprehensive-income-scanned.json",
        1,
    ),
    ("nvidia-fy2020-balance-sheet-scanned-layout.txt", "nvidia-fy2020-balance-sheet-scanned.json", 1),
    (
        "nvidia-fy2020-cashflow-statement-scanned-layout.txt",
        "nvidia-fy2020-cashflow-statement-scanned.json",
        1,
    ),
    (
        "nvidia-fy2020-shareholder-equity-scanned-layout.txt",
        "nvidia-fy2020-shareholder-equity-scanned.json",
        1,
    ),
]


def _norm(label: str) -> str:
    return " ".join(label.replace("’", "'").split()).lower()


def _column_index(expected: dict, columns) -> int:
    for k, column in enumerate(columns):
        same_end = expected.get("period_end") and column.period_end == expected["period_end"]
        if same_end and expected.get("period_months") in (None, column.period_months):
            return k
        if not expected.get("period_end") and _norm(column.header) == _norm(expected["header"]):
            return k
    raise AssertionError(f"no column for {expected}")


@pytest.mark.parametrize(
    ("recording", "truth_name", "count"), RECORDINGS, ids=[r[0][:48] for r in RECORDINGS]
)
def test_every_value_exact(recording, truth_name, count, capsys):
    pages = [page for name in recording.split("+") for page in whisper_pages(name)]
    truth = load_truth(truth_name)
    parsed = parse_recording(pages, truth)
    assert len(parsed.statements) == count
    misses = []
    total = 0
    for statement in parsed.statements:
        expected = next(s for s in truth["statements"] if s["type"] == statement.type)
        assert statement.pages == expected["pages"]
        assert [_norm(i.label) for i in statement.items] == [_norm(i["label"]) for i in expected["items"]]
        columns = [_column_index(c, statement.columns) for c in expected["columns"]]
        assert len(statement.columns) == len(expected["columns"])
        for want, got in zip(expected["items"], statement.items, strict=True):
            for value, k in zip(want["values"], columns, strict=True):
                total += 1
                wanted = None if value is None else Decimal(value)
                if got.values[k] != wanted:
                    misses.append((statement.type, want["label"], k, value, got.values[k]))
            assert got.source is not None and got.source.page in expected["pages"]
    score = score_module()
    with capsys.disabled():
        print(f"\n{recording}: {total - len(misses)}/{total} cells exact (incl. blanks)")
        for expected in truth["statements"]:
            found = [s.model_dump(mode="json") for s in parsed.statements if s.type == expected["type"]]
            if found:
                cells, correct, _, _ = score.score_statement(expected, found[0])
                print(f"  score.py {expected['type']:22s} {correct}/{cells}")
    assert not misses, misses[:20]


def test_mdna_percent_table_is_never_money():
    """p28 is MD&A: its percent-of-revenue table must come out as percentages, not amounts."""
    from app.detection.detect import Detection
    from app.parsing.parse import parse_statement

    pages = whisper_pages("nvidia-10k-fy2020-p28-31-layout.txt")
    detection = Detection(type="income_statement", pages=(28,), confidence=0.1, title="")
    statement = parse_statement(pages, detection)
    rows = {i.label: i for i in statement.items}
    assert rows["Revenue"].value_kind == "percent"
    assert rows["Revenue"].values == [Decimal("100.0"), Decimal("100.0")]
    assert rows["Interest expense"].values == [Decimal("-0.5"), Decimal("-0.5")]
    assert [c.period_end for c in statement.columns] == ["2020-01-26", "2019-01-27"]
