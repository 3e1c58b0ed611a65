"""Compare extracted statements with the hand-checked truth files of ../shared/corpus/truth.

A value counts as exact when its statement type, its row (label matched in order) and its column
(period_end, else header, else position) all match and the decimal is equal. `silent` counts wrong or
missing values inside statements marked verified: the product promises that is always zero.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from app.statements.format import Statement


def shared_dir() -> Path:
    configured = os.environ.get("TIEOUT_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"


def corpus_file(*parts: str) -> Path:
    """Path under ../shared/corpus, or skip the test with the reason when it is absent."""
    path = shared_dir().joinpath("corpus", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus is not beside this clone")
    return path


def load_truth(name: str) -> dict:
    return json.loads(corpus_file("truth", f"{name}.json").read_text())


def norm_label(label: str | None) -> str:
    text = (label or "").lower().replace("’", "'")
    text = re.sub(r"\(\d\)|\*|†|‡", "", text)
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", text).split())


@dataclass
class Score:
    exact: int = 0
    total: int = 0
    silent: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.exact / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.exact}/{self.total} exact ({self.rate:.1%}), silent errors {self.silent}"


def score(statements: list[Statement], truth: dict) -> Score:
    result = Score()
    for expected in truth["statements"]:
        found = [
            s for s in statements if s.type == expected["type"] and set(s.pages) & set(expected["pages"])
        ]
        _score_statement(found[0] if found else None, expected, result)
    return result


def _score_statement(found: Statement | None, expected: dict, result: Score) -> None:
    cells = [
        (i, j) for i, it in enumerate(expected["items"]) for j, v in enumerate(it["values"]) if v is not None
    ]
    result.total += len(cells)
    if found is None:
        result.misses.append(f"{expected['type']}: not found")
        return
    rows = _match_rows(expected["items"], found.items)
    cols = _match_columns(expected["columns"], found)
    for i, j in cells:
        want = Decimal(expected["items"][i]["values"][j])
        got = None
        if i in rows and j in cols and cols[j] < len(found.items[rows[i]].values):
            got = found.items[rows[i]].values[cols[j]]
        if got is not None and Decimal(got) == want:
            result.exact += 1
            continue
        result.silent += found.verified
        result.misses.append(
            f"{expected['type']} | {expected['items'][i]['label']} | col {j}: {got} != {want}"
        )


def _match_rows(expected: list[dict], items) -> dict[int, int]:
    # OCR may lose the spaces between words; the words themselves must still match
    a = [norm_label(x["label"]).replace(" ", "") for x in expected]
    b = [norm_label(x.label).replace(" ", "") for x in items]
    matcher = SequenceMatcher(a=a, b=b, autojunk=False)
    return {blk.a + k: blk.b + k for blk in matcher.get_matching_blocks() for k in range(blk.size)}


def _match_columns(expected: list[dict], found: Statement) -> dict[int, int]:
    mapping: dict[int, int] = {}
    for i, col in enumerate(expected):
        for j, got in enumerate(found.columns):
            if j in mapping.values():
                continue
            if col.get("period_end"):
                same = got.period_end == col["period_end"] and got.period_months in (
                    None,
                    col.get("period_months"),
                )
            else:
                ratio = SequenceMatcher(a=norm_label(col["header"]), b=norm_label(got.header)).ratio()
                same = ratio >= 0.75
            if same:
                mapping[i] = j
                break
    if len(found.columns) == len(expected):
        for i in range(len(expected)):
            if i not in mapping and i not in mapping.values():
                mapping[i] = i
    return mapping
